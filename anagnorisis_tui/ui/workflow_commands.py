"""Command-palette entries for the Search/Train workflows, offered from every screen.

The palette otherwise lists the bindings of the screen in front; these reach actions that live
on other screens ("Train image evaluator" while browsing the library).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from textual.app import App, SystemCommand
from textual.binding import Binding


async def _on_mode(app: App, mode: str, action: str) -> None:
    await app.switch_mode(mode)
    await app.screen.run_action(action)


# (title, help, mode, action, [binding ids of the keys that get there: the mode, the action]),
# with each binding's default key (the keymap may rename either).
_WORKFLOWS = (
    (
        "Train image evaluator",
        "Learn your taste from your ratings; shows held-out metrics beside the baseline",
        "train",
        "train",
        [("app.mode.train", "f4"), ("train.train", "t")],
    ),
    (
        "Rate next",
        "Rate the images that would teach the evaluator most, one number key each",
        "train",
        "rate_next",
        [("app.mode.train", "f4"), ("train.rate_next", "n")],
    ),
    (
        "Find duplicates",
        "Walk through groups of similar images; keep one, trash the rest",
        "search",
        "groups",
        [("app.mode.search", "f2"), ("search.groups", "D")],
    ),
    (
        "Search images",
        "Describe what you are looking for (or give an image path)",
        "search",
        "focus_query",
        [("search.focus_query", "slash")],
    ),
)


def _keys(app: App, steps: list[tuple[str, str]]) -> str:
    """The keys that run a workflow from any screen, e.g. "F4 t" (first key of each step)."""
    shown = []
    for binding_id, default in steps:
        key = app._keymap.get(binding_id, default).split(",")[0].strip()
        shown.append(app.get_key_display(Binding(key, "")))
    return " ".join(shown)


def global_commands(app: App) -> Iterable[SystemCommand]:
    from anagnorisis_tui.ui.commands import with_keys

    for title, help_text, mode, action, steps in _WORKFLOWS:
        yield SystemCommand(
            title,
            with_keys(help_text, _keys(app, steps)),
            partial(_on_mode, app, mode, action),
        )
