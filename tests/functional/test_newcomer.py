"""What a newcomer tripped over (issue 22, section 3), each seen through the real app with Pilot."""

from __future__ import annotations

import os

from textual.content import Content

from anagnorisis_tui.core.base.config import replace
from anagnorisis_tui.ui.screens.help import HelpScreen

SIZE = (120, 40)


def _palette(app) -> dict[str, str]:
    """{title: help as the palette shows it} of every command offered on the screen in front."""
    commands = list(app.get_system_commands(app.screen))
    titles = [c.title for c in commands]
    for once in ("Copy selected text", "Quit", "Embed", "Train image evaluator"):
        assert titles.count(once) <= 1, once
    return {c.title: Content.from_markup(c.help).plain for c in commands}


def _keys(help_text: str) -> list[str]:
    return help_text.rpartition("[")[2].rstrip("]").split(" / ")


async def test_the_palette_shows_every_action_with_its_key_once(library, make_test_app, settle):
    app = make_test_app(library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = _palette(app)
        assert shown["Embed"].endswith("[e]")
        assert shown["Cancel"].endswith("[x]")
        assert shown["Folders"].endswith("[f]")
        assert shown["Train image evaluator"].endswith("[f4 t]")
        assert shown["Rate next"].endswith("[f4 n]")
        assert shown["Find duplicates"].endswith("[f2 D]")
        assert shown["Search images"].endswith("[/]")
        assert set(_keys(shown["Quit"])) == {"q", "^q"}  # one Quit, both its keys
        await pilot.press("slash")
        await settle(pilot)
        shown = _palette(app)  # a text box has the focus: its copy binding and the screen's
        assert "^c" in _keys(shown["Copy selected text"])


async def test_a_rebound_workflow_key_shows_in_the_palette(
    library, settings, make_test_app, settle
):
    keys = {"app.mode.train": "f8", "train.train": "T"}
    app = make_test_app(library, app_settings=replace(settings, keymap=keys))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert _palette(app)["Train image evaluator"].endswith("[f8 T]")


async def test_the_help_screen_names_the_keymap_section(library, make_test_app, settle):
    from rich.console import Console

    app = make_test_app(library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=110, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
        console.print(app.screen._keys_table())
        header = console.export_text().splitlines()[0]
        assert "Id (for [keymap])" in header
