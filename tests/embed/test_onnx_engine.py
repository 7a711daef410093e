"""The ONNX Runtime engine: exported once per model, checked against torch, opened without torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from anagnorisis_tui.core.demo.shapes import iter_images
from anagnorisis_tui.core.semantic import onnx_engine, onnx_export

pytestmark = pytest.mark.slow


def _pixels(size: int, count: int = 12) -> np.ndarray:
    return np.stack([np.asarray(img, np.uint8) for _, img in iter_images(count, size=size)])


@pytest.fixture(scope="module")
def exported(tiny_embedder, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("onnx-data")
    return onnx_export.export(tiny_embedder, data_dir), data_dir


def test_export_agrees_with_torch(exported, tiny_embedder):
    engine, _ = exported
    pixels = _pixels(tiny_embedder.image_size)
    cos = (engine.encode_images(pixels) * tiny_embedder.encode_images(pixels)).sum(1)
    assert cos.min() > 0.999
    texts = ["a red circle", "a blue star on a white background"]
    assert (engine.encode_texts(texts) * tiny_embedder.encode_texts(texts)).sum(1).min() > 0.9995
    spec = engine.spec
    assert spec["probe"]["fp32_vs_torch"]["cos_min"] >= onnx_export.FP32_MIN_COSINE
    assert engine.engine == f"onnx-{spec['precision']}" and engine.dim == tiny_embedder.dim
    assert engine.info()["engine"] == engine.engine


def test_cached_engine_runs_without_torch(exported, tiny_embedder):
    _, data_dir = exported
    code = (
        "import sys, numpy as np\n"
        "from anagnorisis_tui.core.semantic import model_choice as models, onnx_engine\n"
        "choice = models.resolve('tiny-clip', '', 'cpu')\n"
        f"emb = onnx_engine.open_cached(choice, {str(data_dir)!r})\n"
        "v = emb.encode_images(np.zeros((2, emb.image_size, emb.image_size, 3), np.uint8))\n"
        "t = emb.encode_texts(['red circle'])\n"
        "assert v.shape == (2, emb.dim) and t.shape == (1, emb.dim)\n"
        "print(sorted(m for m in ('torch', 'open_clip', 'torchvision') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_int8_only_when_it_agrees_and_is_faster(tiny_embedder, tmp_path, monkeypatch):
    import itertools

    times = itertools.cycle([1.0, 0.5])  # fp32, then int8, each export
    monkeypatch.setattr(onnx_export, "_timed", lambda session, pixels: next(times))
    engine = onnx_export.export(tiny_embedder, tmp_path / "a")
    assert engine.precision == "int8" and engine.spec["image_file"] == "image.int8.onnx"
    assert not (engine.folder / "image.fp32.onnx").exists()  # only the engine in use is kept
    pixels = _pixels(tiny_embedder.image_size)
    assert (engine.encode_images(pixels) * tiny_embedder.encode_images(pixels)).sum(1).min() > 0.99

    monkeypatch.setattr(onnx_export, "INT8_MIN_MEAN_COSINE", 1.01)  # int8 "disagrees"
    assert onnx_export.export(tiny_embedder, tmp_path / "b").precision == "fp32"
    monkeypatch.setattr(onnx_export, "INT8_MIN_MEAN_COSINE", 0.5)
    times = itertools.cycle([0.5, 1.0])  # int8 slower
    monkeypatch.setattr(onnx_export, "_timed", lambda session, pixels: next(times))
    assert onnx_export.export(tiny_embedder, tmp_path / "c").precision == "fp32"


def test_unfinished_or_foreign_export_is_not_used(exported, tiny_embedder, tmp_path):
    import shutil

    _, data_dir = exported
    copy = tmp_path / "copy"
    shutil.copytree(data_dir, copy)
    folder = onnx_engine.cache_dir(copy, tiny_embedder.model_id)
    spec = json.loads((folder / "spec.json").read_text())
    (folder / "spec.json").write_text(json.dumps({**spec, "model_id": "other/model"}))
    assert onnx_engine.open_cached(tiny_embedder.choice, copy) is None
    (folder / "spec.json").unlink()
    assert onnx_engine.open_cached(tiny_embedder.choice, copy) is None


def test_load_engine_prefers_onnx_and_falls_back_to_torch(tiny_embedder, tmp_path, monkeypatch):
    choice = tiny_embedder.choice
    assert onnx_engine.load_engine(choice, tmp_path / "t", engine="torch").engine == "torch"
    first = onnx_engine.load_engine(choice, tmp_path / "d")  # exports
    assert first.engine.startswith("onnx-")
    assert isinstance(onnx_engine.load_engine(choice, tmp_path / "d"), onnx_engine.OnnxEmbedder)

    calls = []

    def broken(emb, path):
        calls.append(path)
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(onnx_export, "export_image_tower", broken)
    emb = onnx_engine.load_engine(choice, tmp_path / "x")
    assert emb.engine == "torch" and len(calls) == 1
    assert "unsupported operator" in onnx_export.refused(tmp_path / "x", choice.model_id)
    assert onnx_engine.load_engine(choice, tmp_path / "x").engine == "torch"
    assert len(calls) == 1  # the refusal is remembered: no second export attempt
    with pytest.raises(onnx_engine.ModelUnavailable, match="unknown engine"):
        onnx_engine.load_engine(choice, tmp_path / "x", engine="tensorrt")


def test_onnx_text_tower_for_models_numpy_does_not_cover(tiny_embedder, tmp_path):
    import shutil

    from anagnorisis_tui.core.semantic import text_numpy

    engine = onnx_export.export(tiny_embedder, tmp_path)
    shutil.rmtree(text_numpy.export_dir(tmp_path, tiny_embedder.model_id))
    assert onnx_engine.open_text(tmp_path, tiny_embedder.model_id) is None  # none exported
    onnx_export.export_text_tower(tiny_embedder, engine.folder / "text.onnx")
    spec = json.loads((engine.folder / "spec.json").read_text())
    (engine.folder / "spec.json").write_text(json.dumps({**spec, "text": "onnx"}))
    code = (
        "import sys\n"
        "from anagnorisis_tui.core.semantic import onnx_engine\n"
        f"text = onnx_engine.open_text({str(tmp_path)!r}, {tiny_embedder.model_id!r})\n"
        "vectors = text.encode_texts(['a red circle', 'blue star'])\n"
        "assert 'torch' not in sys.modules\n"
        "sys.stdout.write(vectors.tobytes().hex())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    vectors = np.frombuffer(bytes.fromhex(out.stdout), np.float32).reshape(2, -1)
    reference = tiny_embedder.encode_texts(["a red circle", "blue star"])
    assert (vectors * reference).sum(1).min() > 0.9999


def test_the_export_reports_its_steps_and_stops_between_them(tiny_embedder, tmp_path):
    import threading

    from anagnorisis_tui.core.base.progress import Cancelled, Progress

    seen: list[Progress] = []
    onnx_export.export(tiny_embedder, tmp_path / "a", progress=seen.append)
    assert {p.stage for p in seen} == {"prepare"}
    steps = [p.done for p in seen]
    assert steps == sorted(steps) and steps[-1] == seen[-1].total == onnx_export.STEPS
    assert seen[-1].detail == "done" and len({p.detail for p in seen}) == onnx_export.STEPS + 1
    from anagnorisis_tui.core.semantic import model_progress

    assert model_progress.text(seen[1]).startswith("preparing the model for this CPU, once: ")

    cancel = threading.Event()

    def stop_at_quantising(p: Progress) -> None:
        if p.detail == "quantising to int8":
            cancel.set()

    with pytest.raises(Cancelled, match="prepares it again"):
        onnx_export.export(
            tiny_embedder, tmp_path / "b", progress=stop_at_quantising, cancel=cancel
        )
    folder = onnx_engine.cache_dir(tmp_path / "b", tiny_embedder.model_id)
    assert not folder.exists() and not list(folder.parent.glob(".export-*"))
    assert onnx_export.refused(tmp_path / "b", tiny_embedder.model_id) is None  # tried again
    assert tiny_embedder.model is not None  # not released unless asked


def test_a_released_torch_model_is_loaded_again_when_the_export_fails(tmp_path, monkeypatch):
    from anagnorisis_tui.core.semantic import model_choice

    choice = model_choice.resolve("tiny-clip", "", "cpu")

    def broken(emb, path):
        emb.model = None  # as the export releases it, then fails
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(onnx_export, "export_image_tower", broken)
    emb = onnx_engine.load_engine(choice, tmp_path)
    assert emb.engine == "torch" and emb.model is not None
    assert emb.encode_texts(["a red circle"]).shape == (1, emb.dim)
