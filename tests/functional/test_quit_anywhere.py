"""Quitting works in every state: `q` where it is not text, ctrl+q everywhere (even in a text
box, a dialog or the command palette, and with keys waiting in the type-ahead queue), and it
stops the jobs that are running."""

from __future__ import annotations

import threading
import time

import pytest
from textual.widgets import Input

from anagnorisis_tui.ui.screens.help import HelpScreen
from anagnorisis_tui.ui.screens.search import SearchScreen
from anagnorisis_tui.ui.state.search_source import SearchSource
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid
from tests.support.keyburst import burst
from tests.support.waiting import until

SIZE = (120, 40)

# state -> (keys that reach it from the Library, the key that quits there)
STATES = {
    "library": ([], "q"),
    "search query box": (["slash"], "ctrl+q"),
    "search results": (["slash", "escape"], "q"),
    "viewer": (["enter"], "q"),
    "train": (["f4"], "q"),
    "help": (["question_mark"], "ctrl+q"),
    "command palette": (["ctrl+p"], "ctrl+q"),
    "set library dialog": (["o"], "ctrl+q"),
    "groups": (["f2", "escape", "D"], "ctrl+q"),
}


@pytest.mark.parametrize("state", list(STATES))
async def test_quit_from_every_state_stops_jobs(state, library, make_test_app, settle):
    keys, quit_key = STATES[state]
    app = make_test_app(library)
    stopped = threading.Event()

    def busy(progress, cancel):  # a job that runs until it is told to stop
        cancel.wait(60)
        stopped.set()

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        job = app.jobs.start("busy", "Busy", busy)
        await pilot.pause()
        await pilot.press(quit_key)
        await pilot.pause()
        assert app._exit, f"{quit_key} did not quit from {state} ({app.screen!r})"
    assert job.cancel.is_set()
    assert stopped.wait(10)


async def test_ctrl_q_quits_while_keys_wait_for_a_search(
    library, make_test_app, settle, monkeypatch
):
    # A search that never finishes holds the keys typed after Enter; ctrl+q is not held.
    release = threading.Event()
    original = SearchSource.prepare

    def stuck(self, *args, **kwargs):
        if self.spec.search is not None:  # the library's own view at start is not held
            release.wait(30)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SearchSource, "prepare", stuck)
    app = make_test_app(library)
    _release_once_quitting(app, release)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"sky", "enter", "l", "l")
        assert app.typeahead.backlog >= 1  # the l keys wait for the results
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app._exit
        release.set()


def _release_once_quitting(app, release: threading.Event) -> None:
    """End the stuck search once the app has been asked to quit (never before, so the quit
    cannot have waited for it). Textual's test harness waits for running thread workers when
    the app exits, which took each of these tests 30 s; the real app ends its process at once."""

    def watch() -> None:
        while not release.is_set():
            if app._exit:
                release.set()
            time.sleep(0.01)

    threading.Thread(target=watch, daemon=True).start()


async def _until_exit(pilot) -> bool:
    return await until(pilot, lambda: bool(pilot.app._exit))


@pytest.fixture
def stuck_search(monkeypatch):
    """Searches that do not finish until the test sets the event (a model still loading). Only
    searches: a stuck start-up view held the tests' settling for its whole 30 s."""
    release = threading.Event()
    original = SearchSource.prepare

    def stuck(self, *args, **kwargs):
        if self.spec.search is not None:  # the library's own view at start is not held
            release.wait(30)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SearchSource, "prepare", stuck)
    yield release
    release.set()


@pytest.mark.parametrize("typed", ["key by key", "in one burst"])
async def test_q_after_a_search_quits_without_waiting_for_its_results(
    typed, library, make_test_app, settle, stuck_search
):
    # Keys typed after Enter wait for the results; `q` quits there, so it does not wait.
    app = make_test_app(library)
    _release_once_quitting(app, stuck_search)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        if typed == "key by key":
            await pilot.press(*"sky", "enter")
            await pilot.press("q")
        else:
            burst(app, *"sky", "enter", "q")
        assert await _until_exit(pilot), "q waited for the search"
        assert app.screen.query_one("#query", Input).value == "sky"


async def test_q_typed_ahead_into_the_query_box_is_text(library, make_test_app, settle):
    app = make_test_app(library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "slash", *"quiet")

        def typed() -> str:
            if app._exit or not isinstance(app.screen, SearchScreen):
                return ""
            return app.screen.query_one("#query", Input).value

        # Until the text is in the box (or the app quit): "the type-ahead queue is empty" held
        # while the replayed keys were still in the Input's message queue, and under load the
        # test read an empty box.
        await until(pilot, lambda: app._exit or typed() == "quiet")
        await settle(pilot)
        assert not app._exit
        assert typed() == "quiet"


async def test_q_typed_ahead_closes_the_help_it_follows(
    library, make_test_app, settle, monkeypatch
):
    shown: list[HelpScreen] = []
    original = HelpScreen.on_mount if hasattr(HelpScreen, "on_mount") else None

    def mounted(self, *args):
        shown.append(self)
        return original(self, *args) if original is not None else None

    monkeypatch.setattr(HelpScreen, "on_mount", mounted, raising=False)
    app = make_test_app(library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "question_mark", "q")
        # Until the help has come and gone (or the app quit), not until the queue looks empty.
        await until(
            pilot,
            lambda: app._exit or (bool(shown) and not isinstance(app.screen, HelpScreen)),
        )
        await settle(pilot)
        assert not app._exit
        assert not isinstance(app.screen, HelpScreen)


async def test_q_typed_ahead_in_the_viewer_quits_after_the_rating_before_it(
    library, make_test_app, settle
):
    app = make_test_app(library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = app.screen.query_one(ThumbnailGrid).current_entry
        burst(app, "enter", "7", "q")
        assert await _until_exit(pilot)
    assert library.ratings.get(first.hash) == 7.0


async def test_the_keys_said_to_quit_at_once_follow_the_focus(library, make_test_app, settle):
    # What the terminal's input thread may act on while the loop is busy (ui/quick_quit.py).
    app = make_test_app(library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.typeahead.quit_keys() == {"q", "ctrl+q"}
        await pilot.press("slash")  # the query box: q is text there
        await settle(pilot)
        assert app.typeahead.quit_keys() == {"ctrl+q"}
        await pilot.press("escape")  # the results
        await settle(pilot)
        assert app.typeahead.quit_keys() == {"q", "ctrl+q"}
        await pilot.press("question_mark")  # help: q closes it
        await settle(pilot)
        assert app.typeahead.quit_keys() == {"ctrl+q"}
