"""Quitting works in every state: `q` where it is not text, ctrl+q everywhere (even in a text
box, a dialog or the command palette, and with keys waiting in the type-ahead queue), and it
stops the jobs that are running."""

from __future__ import annotations

import threading

import pytest

from anagnorisis_tui.ui.screens.search import SearchScreen
from anagnorisis_tui.ui.state.search_source import SearchSource

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
        release.wait(30)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SearchSource, "prepare", stuck)
    app = make_test_app(library)
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
