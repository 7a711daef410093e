"""The Search screen as a newcomer met it (issue 22, section 3): the line above the grid and the
panel say the order in force, and a query typed right after "more like this" is the query."""

from __future__ import annotations

from textual.widgets import Input, Select

from anagnorisis_tui.ui.screens.search import SearchScreen
from anagnorisis_tui.ui.widgets.filter_bar import FilterBar
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid
from tests.support.waiting import until

SIZE = (120, 40)


def _bar(screen) -> str:
    return str(screen.query_one(FilterBar).render())


def _panel_sort(screen) -> tuple[object, object]:
    return screen.query_one("#sort", Select).value, screen.query_one("#descending", Select).value


async def _more_like_this(app, pilot, settle) -> SearchScreen:
    await settle(pilot)
    await pilot.press("enter")  # the viewer on the library's first image
    await settle(pilot)
    await pilot.press("m")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, SearchScreen) and screen.query_one("#results").count
    return screen


async def test_the_bar_and_the_panel_say_the_order_in_force(shapes_library, make_test_app, settle):
    app = make_test_app(shapes_library)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _more_like_this(app, pilot, settle)
        grid = screen.query_one("#results", ThumbnailGrid)
        scores = [grid.entry_at(i).score for i in range(10)]
        assert scores == sorted(scores, reverse=True)  # best first
        assert "sort: relevance ↓" in _bar(screen) and "path" not in _bar(screen)
        assert _panel_sort(screen) == ("score", True)
        await pilot.press("x")  # clear: every image, by path
        await settle(pilot)
        paths = [grid.entry_at(i).path for i in range(10)]
        assert paths == sorted(paths)
        assert "sort: path ↑" in _bar(screen) and "More like" not in _bar(screen)
        box = screen.query_one("#query", Input)
        box.focus()
        await pilot.press(*"red", "enter")  # a query: best matches first again
        await settle(pilot)
        assert "sort: relevance ↓" in _bar(screen)
        assert _panel_sort(screen) == ("score", True)


async def test_a_query_typed_right_after_more_like_this_is_the_query(
    shapes_library, make_test_app, settle
):
    """`m` then `/red circle` Enter at full speed: the keys wait for the similar images, `/`
    focuses the query box (it is not typed into it) and the search runs."""
    from tests.support.keyburst import burst

    app = make_test_app(shapes_library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the viewer
        await settle(pilot)
        burst(app, "m", "slash", *"red circle", "enter")
        # Until the keys are handled and the Enter ran a search, however long: 60 rounds of
        # settling ran out first on a loaded machine (a full-suite run failed here).

        def searched() -> bool:
            typed = app.typeahead
            shown = app.screen
            return (
                isinstance(shown, SearchScreen)
                and bool(shown.state.query)
                and not typed.backlog
                and not typed._busy
            )

        assert await until(pilot, searched, deadline=300, interval=0.05), (
            f"no search ran from the keys typed: {app.screen!r}, {app.typeahead.backlog} waiting"
        )
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        assert screen.query_one("#query", Input).value == "red circle"
        assert screen.state.query == "red circle"
        assert "search: red circle" in _bar(screen) and "error" not in _bar(screen)
        grid = screen.query_one("#results", ThumbnailGrid)
        assert grid.has_focus and "-red-circle-" in grid.entry_at(0).name
