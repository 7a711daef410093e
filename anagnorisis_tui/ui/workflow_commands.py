"""Command-palette entries for the Search/Train workflows, offered from every screen.

The palette otherwise lists the bindings of the screen in front; these reach actions that live
on other screens ("Train image evaluator" while browsing the library).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from textual.app import App, SystemCommand


async def _on_mode(app: App, mode: str, action: str) -> None:
    await app.switch_mode(mode)
    await app.screen.run_action(action)


def global_commands(app: App) -> Iterable[SystemCommand]:
    yield SystemCommand(
        "Train image evaluator",
        "Learn your taste from your ratings; shows held-out metrics beside the baseline",
        partial(_on_mode, app, "train", "train"),
    )
    yield SystemCommand(
        "Rate next",
        "Rate the images that would teach the evaluator most, one number key each",
        partial(_on_mode, app, "train", "rate_next"),
    )
    yield SystemCommand(
        "Find duplicates",
        "Walk through groups of similar images; keep one, trash the rest",
        partial(_on_mode, app, "search", "groups"),
    )
    yield SystemCommand(
        "Search images",
        "Describe what you are looking for (or give an image path)",
        partial(_on_mode, app, "search", "focus_query"),
    )
