"""The app shell: modes, keymap from the settings file, help, palette, errors as notices."""

from __future__ import annotations

from pathlib import Path

from anagnorisis_tui.core.base.config import replace
from anagnorisis_tui.core.views.paging import ViewSpec
from anagnorisis_tui.ui.screens.help import HelpScreen
from anagnorisis_tui.ui.state.sources import ViewSource
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid


async def test_mode_keys_switch_modes(library, make_test_app, settle):
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for key, mode in (("f2", "search"), ("f4", "train"), ("f3", "viewer"), ("f1", "library")):
            await pilot.press(key)
            await settle(pilot)
            assert app.current_mode == mode
        # F3 with nothing opened shows the library's current image.
        await pilot.press("right", "f3")
        await settle(pilot)
        assert app.screen.index == 1


async def test_keymap_from_settings_rebinds_and_reports_unknown_ids(
    library, settings, make_test_app, settle
):
    keys = {"viewer.next": "x", "grid.down": "J", "no.such.action": "z"}
    app = make_test_app(library, app_settings=replace(settings, keymap=keys))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert any("no.such.action" in str(n.message) for n in app._notifications)
        grid = app.screen.query_one(ThumbnailGrid)
        await pilot.press("J")
        assert grid.cursor == grid.columns
        await pilot.press("enter")
        await settle(pilot)
        start = app.screen.index
        await pilot.press("x")
        await settle(pilot)
        assert app.screen.index == start + 1


async def test_help_lists_keys_with_ids(library, make_test_app, settle):
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = {binding_id: (keys, text) for keys, text, binding_id in app.screen.rows}
        assert rows["viewer.rate_10"][0] == "t"
        assert "10" in rows["viewer.rate_10"][1]
        assert rows["app.help"][0] == "?"
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_palette_holds_screen_and_app_actions(library, make_test_app, settle):
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Folder…", "Rescan", "Embed", "Library", "Viewer", "Help", "Open"} <= titles
        assert "Build all thumbnails" in titles
        await pilot.press("enter")
        await settle(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Rate", "Rate 10", "Next", "Prev", "More like this"} <= titles
        # Running one from the palette works like its key.
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Rate 10", "enter")
        await settle(pilot)
        rated = library.db.execute("SELECT value FROM ratings").fetchall()
        assert rated == [(10.0,)]


class _Broken(ViewSource):
    def page(self, offset, limit):
        raise RuntimeError("disk on fire [bold]")


async def test_worker_errors_become_notifications(library, make_test_app, settle):
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(ThumbnailGrid)
        grid.set_source(_Broken(library, ViewSpec()))
        await settle(pilot)
        messages = [str(n.message) for n in app._notifications]
        assert any("disk on fire [bold]" in m for m in messages)
        assert app.is_running
        # The traceback is kept in the data dir's private errors.log (ui/job_events.py).
        log = Path(app.settings.data_dir) / "errors.log"
        assert "RuntimeError: disk on fire [bold]" in log.read_text(encoding="utf-8")
        assert log.stat().st_mode & 0o777 == 0o600


async def test_help_shows_the_rating_keys_as_one_row(library, make_test_app, settle):
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        rows = {text: (keys, ids) for keys, text, ids in app.screen.rows}
        keys, ids = next(v for t, v in rows.items() if t.startswith("Rate 0–9"))
        assert keys == "0–9" and ids == "viewer.rate_0 … viewer.rate_9"


def test_progress_messages_coalesce_per_job():
    from anagnorisis_tui.core.base.progress import Progress
    from anagnorisis_tui.ui.messages import JobProgressed

    newer = JobProgressed("scan", Progress("scan", 20, 100))
    assert newer.can_replace(JobProgressed("scan", Progress("scan", 10, 100)))
    assert not newer.can_replace(JobProgressed("embed", Progress("embed", 10, 100)))


async def test_the_status_line_names_the_stage_of_a_scan(library, make_test_app, settle):
    """A scan runs stage after stage: its first stage at 100 % said "Scanning and embedding
    100% ETA 00:00" while pictures and vectors were still to come."""
    from anagnorisis_tui.core.base.progress import Progress
    from anagnorisis_tui.ui.jobs import Job
    from anagnorisis_tui.ui.widgets.mode_bar import ModeBar

    app = make_test_app(library)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        job = Job("scan", "Scanning and embedding", worker=object())
        job.progress = Progress("catalogue", 127, 127, elapsed=1.0)
        app.jobs.jobs["scan"] = job
        bar = app.screen.query_one(ModeBar)
        assert "Scanning and embedding · reading files 100%" in str(bar.render())
        job.progress = Progress("ingest", 20, 127, elapsed=2.0)
        assert "Scanning and embedding · pictures and vectors 16%" in str(bar.render())
        job.finished.set()
