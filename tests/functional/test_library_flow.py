"""Set the library -> scan -> browse -> open -> rate -> in the database -> next, with the real scan."""

from __future__ import annotations

from pathlib import Path

import pytest

from anagnorisis_tui.core.base.config import load_settings, replace
from anagnorisis_tui.core.catalogue import thumbnails
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.work.scan_run import ScanRun
from anagnorisis_tui.ui.screens.set_library import SetLibraryScreen
from anagnorisis_tui.ui.screens.viewer import ViewerScreen
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid
from tests.support import childhooks
from tests.support.app_library import make_images
from tests.support.imagefiles import noise, save
from tests.support.waiting import until

pytestmark = pytest.mark.slow


async def test_set_library_scan_browse_rate(settings, tmp_path: Path, make_test_app, settle):
    root = tmp_path / "Pictures"
    make_images(root, [f"trip/day{i}.jpg" for i in range(5)] + ["cat.jpg", "dog.jpg"])
    library = Library(settings)
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(ThumbnailGrid)
        assert grid.count == 0
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, SetLibraryScreen)
        await pilot.press(*str(root), "enter")
        await settle(pilot, rounds=30)
        # Saved in this data dir's catalogue (not the settings file), scanned, thumbnails cached.
        again = Library(load_settings(config_file=settings.config_file, data_dir=settings.data_dir))
        assert again.catalogue.roots() == [str(root)]
        again.close()
        assert (
            not settings.config_file.exists() or str(root) not in settings.config_file.read_text()
        )
        assert grid.count == 7
        cache = thumbnails.cache_dir(settings.data_dir)
        assert len(list(cache.rglob("*.jpg"))) == 7
        assert all(c.shown_image is not None for c in grid.cells if c.entry)
        # Browse and open.
        await pilot.press("right")
        chosen = grid.current_entry
        await pilot.press("enter")
        await settle(pilot)
        viewer = app.screen
        assert isinstance(viewer, ViewerScreen) and viewer.entry == chosen
        await pilot.press("8")
        await settle(pilot)
        assert library.ratings.get(chosen.hash) == 8.0
        assert viewer.index == 2 and viewer.entry != chosen
    library.close()


async def test_scan_on_start_and_cancel_then_quit_leaves_db_consistent(
    settings, tmp_path: Path, make_test_app, settle
):
    root = tmp_path / "lib"
    make_images(root, [f"x{i:03d}.jpg" for i in range(40)])
    library = Library(replace(settings, library_roots=(str(root),)))
    app = make_test_app(library, scan_on_start=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("x")  # cancel whatever is running now
        await settle(pilot, rounds=30)
        await pilot.press("r")
        await settle(pilot, rounds=30)
        assert app.screen.query_one(ThumbnailGrid).count == 40
        await pilot.press("q")
    assert app.jobs.wait(30)
    assert library.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    library.close()


async def test_quit_during_the_scan_stops_the_child_and_keeps_its_work(
    settings, tmp_path: Path, make_test_app, monkeypatch
):
    # Every decode in the child waits a little, so the quit surely lands mid-ingest.
    childhooks.install(tmp_path, monkeypatch, childhooks.SLOW_DECODE.format(delay=0.05))
    root = tmp_path / "big"
    make_images(root, [f"d{i // 50}/x{i:04d}.jpg" for i in range(200)], size=(64, 48))
    library = Library(replace(settings, library_roots=(str(root),)))
    app = make_test_app(library, scan_on_start=True)
    async with app.run_test(size=(120, 40)) as pilot:

        def ingesting() -> bool:
            job = app.jobs.jobs.get("scan")
            p = job.progress if job is not None else None
            return p is not None and p.stage == "ingest" and p.done >= 8

        assert await until(pilot, ingesting, deadline=300, interval=0.05), (
            "the scan never ingested 8 files"
        )
        await pilot.press("q")
    assert app.jobs.wait(10)  # the job's thread ended with its child
    scan = app.jobs.jobs["scan"].child
    assert isinstance(scan, ScanRun)  # the walk here, the rest in its child (core/work/)
    child = scan.child
    assert child is not None and child.process is not None
    assert child.process.poll() is not None  # stopped, not left running
    assert library.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Whatever was recorded is whole: every file row points at an image row.
    orphans = library.db.execute(
        "SELECT count(*) FROM files f LEFT JOIN images i ON i.hash = f.hash WHERE i.hash IS NULL"
    ).fetchone()[0]
    assert orphans == 0
    assert library.db.execute("SELECT count(*) FROM files").fetchone() == (200,)
    library.close()


async def test_a_crashing_decoder_is_a_notice_and_the_app_goes_on(
    settings, tmp_path: Path, make_test_app, monkeypatch, settle
):
    childhooks.install(tmp_path, monkeypatch, childhooks.CRASH_ON_DECODE)
    root = tmp_path / "lib"
    make_images(root, [f"x{i}.jpg" for i in range(3)])
    save(root / "evil.png", noise(*childhooks.CRASH_SIZE))
    library = Library(replace(settings, library_roots=(str(root),)))
    app = make_test_app(library, scan_on_start=True)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await until(
            pilot,
            lambda: "scan" in app.jobs.jobs and not app.jobs.running("scan"),
            deadline=300,
            interval=0.05,
        ), "the scan never ended"
        await settle(pilot)
        notices = [n.message for n in app._notifications]
        assert any("SIGSEGV" in m and "what it had finished is kept" in m for m in notices)
        assert app.is_running
        grid = app.screen.query_one(ThumbnailGrid)
        grid.reload()
        await settle(pilot)
        assert grid.count == 4  # the catalogue committed before the crash is shown
        await pilot.press("q")
    library.close()
