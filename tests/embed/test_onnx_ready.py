"""A first use from the hub's ready ONNX graphs (onnx_ready.py), against tests/support/hubserver.py.

The hub serves the shipped tiny CLIP's image and text graphs made the way rclip's
scripts/convert_model.py makes its graphs (fp32, opset 18, input "input", output "output"); the
engine must download and verify them, embed as the torch model does, publish nothing on a
corrupt file, fall back to the torch export where the hub lacks them, and never import torch.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from anagnorisis_tui.core.semantic import model_choice as models
from anagnorisis_tui.core.semantic import onnx_engine, onnx_ready, weights
from anagnorisis_tui.core.semantic.model_choice import ModelUnavailable
from tests.support.tiny_onnx import export_rclip_style, tiny_graphs_hub, tiny_ready_graphs
from tests.support.waiting import PROCESS_HANG_S

REPO = "test-org/tiny-clip-onnx"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory, tiny_embedder) -> Path:
    """visual.onnx and textual.onnx of the tiny model, exported as rclip exports its own."""
    return export_rclip_style(tiny_embedder, tmp_path_factory.mktemp("tiny-onnx"))


def _ready(emb) -> onnx_ready.ReadyGraphs:
    return tiny_ready_graphs(emb, REPO)


@pytest.fixture
def hub(graphs: Path, tiny_embedder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    with tiny_graphs_hub(graphs, tiny_embedder, REPO, monkeypatch, tmp_path) as server:
        yield server


def _choice():
    return models.resolve(models.TINY_CLIP, "", "cpu")


def test_the_first_use_takes_the_hubs_graphs_and_embeds_as_torch(hub, tiny_embedder, tmp_path):
    seen = []
    emb = onnx_engine.load_engine(_choice(), tmp_path / "data", progress=seen.append)
    assert isinstance(emb, onnx_engine.OnnxEmbedder)
    assert emb.spec["source"] == f"{REPO}@main" and emb.spec["pixels"] == "normalised"
    assert emb.spec["text"] == "numpy" and not (emb.folder / "text.onnx").exists()
    assert {p.stage for p in seen} >= {"download", "prepare"}
    texts = ["a red circle", "a blue square on a white background"]
    cos = (emb.encode_texts(texts) * tiny_embedder.encode_texts(texts)).sum(1)
    assert cos.min() > 0.9999
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (6, emb.image_size, emb.image_size, 3)).astype(np.uint8)
    cos = (emb.encode_images(pixels) * tiny_embedder.encode_images(pixels)).sum(1)
    assert cos.min() > (0.98 if emb.precision == "int8" else 0.9999)

    # The next process opens the published folder: nothing is fetched again.
    before = len(hub.files.gets())
    again = onnx_engine.load_engine(_choice(), tmp_path / "data")
    assert again.spec == emb.spec and len(hub.files.gets()) == before


def test_a_corrupt_graph_is_refused_and_nothing_is_published(hub, tmp_path):
    hub.files.corrupt = True
    with pytest.raises(ModelUnavailable, match="arrived corrupt") as caught:
        onnx_engine.load_engine(_choice(), tmp_path / "data")
    assert isinstance(caught.value.__cause__, weights.Corrupt)
    folder = onnx_engine.cache_dir(tmp_path / "data", _choice().model_id)
    assert not (folder / "spec.json").exists()


def test_a_hub_without_the_graphs_falls_back_to_the_torch_export(hub, tmp_path):
    hub.files.files.clear()
    emb = onnx_engine.load_engine(_choice(), tmp_path / "data")
    assert isinstance(emb, onnx_engine.OnnxEmbedder) and "source" not in emb.spec


CHILD = """
import json, sys
from anagnorisis_tui.core.semantic import model_choice, onnx_engine, onnx_ready
ready = onnx_ready.ReadyGraphs(**json.loads(sys.argv[2]))
choice = model_choice.resolve(model_choice.TINY_CLIP, "", "cpu")
onnx_ready.READY[choice.model_id] = ready
emb = onnx_engine.load_engine(choice, sys.argv[1])
emb.encode_texts(["a red circle"])
print(json.dumps({"source": emb.spec.get("source"), "torch": "torch" in sys.modules}))
"""


def test_the_ready_path_never_imports_torch(hub, tiny_embedder, tmp_path):
    ready = _ready(tiny_embedder).__dict__
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "data"), json.dumps(ready)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=PROCESS_HANG_S,
        check=True,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {
        "source": f"{REPO}@main",
        "torch": False,
    }


def test_an_unreachable_hub_is_an_error_not_a_silent_torch_export(hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(ModelUnavailable, match="cannot get the weights for .*cannot reach"):
        onnx_engine.load_engine(_choice(), tmp_path / "data")
    assert not (onnx_engine.cache_dir(tmp_path / "data", _choice().model_id) / "spec.json").exists()


def test_the_hubs_text_graph_becomes_the_numpy_text_tower(graphs, tiny_embedder, tmp_path):
    """A search then memory-maps one file instead of opening the ONNX text graph; the tower
    read out of the graph agrees with the torch model's own text tower."""
    from anagnorisis_tui.core.semantic import text_numpy, text_onnx

    model_id = tiny_embedder.model_id
    context = int(tiny_embedder.tokenizer.context_length)
    assert text_onnx.export(
        graphs / "textual.onnx", tmp_path, model_id, context, tiny_embedder.encode_texts
    )
    tower = text_numpy.NumpyTextEncoder.open(tmp_path, model_id)
    assert tower is not None
    texts = ["a red circle", "a small blue square on grey", "x" * 200]
    cos = (tower.encode_texts(texts) * tiny_embedder.encode_texts(texts)).sum(1)
    assert cos.min() > 0.9999
    # Not a text tower (the image graph), or a reference it does not agree with: nothing.
    other = tmp_path / "other"
    assert not text_onnx.export(
        graphs / "visual.onnx", other, model_id, context, tiny_embedder.encode_texts
    )
    assert not text_onnx.export(
        graphs / "textual.onnx", other, model_id, context, lambda t: -tiny_embedder.encode_texts(t)
    )
    assert text_numpy.NumpyTextEncoder.open(other, model_id) is None
