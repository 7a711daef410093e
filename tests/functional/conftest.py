"""Fixtures for driving the real app with Pilot."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.worker import WorkerCancelled, WorkerFailed

from anagnorisis_tui.core.base.config import Settings, replace
from anagnorisis_tui.core.library import Library
from tests.support.app_fixtures import dupes, rated  # noqa: F401 - Search/Train fixtures
from tests.support.app_library import catalogue, make_images


@pytest.fixture
def photo_root(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    make_images(
        root, [f"a/img{i:02d}.jpg" for i in range(6)] + [f"b/pic{i:02d}.jpg" for i in range(4)]
    )
    return root


@pytest.fixture
def library(settings: Settings, photo_root: Path) -> Library:
    # This session's library, not saved in the catalogue (as ANAGNORISIS_LIBRARY would).
    lib = Library(replace(settings, library_roots=(str(photo_root),)))
    catalogue(lib, photo_root, sorted(photo_root.rglob("*.jpg")))
    yield lib
    lib.close()


async def _settle(pilot, rounds: int = 8) -> None:
    """Let workers finish and their messages be handled (no sleeps, no clocks)."""
    app = pilot.app
    for _ in range(rounds):
        # A failed worker is the app's business (it becomes a notification), and a cancelled
        # one was replaced by a newer request (exclusive groups): neither is the wait's.
        with contextlib.suppress(WorkerFailed, WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            await pilot.pause()
            if not any(w.is_running for w in app.workers):
                return


@pytest.fixture
def settle() -> Callable:
    return _settle


@pytest.fixture
def make_test_app(settings: Settings) -> Callable:
    from anagnorisis_tui.ui.app import make_app

    def factory(library: Library | None = None, *, app_settings: Settings | None = None, **kw):
        kw.setdefault("graphics", "unicode")
        kw.setdefault("scan_on_start", False)
        kw.setdefault("embed_after_scan", False)  # torch stays out of the UI tests
        return make_app(app_settings or settings, library=library, **kw)

    return factory
