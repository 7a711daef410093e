"""Dynamic int8 quantisation of an ONNX graph, one weight at a time: a first run that fits 1 GB.

ONNX Runtime's `quantize_dynamic` loads the whole fp32 graph (and a shape-inferred copy) and
builds the int8 graph beside it: 1.2 GB at the peak for the default model's 351 MB image graph,
more than the rest of its first run and more than many NAS boxes have. This module writes the
same int8 graph - every MatMul whose weight is a 2-D float initializer (and every Gemm that is
such a MatMul plus a bias, as ONNX Runtime rewrites them first) becomes ONNX Runtime's
dynamic form: DynamicQuantizeLinear of the activation (uint8), MatMulInteger with the weight in
symmetric per-tensor int8, Cast, and the two scales multiplied in (the pattern ONNX Runtime
fuses into one DynamicQuantizeMatMul when the session opens) - while holding one weight at a
time: the file is read through its protobuf wire format, the graph without its initializers is
parsed, and each initializer is read, converted and appended on its own. Peak: the int8 graph
being built (a quarter of the fp32 one) plus one weight.

Everything else (Conv - the patch embedding, 3% of the image tower's weights -, Gather, biases,
norms) stays fp32: the caller checks the int8
graph's vectors against fp32's before it is used (onnx_export.choose_precision).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

MODEL_GRAPH = 7  # ModelProto.graph
GRAPH_NODE = 1  # GraphProto.node
GRAPH_INITIALIZER = 5  # GraphProto.initializer
GRAPH_INPUT = 11  # GraphProto.input
LEN = 2  # wire type of strings, bytes and embedded messages
QMAX = 127  # symmetric int8, as ONNX Runtime quantises weights


class QuantiseError(ValueError):
    """The file is not a graph this quantiser can read (the caller keeps fp32)."""


def _varint(f: IO[bytes]) -> int:
    value = shift = 0
    while True:
        byte = f.read(1)
        if not byte:
            raise QuantiseError("the ONNX file ends inside a field")
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
        shift += 7
        if shift > 63:
            raise QuantiseError("a malformed varint in the ONNX file")


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _fields(f: IO[bytes], start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(field number, offset of its tag, offset of its value, end) of each field in a message
    stored at [start, end) of the file; the value of a LEN field is not read."""
    at = start
    while at < end:
        f.seek(at)
        key = _varint(f)
        field, wire = key >> 3, key & 7
        value_at = f.tell()
        if wire == 0:
            _varint(f)
            stop = f.tell()
        elif wire == 1:
            stop = value_at + 8
        elif wire == LEN:
            length = _varint(f)
            value_at = f.tell()
            stop = value_at + length
        elif wire == 5:
            stop = value_at + 4
        else:
            raise QuantiseError(f"unsupported wire type {wire} in the ONNX file")
        if stop > end:
            raise QuantiseError("a field runs past the end of its message")
        yield field, at, value_at, stop
        at = stop


def _read(f: IO[bytes], start: int, stop: int) -> bytes:
    f.seek(start)
    data = f.read(stop - start)
    if len(data) != stop - start:
        raise QuantiseError("the ONNX file is truncated")
    return data


def _field_bytes(field: int, payload: bytes) -> bytes:
    return _encode_varint(field << 3 | LEN) + _encode_varint(len(payload)) + payload


def symmetric_int8(weight: np.ndarray) -> tuple[np.ndarray, np.float32]:
    """Per-tensor symmetric int8, as ONNX Runtime's quantiser does for QInt8 weights:
    scale = max|w| / 127, zero point 0."""
    absmax = float(np.abs(weight).max()) if weight.size else 0.0
    scale = np.float32(absmax / QMAX) if absmax > 0 else np.float32(1.0)
    q = np.clip(np.round(weight.astype(np.float32) / scale), -QMAX, QMAX).astype(np.int8)
    return q, scale


def _uses(graph: Any, into: dict[str, set[tuple[str, int]]], nested: bool = False) -> None:
    """Every (op type, input position) that reads each name; a read inside a subgraph (If,
    Loop) counts as ("subgraph", 0): only the main graph's nodes are rewritten."""
    for node in graph.node:
        for i, name in enumerate(node.input):
            into.setdefault(name, set()).add(("subgraph", 0) if nested else (node.op_type, i))
        for attr in node.attribute:
            for sub in [attr.g] if attr.HasField("g") else list(attr.graphs):
                _uses(sub, into, nested=True)


def _gemm_as_matmul(node: Any) -> bool | None:
    """For a Gemm that is a MatMul plus a bias (alpha = beta = 1, A not transposed): whether
    its weight is transposed; None for any other Gemm (left as it is)."""
    from onnx import helper

    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0 or attrs.get("transA", 0):
        return None
    return bool(attrs.get("transB", 0))


def _weights(graph: Any) -> dict[str, bool]:
    """The initializers to quantise: read only as the weight of MatMuls or of Gemms that are
    a MatMul plus a bias, always the same way; each with whether it is stored transposed."""
    uses: dict[str, set[tuple[str, int]]] = {}
    _uses(graph, uses)
    transposed: dict[str, set[bool | None]] = {}
    for node in graph.node:
        if node.op_type == "MatMul" and len(node.input) == 2:
            transposed.setdefault(node.input[1], set()).add(False)
        elif node.op_type == "Gemm" and len(node.input) >= 2:
            transposed.setdefault(node.input[1], set()).add(_gemm_as_matmul(node))
    out: dict[str, bool] = {}
    for name, how in uses.items():
        flags = transposed.get(name, set())
        if how <= {("MatMul", 1), ("Gemm", 1)} and len(flags) == 1 and None not in flags:
            out[name] = bool(next(iter(flags)))
    return out


def _rewrite(graph: Any, quantised: set[str]) -> list[Any]:
    """The graph's nodes with each MatMul (or Gemm as MatMul plus bias) on a quantised weight
    in ONNX Runtime's dynamic form; one DynamicQuantizeLinear per activation, placed before
    its first use."""
    from onnx import TensorProto, helper

    nodes: list[Any] = []
    activations: set[str] = set()
    for node in graph.node:
        if node.op_type not in ("MatMul", "Gemm") or node.input[1] not in quantised:
            nodes.append(node)
            continue
        a, w, y = node.input[0], node.input[1], node.output[0]
        name = node.name or f"{y}_matmul"
        bias = node.input[2] if node.op_type == "Gemm" and len(node.input) > 2 else ""
        if bias:
            name, y = f"{name}_MatMul", f"{y}_MatMul_output"
        if a not in activations:
            activations.add(a)
            nodes.append(
                helper.make_node(
                    "DynamicQuantizeLinear",
                    [a],
                    [f"{a}_quantized", f"{a}_scale", f"{a}_zero_point"],
                    name=f"{a}_QuantizeLinear",
                )
            )
        scales = f"{name}_quant_scales_mul:0"
        nodes += [
            helper.make_node(
                "Mul", [f"{a}_scale", f"{w}_scale"], [scales], name=f"{name}_quant_scales_mul"
            ),
            helper.make_node(
                "MatMulInteger",
                [f"{a}_quantized", f"{w}_quantized", f"{a}_zero_point", f"{w}_zero_point"],
                [f"{y}_output_quantized"],
                name=f"{name}_quant",
            ),
            helper.make_node(
                "Cast",
                [f"{y}_output_quantized"],
                [f"{y}_output_quantized_cast_output"],
                name=f"{y}_output_quantized_cast",
                to=TensorProto.FLOAT,
            ),
            helper.make_node(
                "Mul",
                [f"{y}_output_quantized_cast_output", scales],
                [y],
                name=f"{name}_quant_output_scale_mul",
            ),
        ]
        if bias:
            nodes.append(helper.make_node("Add", [y, bias], [node.output[0]], name=f"{name}_Add"))
    return nodes


def skeleton(f: IO[bytes]) -> tuple[Any, Any, list[tuple[int, int]]]:
    """(the ModelProto without its graph, the GraphProto without its initializers, where each
    initializer is in the file): a graph's structure without reading its weights."""
    import onnx

    size = os.fstat(f.fileno()).st_size
    model_rest: list[bytes] = []
    graph_span: tuple[int, int] | None = None
    for field, tag_at, value_at, stop in _fields(f, 0, size):
        if field != MODEL_GRAPH:
            model_rest.append(_read(f, tag_at, stop))
        elif graph_span is None:
            graph_span = (value_at, stop)
        else:
            raise QuantiseError("the ONNX file stores its graph in pieces")
    if graph_span is None:
        raise QuantiseError("the ONNX file has no graph")
    graph_rest: list[bytes] = []
    initializers: list[tuple[int, int]] = []
    for field, tag_at, value_at, stop in _fields(f, *graph_span):
        if field == GRAPH_INITIALIZER:
            initializers.append((value_at, stop))
        else:
            graph_rest.append(_read(f, tag_at, stop))
    model = onnx.ModelProto.FromString(b"".join(model_rest))
    graph = onnx.GraphProto.FromString(b"".join(graph_rest))
    return model, graph, initializers


def read_tensors(
    f: IO[bytes], spans: list[tuple[int, int]], names: set[str]
) -> Iterator[tuple[str, np.ndarray]]:
    """(name, array) of the initializers named, read one at a time."""
    import onnx
    from onnx import numpy_helper

    for value_at, stop in spans:
        tensor = onnx.TensorProto.FromString(_read(f, value_at, stop))
        if tensor.name in names:
            if tensor.data_location == onnx.TensorProto.EXTERNAL:
                raise QuantiseError("the ONNX file keeps its weights in external data")
            yield tensor.name, numpy_helper.to_array(tensor)


def quantise_file(source: Path, target: Path) -> int:
    """Write the dynamic int8 form of the graph at `source` to `target`, one weight in memory
    at a time; returns how many weights were quantised (0: nothing to quantise, no file
    written). Raises QuantiseError for a file it cannot read (external data, a second graph)."""
    import onnx
    from onnx import numpy_helper

    with open(source, "rb") as f:
        model, graph, initializers = skeleton(f)
        wanted = _weights(graph)
        chunks: list[bytes] = []
        quantised: set[str] = set()
        for value_at, stop in initializers:
            tensor = onnx.TensorProto.FromString(_read(f, value_at, stop))
            if tensor.data_location == onnx.TensorProto.EXTERNAL:
                raise QuantiseError("the ONNX file keeps its weights in external data")
            if (
                tensor.name not in wanted
                or tensor.data_type != onnx.TensorProto.FLOAT
                or len(tensor.dims) != 2
            ):
                chunks.append(_field_bytes(GRAPH_INITIALIZER, _read(f, value_at, stop)))
                continue
            name = tensor.name
            weight = numpy_helper.to_array(tensor)
            q, scale = symmetric_int8(weight.T if wanted[name] else weight)
            del weight
            del tensor
            for made in (
                numpy_helper.from_array(np.ascontiguousarray(q), f"{name}_quantized"),
                numpy_helper.from_array(np.array(scale, np.float32), f"{name}_scale"),
                numpy_helper.from_array(np.array(0, np.int8), f"{name}_zero_point"),
            ):
                chunks.append(_field_bytes(GRAPH_INITIALIZER, made.SerializeToString()))
            quantised.add(name)
    if not quantised:
        return 0
    nodes = _rewrite(graph, quantised)
    graph.ClearField("node")
    graph.node.extend(nodes)
    kept = [i for i in graph.input if i.name not in quantised]
    graph.ClearField("input")
    graph.input.extend(kept)
    head = graph.SerializeToString()
    length = len(head) + sum(len(c) for c in chunks)
    with open(target, "wb") as out:
        out.write(model.SerializeToString())
        out.write(_encode_varint(MODEL_GRAPH << 3 | LEN) + _encode_varint(length))
        out.write(head)
        for chunk in chunks:
            out.write(chunk)
    return len(quantised)


# What a graph reader looks for: {our key: (initializer name, given transposed)} and its facts.
Located = tuple[dict[str, tuple[str, bool]], dict[str, Any]]


def read_located(
    graph_path: Path, find: Callable[[Any], Located | None]
) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """The weights `find` locates in the graph at `graph_path` (given its GraphProto without
    initializers), keyed and ordered as it names them, transposed where it says, with its facts;
    None when it finds nothing, a weight is missing, or the file cannot be read. The weights
    are read one at a time (the numpy image and text towers, text_onnx.py and image_numpy.py)."""
    try:
        with open(graph_path, "rb") as f:
            _, graph, spans = skeleton(f)
            located = find(graph)
            if located is None:
                return None
            where, facts = located
            by_source: dict[str, list[tuple[str, bool]]] = {}
            for key, (name, transposed) in where.items():
                by_source.setdefault(name, []).append((key, transposed))
            read: dict[str, np.ndarray] = {}
            for name, value in read_tensors(f, spans, set(by_source)):
                for key, transposed in by_source[name]:
                    read[key] = value.T if transposed else value
    except (OSError, QuantiseError, ValueError):
        return None
    if len(read) != len(where):
        return None
    return {key: read[key] for key in where}, facts
