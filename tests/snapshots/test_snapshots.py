"""What each screen looks like (unicode image renderer; no clocks or timings on screen).

Update after an intended change: pytest tests/snapshots --snapshot-update
"""

from __future__ import annotations

import contextlib

from textual.worker import WorkerCancelled

from anagnorisis_tui.ui.app import make_app

SIZE = (120, 36)


async def _settle(pilot) -> None:
    app = pilot.app
    for _ in range(10):
        # A worker superseded by a newer one of its group (exclusive) ends cancelled: that is
        # the app working as meant, and the loop waits for the newer one.
        with contextlib.suppress(WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            break
    await pilot.pause()


def _app(settings, library):
    return make_app(settings, library=library, graphics="unicode", scan_on_start=False)


def test_library_screen(snap_compare, settings, snapshot_library):
    assert snap_compare(_app(settings, snapshot_library), terminal_size=SIZE, run_before=_settle)


def test_viewer_screen(snap_compare, settings, snapshot_library):
    async def open_and_rate(pilot):
        await _settle(pilot)
        await pilot.press("right", "enter")
        await _settle(pilot)
        await pilot.press("a", "7")  # auto-advance off, rate 7
        await _settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(
        _app(settings, snapshot_library), terminal_size=SIZE, run_before=open_and_rate
    )


def test_help_screen(snap_compare, settings, snapshot_library):
    async def help_on_viewer(pilot):
        await _settle(pilot)
        await pilot.press("enter")
        await _settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(
        _app(settings, snapshot_library), terminal_size=SIZE, run_before=help_on_viewer
    )


def test_set_library_dialog_with_error(snap_compare, settings, snapshot_library):
    async def bad_path(pilot):
        await _settle(pilot)
        await pilot.press("o", "ctrl+u", *"/no/such/folder", "enter")
        await pilot.pause()

    assert snap_compare(_app(settings, snapshot_library), terminal_size=SIZE, run_before=bad_path)


def test_empty_library(snap_compare, settings):
    from anagnorisis_tui.core.library import Library

    library = Library(settings)
    assert snap_compare(_app(settings, library), terminal_size=SIZE, run_before=_settle)
    library.close()
