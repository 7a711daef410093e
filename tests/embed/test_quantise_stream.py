"""int8 quantisation one weight at a time (quantise_stream.py): the same graph as ONNX Runtime's
quantiser, a fraction of its memory, and fp32 kept where it cannot read the graph."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from anagnorisis_tui.core.semantic import onnx_export
from anagnorisis_tui.core.semantic.quantise_stream import quantise_file, symmetric_int8
from tests.support.tiny_onnx import export_rclip_style

ROOT = Path(__file__).resolve().parents[2]


def _run(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {session.get_inputs()[0].name: x})[0])


def _chain(path: Path, weights: list[np.ndarray], *, gemm: bool = False, shared: bool = False):
    """x -> MatMul (or Gemm with a bias, weight stored transposed) -> Relu -> ... -> y; `shared`:
    the first weight is also read by an Add (it must stay fp32)."""
    nodes, inits, a = [], [], "x"
    for i, w in enumerate(weights):
        out = f"h{i}"
        if gemm:
            inits += [numpy_helper.from_array(np.ascontiguousarray(w.T), f"w{i}")]
            inits += [numpy_helper.from_array(np.full(w.shape[1], 0.1, np.float32), f"b{i}")]
            nodes.append(helper.make_node("Gemm", [a, f"w{i}", f"b{i}"], [out], transB=1))
        else:
            inits.append(numpy_helper.from_array(w, f"w{i}"))
            nodes.append(helper.make_node("MatMul", [a, f"w{i}"], [out]))
        nodes.append(helper.make_node("Relu", [out], [f"r{i}"]))
        a = f"r{i}"
    if shared:
        nodes.append(helper.make_node("Add", ["w0", "w0"], ["w0twice"]))
    outputs = [helper.make_tensor_value_info(a, TensorProto.FLOAT, None)]
    if shared:
        outputs.append(helper.make_tensor_value_info("w0twice", TensorProto.FLOAT, None))
    graph = helper.make_graph(
        nodes,
        "chain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, None)],
        outputs,
        inits,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))
    return path


def _ort_quantised(source: Path, target: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(source), str(target), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"]
    )
    return target


def test_the_tiny_models_image_graph_quantises_as_onnx_runtime_does(tiny_embedder, tmp_path):
    graphs = export_rclip_style(tiny_embedder, tmp_path)
    ours = tmp_path / "ours.onnx"
    assert quantise_file(graphs / "visual.onnx", ours) > 0
    theirs = _ort_quantised(graphs / "visual.onnx", tmp_path / "theirs.onnx")
    size = tiny_embedder.image_size
    x = np.random.default_rng(0).normal(size=(4, 3, size, size)).astype(np.float32)
    np.testing.assert_allclose(_run(ours, x), _run(theirs, x), atol=1e-5)
    # and it is int8: MatMulInteger on int8 weights, the file a fraction of fp32's
    model = onnx.load(str(ours))
    assert any(n.op_type == "MatMulInteger" for n in model.graph.node)
    assert ours.stat().st_size < 0.5 * (graphs / "visual.onnx").stat().st_size


@pytest.mark.parametrize("gemm", [False, True])
def test_matmul_and_gemm_weights_become_int8_and_agree_with_fp32(tmp_path, gemm):
    rng = np.random.default_rng(1)
    weights = [rng.normal(size=(32, 32)).astype(np.float32) for _ in range(3)]
    fp32 = _chain(tmp_path / "fp32.onnx", weights, gemm=gemm)
    ours = tmp_path / "int8.onnx"
    assert quantise_file(fp32, ours) == 3
    x = rng.normal(size=(5, 32)).astype(np.float32)
    got, want = _run(ours, x), _run(fp32, x)
    cos = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    assert cos.min() > 0.99
    model = onnx.load(str(ours))
    assert {i.name: i.data_type for i in model.graph.initializer}[
        "w1_quantized"
    ] == TensorProto.INT8
    assert not any(n.op_type in ("MatMul", "Gemm") for n in model.graph.node)
    if not gemm:  # the same bytes as ONNX Runtime's quantiser
        np.testing.assert_array_equal(got, _run(_ort_quantised(fp32, tmp_path / "t.onnx"), x))


def test_a_weight_read_by_another_op_stays_fp32(tmp_path):
    rng = np.random.default_rng(2)
    weights = [rng.normal(size=(8, 8)).astype(np.float32) for _ in range(2)]
    fp32 = _chain(tmp_path / "fp32.onnx", weights, shared=True)
    ours = tmp_path / "int8.onnx"
    assert quantise_file(fp32, ours) == 1
    names = {i.name for i in onnx.load(str(ours)).graph.initializer}
    assert "w0" in names and "w1_quantized" in names and "w1" not in names
    x = rng.normal(size=(3, 8)).astype(np.float32)
    session = ort.InferenceSession(str(ours), providers=["CPUExecutionProvider"])
    np.testing.assert_array_equal(session.run(None, {"x": x})[1], weights[0] * 2)


def test_a_graph_it_cannot_read_keeps_fp32(tmp_path):
    rng = np.random.default_rng(3)
    fp32 = _chain(tmp_path / "fp32.onnx", [rng.normal(size=(64, 64)).astype(np.float32)])
    external = tmp_path / "external.onnx"
    onnx.save(onnx.load(str(fp32)), str(external), save_as_external_data=True, size_threshold=0)
    assert onnx_export.quantise(external, tmp_path / "int8.onnx") is False
    assert not (tmp_path / "int8.onnx").exists()
    nothing = _chain(tmp_path / "none.onnx", [])
    assert onnx_export.quantise(nothing, tmp_path / "int8.onnx") is False
    assert symmetric_int8(np.zeros((2, 2), np.float32))[1] == 1.0  # no division by zero


CHILD = """
import json, sys
from pathlib import Path
import onnx, onnxruntime  # imported before the baseline is read
from anagnorisis_tui.core.semantic import onnx_export
def peak():  # this process's own high-water mark (ru_maxrss keeps the forking parent's)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
before = peak()
onnx_export.quantise(Path(sys.argv[1]), Path(sys.argv[2]))
print(json.dumps({"grew_mb": peak() - before}))
"""


@pytest.mark.slow
def test_quantising_holds_a_fraction_of_the_graph_in_memory(tmp_path):
    """24 weights of 4 MB: ONNX Runtime's quantiser held the fp32 graph twice over and the int8
    one beside it (2.6x the file); one weight at a time, the growth stays under half of it."""
    rng = np.random.default_rng(4)
    weights = [rng.normal(size=(1024, 1024)).astype(np.float32) for _ in range(24)]
    fp32 = _chain(tmp_path / "fp32.onnx", weights)
    del weights
    file_mb = fp32.stat().st_size / 2**20
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(fp32), str(tmp_path / "int8.onnx")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    grew = json.loads(out.stdout.strip().splitlines()[-1])["grew_mb"]
    assert (tmp_path / "int8.onnx").is_file()
    assert grew < 0.5 * file_mb, f"grew {grew:.0f} MB quantising a {file_mb:.0f} MB graph"
