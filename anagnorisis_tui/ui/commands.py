"""The command palette (ctrl+p) holds every action: each binding in force, plus screen commands.

Commands come from the active bindings (so a rebinding in the keymap shows here too); the app
adds each mode screen's `extra_commands()` (actions without a key, e.g. "Build all thumbnails").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial

from textual.app import App, SystemCommand
from textual.dom import DOMNode
from textual.screen import Screen


@dataclass
class _Entry:
    title: str
    help: str
    action: str
    node: DOMNode
    keys: list[str] = field(default_factory=list)


def system_commands(app: App, screen: Screen) -> Iterable[SystemCommand]:
    # One entry per action as the user reads it: two widgets may bind the same one under one
    # title (the screen's and a text box's "Copy selected text", the app's q and Textual's
    # ctrl+q "Quit"); the first in the focus chain runs, and every key is listed.
    entries: list[_Entry] = []
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description or binding.action in ("command_palette",):
            continue
        help_text = binding.tooltip or binding.description
        action = binding.action.rpartition(".")[2]
        entry = next(
            (
                e
                for e in entries
                if e.title == binding.description
                and (e.help == help_text or e.action.rpartition(".")[2] == action)
            ),
            None,
        )
        if entry is None:
            entry = _Entry(binding.description, help_text, binding.action, active.node)
            entries.append(entry)
        entry.keys.append(app.get_key_display(binding))
    for entry in entries:
        keys = " / ".join(dict.fromkeys(entry.keys))
        yield SystemCommand(
            entry.title,
            with_keys(entry.help, keys),
            partial(app.run_action, entry.action, entry.node),
        )


def with_keys(help_text: str, keys: str) -> str:
    """A palette entry's help with its keys, as markup (the palette reads help as markup: an
    unescaped "[e]" would be taken for a tag and vanish, and "[/]" would fail). Every "[" is
    escaped: textual.markup.escape leaves "[D]" and "[F2]" alone, and those vanish too."""
    return f"{help_text}  [{keys}]".replace("[", "\\[")
