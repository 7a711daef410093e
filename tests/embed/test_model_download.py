"""A model whose weights come from the model hub, end to end, against tests/support/hubserver.py.

The hub serves the shipped tiny model as an open_clip repo; the engine must download it through
core/semantic/weights.py (progress reported), load it, and embed exactly as the shipped copy does.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from anagnorisis_tui.core.base.progress import Cancelled, Progress
from anagnorisis_tui.core.semantic import engine as embeddings
from anagnorisis_tui.core.semantic import model_choice as models
from tests.support.hubserver import LocalHub

pytestmark = pytest.mark.slow


REPO = "test-org/tiny-clip"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch):
    with LocalHub() as server:
        config = json.loads((models.TINY_CLIP_DIR / "open_clip_config.json").read_text())
        server.files.add(REPO, "open_clip_config.json", json.dumps(config).encode())
        server.files.add(
            REPO,
            "open_clip_model.safetensors",
            models.TINY_CLIP_DIR / "open_clip_model.safetensors",
        )
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        yield server


def test_an_hf_hub_model_downloads_with_progress_and_embeds_as_the_shipped_one(
    hub: LocalHub, tiny_embedder
):
    seen: list[Progress] = []
    choice = models.resolve(f"hf-hub:{REPO}", "", "cpu")
    assert choice.model_id == f"hf-hub/{REPO}" and not choice.is_local
    emb = embeddings.load(choice, progress=seen.append)

    downloads = [p for p in seen if p.stage == "download"]
    size = (models.TINY_CLIP_DIR / "open_clip_model.safetensors").stat().st_size
    assert downloads and downloads[-1].done == downloads[-1].total == size
    texts = ["a red circle", "a blue square on a white background"]
    assert np.allclose(emb.encode_texts(texts), tiny_embedder.encode_texts(texts), atol=1e-5)
    pixels = np.random.default_rng(0).integers(0, 255, (2, emb.image_size, emb.image_size, 3))
    pixels = pixels.astype(np.uint8)
    assert np.allclose(emb.encode_images(pixels), tiny_embedder.encode_images(pixels), atol=1e-5)

    # A second load is offline-capable: nothing is fetched again.
    before = len(hub.files.gets())
    embeddings.load(choice)
    assert len(hub.files.gets()) == before


def test_a_pretrained_tag_downloads_through_the_same_path(
    hub: LocalHub, monkeypatch: pytest.MonkeyPatch
):
    """An open_clip tag (as `ViT-B-32 laion2b_s34b_b79k` is) resolved to its hub repo."""
    open_clip = embeddings._open_clip()
    monkeypatch.setitem(
        open_clip.pretrained._PRETRAINED, "tiny-clip", {"hub": {"hf_hub": f"{REPO}/"}}
    )
    emb = embeddings.load(models.ModelChoice("tiny-clip", "hub", None, None, "cpu", "t/hub"))
    assert emb.dim > 0
    assert [r[1].rsplit("/", 1)[-1] for r in hub.files.gets()] == ["open_clip_model.safetensors"]


def test_cancel_during_the_download_stops_the_load(hub: LocalHub):
    cancel = threading.Event()

    def stop(p: Progress) -> None:
        if p.stage == "download" and p.done:
            cancel.set()

    with pytest.raises(Cancelled):
        embeddings.load(models.resolve(f"hf-hub:{REPO}", "", "cpu"), progress=stop, cancel=cancel)


def test_no_hub_gives_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(models.ModelUnavailable) as caught:
        embeddings.load(models.resolve(f"hf-hub:{REPO}", "", "cpu"))
    message = str(caught.value)
    assert "cannot reach http://127.0.0.1:9" in message
    assert "--pretrained /path/to/that/file" in message and "tiny-clip" in message
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(models.ModelUnavailable, match="HF_HUB_OFFLINE"):
        embeddings.load(models.resolve(f"hf-hub:{REPO}", "", "cpu"))


def _other_weights() -> bytes:
    """The tiny model with another text projection: a second revision that embeds differently."""
    import safetensors.numpy

    state = safetensors.numpy.load_file(models.TINY_CLIP_DIR / "open_clip_model.safetensors")
    state["text_projection"] = state["text_projection"][:, ::-1].copy()
    return safetensors.numpy.save(state)


def test_a_revision_is_downloaded_loaded_and_cached_on_its_own(
    hub: LocalHub, monkeypatch: pytest.MonkeyPatch
):
    config = (models.TINY_CLIP_DIR / "open_clip_config.json").read_bytes()
    hub.files.add(REPO, "open_clip_config.json", config, revision="v2")
    hub.files.add(REPO, "open_clip_model.safetensors", _other_weights(), revision="v2")
    main_choice = models.resolve(f"hf-hub:{REPO}", "", "cpu")
    v2_choice = models.resolve(f"hf-hub:{REPO}@v2", "", "cpu")
    assert v2_choice.model_id == f"hf-hub/{REPO}@v2" != main_choice.model_id
    assert models.resolve(f"hf-hub:{REPO}@main", "", "cpu").model_id == main_choice.model_id

    texts = ["a red circle"]
    v2 = embeddings.load(v2_choice).encode_texts(texts)
    assert hub.files.gets() and all("/resolve/v2/" in r[1] for r in hub.files.gets())
    main = embeddings.load(main_choice).encode_texts(texts)
    assert not np.allclose(v2, main, atol=1e-3)  # each revision's own weights

    # Each revision is kept apart in the cache: offline, both load again, each its own.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert np.allclose(embeddings.load(v2_choice).encode_texts(texts), v2, atol=1e-5)
    assert np.allclose(embeddings.load(main_choice).encode_texts(texts), main, atol=1e-5)


def test_an_unknown_revision_says_so(hub: LocalHub):
    with pytest.raises(models.ModelUnavailable, match="has no revision 'nope'"):
        embeddings.load(models.resolve(f"hf-hub:{REPO}@nope", "", "cpu"))
    with pytest.raises(models.ModelUnavailable, match="after @ name a revision"):
        models.resolve(f"hf-hub:{REPO}@", "", "cpu")
