"""The duplicate review's state, without Textual: which group is shown, each group's keeper,
what 't' would send to the trash, and what was decided.

The groups screen (ui/screens/groups.py) routes keys here and draws what this says; the rules
live here, tested without an app (tests/unit/test_group_review.py):
- marks start as the core's default plan would take them (preselected: the verified duplicate
  tiers), and the keeper is never marked;
- choosing another keeper ("s") swaps marks: the old keeper is marked only when the new one
  was (a verified duplicate), so picking a "similar" or "series" image trashes no original;
- keeping the best ("b") keeps the member you rated highest (else the model's best guess) and
  marks every other one;
- a decision (skipped, kept, trashed) is per group shown; a tier filter starts the list again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from anagnorisis_tui.core.duplicates.options import TIERS
from anagnorisis_tui.ui.state.group_view import (
    Decision,
    GroupRow,
    best_member,
    members_of,
    preselected,
    with_tier,
)

if TYPE_CHECKING:
    from anagnorisis_tui.core.duplicates.groups import Group


@dataclass(frozen=True)
class TrashRequest:
    """What 't' asks to confirm: the keeper and the marked members' paths."""

    index: int
    keeper: str
    paths: list[str]


@dataclass
class GroupReview:
    all_groups: list[GroupRow] = field(default_factory=list)
    left_out: str = ""  # what grouping left out and why, for the summary
    tier_filter: str | None = None  # None: every group
    selected: dict[int, set[str]] = field(default_factory=dict)  # group id -> paths to trash
    groups: list[GroupRow] = field(default_factory=list)  # those the filter shows
    index: int = 0
    keepers: dict[int, str] = field(default_factory=dict)  # shown index -> chosen keeper
    decisions: dict[int, Decision] = field(default_factory=dict)  # shown index -> decision

    def load(self, rows: list[GroupRow], left_out: str = "") -> None:
        """A new grouping: every choice starts again."""
        self.all_groups = rows
        self.left_out = left_out
        self.keepers.clear()
        self.selected = preselected(rows)
        self.apply_filter()

    def apply_filter(self) -> None:
        self.groups = with_tier(self.all_groups, self.tier_filter)
        self.index = 0
        self.decisions.clear()

    def cycle_tier(self) -> None:
        order: list[str | None] = [None, *TIERS]
        self.tier_filter = order[(order.index(self.tier_filter) + 1) % len(order)]
        self.apply_filter()

    @property
    def group(self) -> GroupRow | None:
        return self.groups[self.index] if 0 <= self.index < len(self.groups) else None

    def keeper_of(self, index: int) -> str:
        return self.keepers.get(index) or self.groups[index].keeper

    def to_trash(self, index: int) -> list[str]:
        """The members 't' would send to the trash for group `index` (never the keeper)."""
        row = self.groups[index]
        keeper = self.keeper_of(index)
        chosen = self.selected.get(row.group.id, set())
        return [m.path for m in row.group.members if m.path in chosen and m.path != keeper]

    def toggle(self, path: str) -> bool:
        """Put a member in or out of what 't' sends; False for the keeper (never marked)."""
        group = self.group
        if group is None or path == self.keeper_of(self.index):
            return False
        self.selected.setdefault(group.group.id, set()).symmetric_difference_update({path})
        return True

    def swap_keeper(self, path: str | None) -> bool:
        """Make `path` the keeper (the highlighted member; the keeper itself, or None: the next
        member). The old keeper takes the new one's mark."""
        group = self.group
        if group is None:
            return False
        members = members_of(group)
        keeper = self.keeper_of(self.index)
        if path is None or path == keeper:
            paths = [m.path for m in members]
            path = members[(paths.index(keeper) + 1) % len(members)].path
        self.keepers[self.index] = path
        chosen = self.selected.setdefault(group.group.id, set())
        if path in chosen:
            chosen.discard(path)
            chosen.add(keeper)
        return True

    def keep_best(self) -> bool:
        """Keep the best member by the user's rating, else the model's; mark the others.
        False when no member is rated or predicted (nothing changes)."""
        group = self.group
        if group is None:
            return False
        best = best_member(members_of(group))
        if best is None:
            return False
        self.keepers[self.index] = best.path
        self.selected[group.group.id] = {m.path for m in group.group.members} - {best.path}
        return True

    def go(self, index: int) -> None:
        self.index = max(0, min(index, len(self.groups)))

    def skip(self) -> None:
        if self.group is not None and self.index not in self.decisions:
            self.decisions[self.index] = Decision("skipped")
        self.go(self.index + 1)

    def keep_all(self) -> Group | None:
        """Not duplicates: the group to remember as such (None: nothing shown), moving on."""
        row = self.group
        if row is None:
            return None
        self.decisions[self.index] = Decision("kept", keeper=self.keeper_of(self.index))
        self.go(self.index + 1)
        group: Group = row.group
        return group

    def trash_request(self) -> TrashRequest | str:
        """What 't' would send, or why nothing (a message for the user; "" with no group)."""
        if self.group is None:
            return ""
        decision = self.decisions.get(self.index)
        if decision is not None and decision.kind == "trashed":
            return "This group is done; u undoes it."
        paths = self.to_trash(self.index)
        if not paths:
            return "Nothing in this group is marked for the trash (i marks an image)."
        return TrashRequest(self.index, self.keeper_of(self.index), paths)

    def done(self, index: int, decision: Decision) -> None:
        self.decisions[index] = decision
        self.go(index + 1)

    def undo_target(self) -> tuple[int, str] | None:
        """The last trashed group this session (its index and batch), or None."""
        order = list(self.decisions)
        trashed = [
            (order.index(i), i, d.batch)
            for i, d in self.decisions.items()
            if d.kind == "trashed" and d.batch
        ]
        if not trashed:
            return None
        _, index, batch = max(trashed)
        assert batch is not None
        return index, batch

    def undone(self, index: int) -> None:
        self.decisions.pop(index, None)
        self.go(index)
