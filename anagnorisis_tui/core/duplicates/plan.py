"""Group actions, planning: what would happen to each group (keeper, and trash or move for
the rest), checked up front. Nothing here touches a file; see actions_apply.py for that.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.core.duplicates.groups import Group
from anagnorisis_tui.core.duplicates.options import planned_by_default
from anagnorisis_tui.core.duplicates.verify import DUPLICATE_TIERS
from anagnorisis_tui.core.errors import UserError

ACTIONS = ("trash", "move")


class ActionError(UserError, ValueError):
    """A plan that cannot be made (unknown action, no destination, bad keeper)."""


@dataclass(frozen=True)
class PlannedAction:
    group: int
    path: str
    hash: str
    size: int
    mtime_ns: int
    action: str  # 'trash' or 'move'
    dest: str | None  # for 'move': where it goes (a free name is picked at apply time)
    keeper: str
    keeper_hash: str
    keeper_size: int
    keeper_mtime_ns: int
    tier: str = ""  # its tier with the suggested keeper
    why: str = ""  # what differs from the keeper, in words


@dataclass(frozen=True)
class Plan:
    action: str
    dest_dir: str | None
    items: tuple[PlannedAction, ...]

    def describe(self) -> list[str]:
        """One plain-text line per planned step (the dry-run listing)."""
        lines = []
        for item in self.items:
            where = "the system trash" if item.action == "trash" else item.dest
            lines.append(
                f"group {item.group}: {item.action} {item.path} -> {where} (keeping {item.keeper}; "
                f"{item.why or item.tier})"
            )
        return lines


def plan_group_action(
    groups: Iterable[Group],
    *,
    action: str = "trash",
    dest_dir: str | os.PathLike[str] | None = None,
    keepers: Mapping[int, str] | None = None,
    tiers: tuple[str, ...] | None = None,
    include: Mapping[int, set[str]] | None = None,
    protected: Callable[[str], bool] | None = None,
) -> Plan:
    """What would happen to each group: keep one member (the suggested keeper unless `keepers`
    names another path for that group id), trash or move the members whose tier is in `tiers`
    (default: the verified duplicate tiers, never "similar", and not a tone change without a
    capture record: options.planned_by_default) or whose path `include` names for that group;
    every other member stays where it is.

    A member's tier is its pair's with the suggested keeper; when another keeper is chosen, the
    suggested one takes the chosen one's tier (a "similar" keeper never sends the original
    away by default). A member `protected` says is in a reference folder never moves."""
    tiers_named = tiers is not None
    tiers = DUPLICATE_TIERS if tiers is None else tuple(tiers)
    include = include or {}
    if action not in ACTIONS:
        raise ActionError(f"unknown action {action!r}; choose one of {', '.join(ACTIONS)}")
    dest: str | None = None
    if action == "move":
        if not dest_dir:
            raise ActionError("moving needs a destination folder")
        dest_os = os.path.abspath(os.path.expanduser(os.fspath(dest_dir)))
        if os.path.exists(dest_os) and not os.path.isdir(dest_os):
            raise ActionError(f"the destination {fsnames.display(dest_os)} is not a folder")
        dest = fsnames.to_db(dest_os)
    keepers = dict(keepers or {})
    items: list[PlannedAction] = []
    for group in groups:
        keeper = group.keeper
        if group.id in keepers:
            chosen = [m for m in group.members if m.path == keepers[group.id]]
            if not chosen:
                raise ActionError(f"{keepers[group.id]} is not a member of group {group.id}")
            keeper = chosen[0]
        chosen_paths = include.get(group.id, set())
        for member in group.members:
            if member.path == keeper.path:
                continue
            swapped = member.path == group.keeper.path
            tier = keeper.tier if swapped else member.tier
            why = keeper.why if swapped else member.why
            selected = tier in tiers if tiers_named else planned_by_default(tier, why)
            if not selected and member.path not in chosen_paths:
                continue
            if protected is not None and protected(member.path):
                continue  # a reference folder: never moved, whatever was asked
            target = None
            if dest is not None:
                rel = _relative(member.path, member.root)
                target = os.path.join(dest, rel)
                if is_inside(target, member.path):
                    raise ActionError(f"cannot move {member.path} into itself")
            items.append(
                PlannedAction(
                    group.id,
                    member.path,
                    member.hash,
                    member.size,
                    member.mtime_ns,
                    action,
                    target,
                    keeper.path,
                    keeper.hash,
                    keeper.size,
                    keeper.mtime_ns,
                    tier,
                    member.why,
                )
            )
    return Plan(action, dest, tuple(items))


def _relative(path: str, root: str) -> str:
    if root and is_inside(path, root):
        return os.path.relpath(path, root)
    return os.path.basename(path)


def is_inside(path: str, folder: str) -> bool:
    """Whether `path` lies strictly below `folder` (by normalised path text)."""
    folder = os.path.normpath(folder)
    return os.path.normpath(path).startswith(folder.rstrip(os.sep) + os.sep)


def plan_to_json(plan: Plan) -> str:
    return json.dumps(asdict(plan))
