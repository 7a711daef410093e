"""`embed` with a model that is not on this machine yet: downloaded from the hub named by
HF_ENDPOINT (tests/support/hubserver.py on 127.0.0.1), a note when it starts and ends, then embedded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anagnorisis_tui.core.semantic import model_choice
from tests.cli.test_scan_cli import run_cli
from tests.support.hubserver import LocalHub
from tests.support.imagefiles import jpeg_bytes, write

pytestmark = pytest.mark.slow


REPO = "test-org/tiny-clip"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch):
    with LocalHub() as server:
        config = (model_choice.TINY_CLIP_DIR / "open_clip_config.json").read_text()
        server.files.add(REPO, "open_clip_config.json", json.dumps(json.loads(config)).encode())
        weights = model_choice.TINY_CLIP_DIR / "open_clip_model.safetensors"
        server.files.add(REPO, "open_clip_model.safetensors", weights)
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        yield server


def test_embed_downloads_the_model_with_notes_then_embeds(hub: LocalHub, tmp_path: Path):
    root = tmp_path / "photos"
    for i in range(3):
        write(root / f"p{i}.jpg", jpeg_bytes(i, (40, 30)))
    args = ["embed", str(root), "--model", f"hf-hub:{REPO}", "--device", "cpu"]
    out = run_cli(*args, "--data-dir", str(tmp_path / "data"))
    assert out.returncode == 0, out.stderr
    assert "downloading open_clip_model.safetensors (6.8 MB)" in out.stderr
    assert "downloaded open_clip_model.safetensors" in out.stderr
    assert "embedded 3 images" in out.stdout and f"hf-hub:{REPO}" in out.stdout
    again = run_cli(*args, "--data-dir", str(tmp_path / "data"))
    assert again.returncode == 0 and "downloading" not in again.stderr  # kept in the hub cache
