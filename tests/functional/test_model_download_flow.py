"""A first run in the app: the model's weights download with progress on screen, `x` stops it,
the next embed resumes it and then shows the one-time preparation for the CPU (against
tests/support/hubserver.py on 127.0.0.1)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from textual.widgets import Static

from anagnorisis_tui.core.base.config import replace
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.semantic import model_choice as models
from anagnorisis_tui.ui.widgets.job_panel import JobPanel
from anagnorisis_tui.ui.widgets.mode_bar import ModeBar
from tests.support.hubserver import LocalHub

pytestmark = pytest.mark.slow


REPO = "test-org/tiny-clip"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch):
    with LocalHub() as server:
        config = (models.TINY_CLIP_DIR / "open_clip_config.json").read_text()
        server.files.add(REPO, "open_clip_config.json", json.dumps(json.loads(config)).encode())
        server.files.add(
            REPO,
            "open_clip_model.safetensors",
            models.TINY_CLIP_DIR / "open_clip_model.safetensors",
        )
        server.files.chunk_delay = 0.1  # ~10 s for the 6.8 MB file: time to see and cancel it
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        yield server


def _panel_text(app) -> str:
    panel = app.screen.query_one(JobPanel)
    return " ".join(str(s.render()) for s in panel.query(Static))


async def _until(pilot, check, rounds: int = 6000) -> bool:
    """Wait for `check` (at most 5 minutes: a loaded machine imports torch slowly)."""
    for _ in range(rounds):
        if check():
            return True
        await pilot.pause(0.05)
    return False


async def test_download_progress_cancel_and_resume(
    hub: LocalHub, library: Library, photo_root: Path, make_test_app, settle
):
    chosen = replace(library.settings, model=f"hf-hub:{REPO}", pretrained="", device="cpu")
    library = Library(chosen)  # settings never change: a library opened with the chosen model
    app = make_test_app(library)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        assert await _until(pilot, lambda: "downloading open_clip_model" in _panel_text(app))
        assert await _until(
            pilot, lambda: "Model download" in str(app.screen.query_one(ModeBar).render())
        )
        text = _panel_text(app)
        assert " MB" in text and "ETA" in text and "x cancels" in text
        await pilot.press("x")
        assert await _until(pilot, lambda: not app.jobs.running("scan"))
        await settle(pilot)
        assert any("was stopped at" in str(n.message) for n in app._notifications), [
            str(n.message) for n in app._notifications
        ]
        parts = list(Path(os.environ["HF_HUB_CACHE"]).rglob("*.part"))
        assert len(parts) == 1 and parts[0].stat().st_size > 0
        kept = parts[0].stat().st_size

        hub.files.chunk_delay = 0.0
        await pilot.press("e")
        # Then the one-time export to the CPU engine, a stage of its own with its time so far.
        seen: set[str] = set()
        assert await _until(pilot, lambda: app.jobs.running("scan"))

        def preparing() -> bool:
            text = _panel_text(app)
            if "preparing the model for this CPU, once" in text:
                seen.add(text)
                seen.add(str(app.screen.query_one(ModeBar).render()))
            return bool(seen) or not app.jobs.running("scan")

        assert await _until(pilot, preparing)
        assert any("(step " in t and "x cancels" in t for t in seen), seen
        assert any("Preparing model" in t for t in seen), seen
        assert await _until(pilot, lambda: not app.jobs.running("scan"))
        await settle(pilot)
    assert hub.files.gets()[-1][2] == f"bytes={kept}-"
    assert library.semantic.vector_counts() == (10, 10)
