"""The app scans as the command line does (core/work/scan_run.py): the walk in its own process,
the rest in a child started only when there is something to read or derive. Before, the app
ran the whole scan in a child every time, the walk included."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.work.results import IngestResult
from anagnorisis_tui.core.work.scan_run import ScanRun
from anagnorisis_tui.ui.screens.library import LibraryScreen
from tests.support.app_library import make_images
from tests.support.imagefiles import jpeg_bytes, write

pytestmark = pytest.mark.slow


def children_started(data_dir: Path) -> int:
    """Child tasks run so far: each one writes a header line to worker.log."""
    log = data_dir / "worker.log"
    return log.read_text().count(" task ingest") if log.exists() else 0


async def _scan(app, pilot) -> IngestResult:
    screen = app.screen
    assert isinstance(screen, LibraryScreen)
    screen.start_scan(embed=False)
    job = app.jobs.jobs["scan"]
    deadline = time.monotonic() + 120
    while not job.finished.is_set():  # the job's own end, not a guess at how long it takes
        assert time.monotonic() < deadline, "the scan did not end"
        await asyncio.to_thread(job.finished.wait, 0.5)
    await pilot.pause()
    assert isinstance(job.child, ScanRun)
    assert isinstance(job.result, IngestResult)
    return job.result


async def test_a_rescan_that_finds_nothing_new_starts_no_child(
    settings, tmp_path: Path, make_test_app
):
    root = tmp_path / "lib"
    make_images(root, [f"d{i % 2}/x{i}.jpg" for i in range(6)])
    settings.library_roots = [str(root)]
    library = Library(settings)
    app = make_test_app(library, root=str(root))
    async with app.run_test(size=(120, 40)) as pilot:
        first = await _scan(app, pilot)
        assert (first.scan.new, first.ingest.thumbnails) == (6, 6)
        assert children_started(settings.data_dir) == 1
        again = await _scan(app, pilot)
        assert (again.scan.unchanged, again.scan.new, again.ingest.total) == (6, 0, 0)
        assert children_started(settings.data_dir) == 1  # walked here; nothing to hand over
        (root / "d0" / "x0.jpg").rename(root / "d1" / "moved.jpg")
        write(root / "d2" / "new.jpg", jpeg_bytes(99, (40, 30)))
        third = await _scan(app, pilot)
        assert (third.scan.new, third.scan.moved, third.ingest.thumbnails) == (1, 1, 1)
        assert children_started(settings.data_dir) == 2
        await pilot.press("q")
    library.close()
