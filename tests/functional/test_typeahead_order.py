"""Keys read one by one, while keys let through earlier are still on their way, keep their order.

Under load the terminal's input thread posts each key when it reads it, so keys reach the app
between the type-ahead gate's own steps. A key the gate let through is posted behind whatever the
terminal had already posted; before the fix a key read by the app in that gap went straight to
the query box and overtook it: tmux sent "red circle" and the box showed "rde circle".
"""

from __future__ import annotations

import asyncio
import random

import pytest
from textual.widgets import Input

from anagnorisis_tui.ui.screens.search import SearchScreen
from tests.support.keyburst import key_event
from tests.support.waiting import until

pytestmark = pytest.mark.slow  # 50 rounds of typing, ~40 s

SIZE = (120, 40)
KEYS = ["end", *"red", "home", "end", *" circle"]  # moves settle fully, letters go straight in
TURNS = [0, 0, 1, 2, 3, 5, 8, 13]  # event-loop turns between two keys, as load spreads them
PAUSES_S = [0.001, 0.003, 0.006]  # and now and then a short pause (not a timing assertion)


async def _type(app, keys: list[str], rng: random.Random) -> None:
    """Each key posted the way the terminal's input thread posts it, some loop turns apart."""
    for key in keys:
        event = key_event(key)
        event.set_sender(app)
        app._driver.send_message(event)
        for _ in range(rng.choice(TURNS)):
            await asyncio.sleep(0)
        if rng.random() < 0.2:
            await asyncio.sleep(rng.choice(PAUSES_S))  # the gate's settling moves on meanwhile


async def test_text_typed_while_earlier_keys_are_on_their_way_keeps_its_order(
    library, make_test_app, settle
):
    app = make_test_app(library)
    rng = random.Random(1)
    typed = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        box = app.screen.query_one("#query", Input)
        for _ in range(50):
            box.value = ""
            await settle(pilot)
            await _type(app, KEYS, rng)
            await settle(pilot)
            assert await until(
                pilot, lambda: not app.typeahead.backlog and not app.typeahead._busy, deadline=180
            ), "typed keys still waiting after 180 s"
            typed.append(box.value)
    assert [value for value in typed if value != "red circle"] == []
