"""Type-ahead: a burst of keys gives the state the same keys typed one by one give."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from anagnorisis_tui.ui.screens.search import SearchScreen
from anagnorisis_tui.ui.screens.viewer import ViewerScreen
from anagnorisis_tui.ui.state.search_state import SearchState
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid
from tests.support.keyburst import burst
from tests.support.waiting import until

SIZE = (120, 40)
# Library -> search "red circle" -> second result -> rate 7 and 8 (each moves on) -> back.
FLOW = [*"/red circle", "enter", "l", "enter", "7", "8", "escape"]


async def _drain(pilot, settle) -> None:
    """Until every typed key has been handled (a condition, not a count of rounds: under load
    the keys' work outlasts any fixed number of settles)."""
    app = pilot.app
    await settle(pilot)
    done = await until(
        pilot, lambda: not app.typeahead.backlog and not app.typeahead._busy, deadline=180
    )
    assert done, f"typed keys still waiting after 180 s: backlog {app.typeahead.backlog}"
    await settle(pilot)


def _outcome(app, library) -> dict:
    screen = app.screen
    grid = screen.query_one("#results", ThumbnailGrid)
    ratings = {
        row["hash"]: row["value"] for row in library.db.query("SELECT hash, value FROM ratings")
    }
    return {
        "mode": app.current_mode,
        "query": screen.query_one("#query", Input).value,
        "cursor": grid.cursor,
        "ratings": sorted(ratings.values()),
    }


async def test_search_open_rate_back_typed_at_full_speed(shapes_library, make_test_app, settle):
    app = make_test_app(shapes_library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, *FLOW)
        await _drain(pilot, settle)
        fast = _outcome(app, shapes_library)
    assert fast == {"mode": "search", "query": "red circle", "cursor": 3, "ratings": [7.0, 8.0]}


async def test_search_open_rate_back_typed_slowly_gives_the_same(
    shapes_library, make_test_app, settle
):
    app = make_test_app(shapes_library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in FLOW:
            await pilot.press(key)
            await settle(pilot)
        slow = _outcome(app, shapes_library)
    assert slow == {"mode": "search", "query": "red circle", "cursor": 3, "ratings": [7.0, 8.0]}


async def test_keys_typed_before_the_search_screen_exists_reach_its_query(
    library, make_test_app, settle
):
    app = make_test_app(library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "slash", *"sunset")
        await _drain(pilot, settle)
        assert isinstance(app.screen, SearchScreen)
        assert app.screen.query_one("#query", Input).value == "sunset"


async def test_slash_selects_the_previous_query_so_typing_replaces_it(
    library, make_test_app, settle
):
    app = make_test_app(library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"cats", "enter")
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        await pilot.press(*"dogs")
        await settle(pilot)
        assert app.screen.query_one("#query", Input).value == "dogs"
        # `/` from the results (the query box is not focused) selects it again too.
        app.screen.query_one("#results", ThumbnailGrid).focus()
        await settle(pilot)
        await pilot.press("slash", *"owl")
        await settle(pilot)
        assert app.screen.query_one("#query", Input).value == "owl"


async def test_enter_then_rating_at_full_speed_rates_in_the_viewer(library, make_test_app, settle):
    app = make_test_app(library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = app.screen.query_one(ThumbnailGrid).current_entry
        burst(app, "enter", "5", "6", "escape", "right", "enter")
        await _drain(pilot, settle)
        assert isinstance(app.screen, ViewerScreen)
        assert library.ratings.get(first.hash) == 5.0
        assert app.screen.index == 3  # rated 0 and 1, back at 2, right, open 3


async def test_escape_and_a_key_read_together_as_alt_are_both_delivered(
    library, make_test_app, settle
):
    # ESC o arriving in one read is alt+o to the terminal parser; nothing binds alt+o.
    app = make_test_app(library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert app.screen.query_one("#query", Input).has_focus
        event = events.Key("alt+o", "o")  # as the terminal parser reads ESC o
        event.set_sender(app)
        app._driver.send_message(event)  # escape: to the results; o: next sort key
        await _drain(pilot, settle)
        assert app.screen.query_one("#results", ThumbnailGrid).has_focus
        assert app.screen.state.sort != SearchState().sort


async def test_a_query_typed_before_the_index_runs_again_and_the_keys_wait_for_it(
    tmp_path, tiny_embedder, make_test_app, settle
):
    """A first run: the whole flow typed while the scan is still indexing. Nothing is indexed
    when the search runs, so it says so and runs again when the scan is done; the keys typed
    after Enter (open, rate) wait for those results instead of reaching an empty grid."""
    from anagnorisis_tui.core.base.config import load_settings
    from anagnorisis_tui.core.demo.shapes import write_library
    from anagnorisis_tui.core.library import Library
    from anagnorisis_tui.ui.jobs import Job
    from anagnorisis_tui.ui.widgets.filter_bar import FilterBar

    settings = load_settings(
        data_dir=tmp_path / "data",
        config_file=tmp_path / "config.toml",
        overrides={"model": "tiny-clip", "pretrained": "", "device": "cpu"},
    )
    root = tmp_path / "Pictures"
    write_library(root, 48, size=64, seed=4)
    library = Library(settings)
    library.catalogue.set_root(root)
    library.catalogue.scan(root)
    library.semantic.use_embedder(tiny_embedder)
    app = make_test_app(library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        scan = Job("scan", "Scanning and embedding", worker=object())  # the first scan, running
        app.jobs.jobs["scan"] = scan
        burst(app, *"/red circle", "enter", "enter", "7")
        waiting = "searching again when the scan is done"

        def says_it_waits() -> bool:  # not _drain: the keys are meant to stay queued here
            screen = app.screen
            return isinstance(screen, SearchScreen) and waiting in str(
                screen.query_one(FilterBar).render()
            )

        await settle(pilot)
        assert await until(pilot, says_it_waits, deadline=180), "the bar never said it waits"
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        assert waiting in str(screen.query_one(FilterBar).render())
        box = screen.query_one("#query", Input)
        assert app.typeahead.backlog == 2, (  # Enter and 7 wait for the results
            f"backlog {app.typeahead.backlog}, delivered {app.typeahead.delivered}, "
            f"box {box.value!r}, focused {app.focused!r}, holds {app.typeahead._holds!r}"
        )
        assert not list(library.db.query("SELECT * FROM ratings"))

        library.semantic.embed()  # what the scan's child did meanwhile
        scan.finished.set()
        app.job_signal.publish("scan")
        await _drain(pilot, settle)
        assert isinstance(app.screen, ViewerScreen)
        rated = list(library.db.query("SELECT hash, value FROM ratings"))
        assert [row["value"] for row in rated] == [7.0]
        top = screen.query_one("#results", ThumbnailGrid).entry_at(0)
        assert rated[0]["hash"] == top.hash
    library.close()
