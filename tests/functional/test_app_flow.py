"""The core flow, driven with Pilot: browse the grid, open, rate with number keys, move on."""

from __future__ import annotations

from anagnorisis_tui.ui.screens.viewer import ViewerScreen
from anagnorisis_tui.ui.widgets.thumbnail_grid import ThumbnailGrid


async def test_browse_open_rate_next(library, make_test_app, settle):
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(ThumbnailGrid)
        assert grid.count == 10
        assert grid.has_focus
        await pilot.press("right", "l")
        assert grid.cursor == 2
        await pilot.press("down")
        assert grid.cursor == 2 + grid.columns
        await pilot.press("up", "h")
        assert grid.cursor == 1
        chosen = grid.current_entry
        await pilot.press("enter")
        await settle(pilot)
        viewer = app.screen
        assert isinstance(viewer, ViewerScreen)
        assert viewer.entry == chosen
        await pilot.press("7")
        await settle(pilot)
        assert library.rating(chosen.hash) == 7.0
        assert viewer.index == 2  # rate-and-advance
        second = viewer.entry
        await pilot.press("t")  # ten
        await settle(pilot)
        assert library.rating(second.hash) == 10.0
        await pilot.press("left")
        await settle(pilot)
        assert viewer.index == 2
        await pilot.press("backspace")
        await settle(pilot)
        assert library.rating(viewer.entry.hash) is None
        await pilot.press("escape")
        await settle(pilot)
        grid = app.screen.query_one(ThumbnailGrid)
        assert grid.cursor == 2  # the grid follows the viewer
        rated = grid.entry_at(1)
        assert rated.rating == 7.0  # the grid's cached entry was updated


async def test_viewer_without_auto_advance_and_rating_bar_click(library, make_test_app, settle):
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        viewer = app.screen
        await pilot.press("a")  # auto-advance off
        await pilot.press("3")
        await settle(pilot)
        assert viewer.index == 0
        assert library.rating(viewer.entry.hash) == 3.0
        await pilot.click("#rating", offset=(3 * 9 + 1, 0))  # the "9" step
        await settle(pilot)
        assert library.rating(viewer.entry.hash) == 9.0


async def test_viewer_shows_details_and_image(library, make_test_app, settle):
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        viewer = app.screen
        details = str(viewer.query_one("#details").render())
        entry = viewer.entry
        assert entry.path in details and entry.hash in details and "96×64" in details
        image_view = viewer.query_one("#image")
        assert image_view.image is not None
        assert image_view.image.size[0] <= 120 * 10


async def test_next_past_the_end_stays(library, make_test_app, settle):
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("end", "enter")
        await settle(pilot)
        viewer = app.screen
        assert viewer.index == 9
        await pilot.press("right")
        await settle(pilot)
        assert viewer.index == 9
