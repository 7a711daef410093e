"""Whether the chosen model can search from local files, said without network or torch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from anagnorisis_tui.core.base.config import DEFAULT_MODEL, DEFAULT_PRETRAINED
from anagnorisis_tui.core.semantic import model_choice as models
from anagnorisis_tui.core.semantic import readiness
from anagnorisis_tui.core.semantic.readiness import Readiness


def _default() -> models.ModelChoice:
    return models.resolve(DEFAULT_MODEL, DEFAULT_PRETRAINED, "cpu")


def test_tiny_model_is_ready(tmp_path: Path) -> None:
    found = readiness.check(models.resolve(models.TINY_CLIP, "", "cpu"), tmp_path)
    assert found.state is Readiness.READY
    assert found.text.startswith("search: ready")


@pytest.mark.slow
def test_default_model_with_empty_hub_cache_needs_download(tmp_path: Path) -> None:
    cache = Path(os.environ["HF_HUB_CACHE"])
    assert not cache.exists() or not any(cache.rglob("*.*"))
    found = readiness.check(_default(), tmp_path)
    assert found.state is Readiness.DOWNLOAD
    assert found.text == "search: needs model weights (downloaded on first use) — see ?"


def test_default_model_offline_is_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    found = readiness.check(_default(), tmp_path)
    assert found.state is Readiness.OFFLINE
    assert found.text == "search: off — weights not on this machine (offline) — see ?"


def _put_in_cache(cache: Path, repo: str, filename: str, data: bytes) -> None:
    """A finished download as the hub client lays it out: blob, snapshot, ref."""
    folder = cache / ("models--" + repo.replace("/", "--"))
    commit = "0" * 40
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / "main").write_text(commit)
    snap = folder / "snapshots" / commit / filename
    snap.parent.mkdir(parents=True, exist_ok=True)
    snap.write_bytes(data)


def test_default_model_weights_in_hub_cache_are_ready_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    repo = readiness.KNOWN_TAGS[_default().model_id].strip("/")
    _put_in_cache(Path(os.environ["HF_HUB_CACHE"]), repo, "open_clip_model.safetensors", b"w")
    assert readiness.check(_default(), tmp_path).state is Readiness.READY


def test_text_export_in_data_dir_is_ready(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    choice = _default()
    folder = tmp_path / "models" / "text" / models.index_name(choice.model_id)
    folder.mkdir(parents=True)
    (folder / "spec.json").write_text(f'{{"format": 1, "model_id": "{choice.model_id}"}}')
    assert readiness.check(choice, tmp_path).state is Readiness.READY


def test_unknown_tag_is_not_claimed(tmp_path: Path) -> None:
    choice = models.resolve("ViT-B-16", "laion2b_s34b_b88k", "cpu")
    found = readiness.check(choice, tmp_path)
    assert found.state is Readiness.UNKNOWN and found.text == ""


@pytest.mark.slow
def test_known_tags_match_open_clip() -> None:
    from anagnorisis_tui.core.semantic.torch_compat import import_open_clip

    open_clip = import_open_clip()
    for model_id, entry in readiness.KNOWN_TAGS.items():
        name, tag = model_id.split("/")
        assert open_clip.get_pretrained_cfg(name, tag)["hf_hub"] == entry
