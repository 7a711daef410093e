"""The image tower read out of an fp32 ONNX image graph into numpy (image_numpy.py).

The shipped tiny CLIP's image graph, exported the way rclip exports its own (the hub's form), is
read out; the numpy tower must give the graph's vectors (and the torch model's), be published
private to its user, and be made again from the graph when its file is missing or corrupt -
never used with weights that fail their hash.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import numpy as np
import pytest

from anagnorisis_tui.core.semantic import image_numpy, onnx_engine, onnx_export
from anagnorisis_tui.core.semantic import model_choice as models
from anagnorisis_tui.core.semantic import probe as probes
from anagnorisis_tui.core.semantic.onnx_models import normalise_pixels, open_session, unit_rows
from tests.support.tiny_onnx import export_rclip_style, tiny_graphs_hub

REPO = "test-org/tiny-clip-onnx"


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory, tiny_embedder) -> Path:
    return export_rclip_style(tiny_embedder, tmp_path_factory.mktemp("tiny-onnx"))


def _graph_vectors(graph: Path, pixels: np.ndarray, emb) -> np.ndarray:
    session = open_session(graph)
    feed = normalise_pixels(pixels, np.asarray(emb.mean), np.asarray(emb.std))
    return unit_rows(session.run(None, {session.get_inputs()[0].name: feed})[0])


def _pixels(emb, count: int = 7, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (count, emb.image_size, emb.image_size, 3), dtype=np.uint8)


def test_the_tower_gives_the_graphs_vectors_and_is_private(graphs, tiny_embedder, tmp_path):
    emb = tiny_embedder
    probe = probes.probe_images(emb.image_size)
    reference = _graph_vectors(graphs / "visual.onnx", probe, emb)
    assert image_numpy.export(graphs / "visual.onnx", tmp_path, emb.mean, emb.std, probe, reference)
    for name in (image_numpy.FILE, image_numpy.SPEC):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    tower = image_numpy.open_tower(tmp_path)
    assert tower is not None
    pixels = _pixels(emb)  # an odd batch, split between the tower's threads
    got = tower.encode_images(pixels)
    assert got.dtype == np.float32 and got.shape == (7, emb.dim)
    assert (got * _graph_vectors(graphs / "visual.onnx", pixels, emb)).sum(1).min() > 0.9999
    assert (got * emb.encode_images(pixels)).sum(1).min() > 0.9999
    one = image_numpy.NumpyImageTower(tower.spec, tower.w, threads=1)
    assert np.allclose(one.encode_images(pixels[:1]), got[:1], atol=1e-5)


def test_a_graph_of_another_shape_leaves_nothing(graphs, tiny_embedder, tmp_path):
    emb = tiny_embedder
    probe = probes.probe_images(emb.image_size)
    reference = _graph_vectors(graphs / "visual.onnx", probe, emb)
    # The text graph is no vision transformer; vectors that disagree are refused too.
    assert not image_numpy.export(
        graphs / "textual.onnx", tmp_path, emb.mean, emb.std, probe, reference
    )
    assert not image_numpy.export(
        graphs / "visual.onnx", tmp_path, emb.mean, emb.std, probe, reference[::-1].copy()
    )
    assert not any(tmp_path.iterdir())


@pytest.fixture
def fp32_engine(graphs, tiny_embedder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The tiny model prepared from the hub's graphs, int8 not offered (as when the int8
    graph does not agree): the fp32 graph is kept and the numpy tower read out of it."""
    with tiny_graphs_hub(graphs, tiny_embedder, REPO, monkeypatch, tmp_path):
        monkeypatch.setattr(onnx_export, "quantise", lambda _src, _dst: False)
        choice = models.resolve(models.TINY_CLIP, "", "cpu")
        yield choice, onnx_engine.load_engine(choice, tmp_path / "data")


def test_the_prepared_model_embeds_through_the_tower(fp32_engine, graphs, tiny_embedder):
    _, emb = fp32_engine
    assert emb.spec["precision"] == "fp32" and emb.spec["image_numpy"] is True
    assert emb.image_tower is not None and emb.session is None  # no ONNX session opened
    pixels = _pixels(tiny_embedder, 5, seed=3)
    want = _graph_vectors(emb.folder / "image.fp32.onnx", pixels, tiny_embedder)
    assert (emb.encode_images(pixels) * want).sum(1).min() > 0.9999


@pytest.mark.parametrize("damage", ["flipped", "truncated", "spec gone", "spec garbage"])
def test_a_corrupt_tower_is_made_again_from_the_graph(fp32_engine, tiny_embedder, tmp_path, damage):
    choice, emb = fp32_engine
    folder = emb.folder
    weights_file, spec_file = folder / image_numpy.FILE, folder / image_numpy.SPEC
    published = json.loads(spec_file.read_text("utf-8"))
    if damage == "flipped":  # one weight changed: the size is right, the hash is not
        with open(weights_file, "r+b") as f:
            f.seek(weights_file.stat().st_size // 2)
            byte = f.read(4)
            f.seek(-4, 1)
            f.write(np.float32(np.frombuffer(byte, "<f4")[0] + 1.0).tobytes())
    elif damage == "truncated":
        with open(weights_file, "r+b") as f:
            f.truncate(weights_file.stat().st_size // 3)
    elif damage == "spec gone":
        spec_file.unlink()
    else:
        spec_file.write_text("{not json", "utf-8")
    assert image_numpy.open_tower(folder) is None  # never used as it is
    again = onnx_engine.open_cached(choice, tmp_path / "data")
    assert again is not None and again.image_tower is not None
    assert json.loads(spec_file.read_text("utf-8"))["sha256"] == published["sha256"]
    assert stat.S_IMODE(weights_file.stat().st_mode) == 0o600
    pixels = _pixels(tiny_embedder, 4, seed=5)
    want = _graph_vectors(folder / "image.fp32.onnx", pixels, tiny_embedder)
    assert (again.encode_images(pixels) * want).sum(1).min() > 0.9999
