"""What a newcomer tripped over (issue 22, section 3), each seen through the real app with Pilot."""

from __future__ import annotations

import os

from anagnorisis_tui.ui.screens.help import HelpScreen

SIZE = (120, 40)


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
