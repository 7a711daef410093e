"""Set the library -> scan -> browse -> open -> rate -> in the database -> next, with the real scan."""

from __future__ import annotations

import threading
from pathlib import Path

from uidata import make_images

from anagnorisis_tui.core.base.config import load_settings
from anagnorisis_tui.core.catalogue import thumbnails
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.ui.screens.set_library import SetLibraryScreen
from anagnorisis_tui.ui.screens.viewer import ViewerScreen
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid


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
        # Saved to the settings file, scanned, thumbnails cached.
        saved = load_settings(config_file=settings.config_file, data_dir=settings.data_dir)
        assert saved.library_roots == [str(root)]
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
    settings.library_roots = [str(root)]
    library = Library(settings)
    app = make_test_app(library, scan_on_start=True, root=str(root))
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


async def test_quit_during_the_scan_stops_it_cleanly(settings, tmp_path: Path, make_test_app):
    root = tmp_path / "big"
    make_images(root, [f"d{i // 50}/x{i:04d}.jpg" for i in range(200)], size=(64, 48))
    settings.library_roots = [str(root)]
    library = Library(settings)
    real_scan = library.catalogue.scan
    started = threading.Event()

    def slow_scan(*args, progress=None, cancel=None, **kw):
        # The scan holds at each progress report until the quit cancels it, so the quit
        # surely lands mid-scan however fast or loaded the machine is (a fixed sleep raced).
        def report(p):
            started.set()
            if cancel is not None:
                cancel.wait(30)
            if progress is not None:
                progress(p)

        return real_scan(*args, progress=report, cancel=cancel, **kw)

    library.catalogue.scan = slow_scan
    app = make_test_app(library, scan_on_start=True, root=str(root))
    async with app.run_test(size=(120, 40)) as pilot:
        while not started.is_set():
            await pilot.pause()
        assert app.jobs.running("scan")
        await pilot.press("q")
    assert app.jobs.wait(60)  # the job saw the cancel event and returned
    summary = app.jobs.jobs["scan"].result
    assert summary.cancelled  # stopped part-way (the pixel pass resumes on the next scan)
    assert library.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Whatever was recorded is whole: every file row points at an image row.
    orphans = library.db.execute(
        "SELECT count(*) FROM files f LEFT JOIN images i ON i.hash = f.hash WHERE i.hash IS NULL"
    ).fetchone()[0]
    assert orphans == 0
    library.close()
