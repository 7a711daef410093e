"""The sidebar says at start whether search can work: the model's weights on this machine, to be
downloaded on first use, or not here while the hub client is offline (issue 22)."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from anagnorisis_tui.core.base.config import DEFAULT_MODEL, DEFAULT_PRETRAINED, replace
from anagnorisis_tui.core.library import Library

SIZE = (140, 40)


def _sidebar(app) -> str:
    return str(app.screen.query_one("#root-label", Static).render())


async def _shown(library: Library, make_test_app, settle) -> str:
    app = make_test_app(library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        return _sidebar(app)


def _with_default_model(library: Library) -> Library:
    chosen = replace(library.settings, model=DEFAULT_MODEL, pretrained=DEFAULT_PRETRAINED)
    return Library(chosen)


def _with_tiny_model(library: Library) -> Library:
    return Library(replace(library.settings, model="tiny-clip", pretrained=""))


async def test_the_sidebar_says_search_needs_weights_at_start(library, make_test_app, settle):
    lib = _with_default_model(library)
    try:
        text = await _shown(lib, make_test_app, settle)
    finally:
        lib.close()
    assert "search: needs model weights (downloaded on first use) — see ?" in text, text
    assert "ViT-B-32-256" in text  # the model is still named


async def test_the_sidebar_says_search_is_off_when_offline(
    library, make_test_app, settle, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    lib = _with_default_model(library)
    try:
        text = await _shown(lib, make_test_app, settle)
    finally:
        lib.close()
    assert "search: off — weights not on this machine (offline) — see ?" in text, text


async def test_the_sidebar_says_search_is_ready_with_the_tiny_model(library, make_test_app, settle):
    lib = _with_tiny_model(library)
    try:
        text = await _shown(lib, make_test_app, settle)
    finally:
        lib.close()
    assert "tiny-clip" in text
    assert "search: ready" in text and "needs model weights" not in text, text


async def test_the_help_screen_says_where_weights_come_from(library, make_test_app, settle):
    from anagnorisis_tui.ui.screens.help import HelpScreen

    app = make_test_app(library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-weights", Static).render())
    for needed in ("HF_ENDPOINT", "HF_HUB_OFFLINE", "anagnorisis-tui embed", "--model tiny-clip"):
        assert needed in text, needed
