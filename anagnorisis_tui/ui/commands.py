"""The command palette (ctrl+p) holds every action: each binding in force, plus screen commands.

Commands come from the active bindings (so a rebinding in the keymap shows here too); the app
adds each mode screen's `extra_commands()` (actions without a key, e.g. "Build all thumbnails").
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from textual.app import App, SystemCommand
from textual.screen import Screen


def system_commands(app: App, screen: Screen) -> Iterable[SystemCommand]:
    seen: set[str] = set()
    by_action: dict[str, list[str]] = {}
    entries = []
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.description or binding.action in ("command_palette",):
            continue
        by_action.setdefault(binding.action, []).append(app.get_key_display(binding))
        if binding.action not in seen:
            seen.add(binding.action)
            entries.append((binding, active.node))
        del key
    for binding, node in entries:
        keys = " / ".join(dict.fromkeys(by_action[binding.action]))
        help_text = (binding.tooltip or binding.description) + f"  [{keys}]"
        yield SystemCommand(
            binding.description, help_text, partial(app.run_action, binding.action, node)
        )
