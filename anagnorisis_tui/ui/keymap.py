"""The user's keymap: `[keymap]` in the settings file maps binding ids to keys.

Every Binding in the app has an id (`app.help`, `viewer.rate_7`, `grid.down`, ...). The user
rebinds one by naming its id, e.g.::

    [keymap]
    "viewer.next" = "n,right"
    "app.mode.library" = "f1,ctrl+l"

Unknown ids are reported (never silently ignored) and the rest still apply.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.binding import Binding
from textual.dom import DOMNode


@dataclass(frozen=True)
class BindingInfo:
    id: str
    keys: str
    description: str
    owner: str


def bindings_of(cls: type[DOMNode]) -> list[Binding]:
    out: list[Binding] = []
    for item in cls.BINDINGS:
        out.append(item if isinstance(item, Binding) else Binding(*item))
    return out


def catalogue(classes: Iterable[type[DOMNode]]) -> list[BindingInfo]:
    """Every binding with an id on `classes`, with the keys it has by default."""
    seen: set[str] = set()
    infos = []
    for cls in classes:
        for binding in bindings_of(cls):
            if binding.id and binding.id not in seen:
                seen.add(binding.id)
                infos.append(
                    BindingInfo(binding.id, binding.key, binding.description, cls.__name__)
                )
    return infos


def validate(keymap: dict[str, str], known: set[str]) -> tuple[dict[str, str], list[str]]:
    """The usable part of `keymap`, and the problems with the rest (plain-text messages)."""
    good: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in keymap.items():
        if binding_id not in known:
            problems.append(f"keymap: no action with id {binding_id!r}")
        elif (
            not isinstance(keys, str)
            or not keys.strip()
            or any(not k.strip() for k in keys.split(","))
        ):
            problems.append(f'keymap: {binding_id!r} needs keys like "ctrl+l" or "n,right"')
        else:
            good[binding_id] = ",".join(k.strip() for k in keys.split(","))
    return good, problems
