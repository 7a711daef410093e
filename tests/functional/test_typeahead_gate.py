"""The type-ahead gate on a starved app: a key waits for the effects of the key before it however
long the app takes to handle them, not a fixed number of one-second barriers.

A loaded suite run saw Enter typed after a query's Enter reach the query box again: the search's
hold (set when the screen handles the query box's Submitted) was not set yet, because on a
starved CPU the screen took more than the three barriers' second each to get to that message,
and a barrier that timed out counted as a settled one. Here the screen's handler takes longer than
those three seconds on purpose (an async handler: the event loop stays free, the screen's queue
does not), and the key typed after Enter must still reach the widget that handler focuses.
"""

from __future__ import annotations

import asyncio

from textual import events, on
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Input

from anagnorisis_tui.ui.typeahead import BARRIER_WAIT_S, STEADY_BARRIERS, TypeAhead
from tests.support.keyburst import burst
from tests.support.waiting import until

SLOW_S = 2 * STEADY_BARRIERS * BARRIER_WAIT_S  # longer than the barriers that used to settle


class SlowSubmit(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Input(id="query")
        yield Input(id="results")

    def on_mount(self) -> None:
        self.query_one("#query", Input).focus()

    @on(Input.Submitted, "#query")
    async def _submitted(self) -> None:
        await asyncio.sleep(SLOW_S)  # the screen's queue waits here; the loop does not
        self.query_one("#results", Input).focus()


class GateApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        # No settle timeout in the way: what is tested is that the barriers do not settle early.
        self.typeahead = TypeAhead(self, settle_timeout=120.0)

    def on_mount(self) -> None:
        self.push_screen(SlowSubmit())

    async def on_event(self, event: events.Event) -> None:
        if (
            isinstance(event, events.Key)
            and not event.is_forwarded
            and self.typeahead.intercept(event)
        ):
            return
        await super().on_event(event)


async def test_a_key_typed_after_enter_waits_for_a_slow_handler_of_its_submit() -> None:
    app = GateApp()
    async with app.run_test() as pilot:
        assert await until(pilot, lambda: isinstance(app.focused, Input), deadline=60)
        burst(app, "a", "enter", "z")
        query = app.screen.query_one("#query", Input)
        results = app.screen.query_one("#results", Input)
        assert await until(pilot, lambda: app.focused is results, deadline=120)
        assert await until(pilot, lambda: results.value or query.value != "a", deadline=120)
        # Before the fix, "z" was let through while the handler still slept: typed into the box.
        assert (query.value, results.value) == ("a", "z")
        assert not app.typeahead.backlog
