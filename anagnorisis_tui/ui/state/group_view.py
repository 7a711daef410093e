"""What the similarity groups view shows, as plain data and text: a group with its members as
catalogue entries, the user's decision per group, and the summary of what moved where.

Kept apart from the screen (no Textual here) so it stays small and is read at a glance.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text

from anagnorisis_tui.core.views.paging import ImageEntry


@dataclass
class Decision:
    """What happened to one group in this session (for the summary and for undo)."""

    kind: str  # "trashed", "kept", "skipped"
    keeper: str = ""
    moved: list[tuple[str, str]] = field(default_factory=list)  # (from, to)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    batch: str | None = None


@dataclass(frozen=True)
class GroupRow:
    """A core Group with its members as catalogue entries (name, folder, rating) for display."""

    group: Any  # core.duplicates.groups.Group: id, members (keeper first, each with a tier)
    entries: list[ImageEntry]

    @property
    def keeper(self) -> str:
        return self.group.keeper.path


def members_of(row: GroupRow) -> list[ImageEntry]:
    return row.entries


def entry_for(library: Any, member: Any) -> ImageEntry:
    found = library.views.entry(member.path)
    if found is not None:
        return found
    # Gone from the catalogue since grouping (moved by another program): shown, never acted on
    # blindly (the core re-checks every file before it moves it).
    return ImageEntry(
        path=member.path,
        hash=member.hash,
        name=os.path.basename(member.path),
        folder=os.path.dirname(member.path),
        root=member.root,
        size=member.size,
        width=member.width,
        height=member.height,
        format=None,
        mtime_ns=member.mtime_ns,
    )


def left_out_text(report: Any) -> str:
    """What grouping left out and why (a core GroupReport), in one plain line; "" for nothing."""
    parts = []
    if report.low_detail:
        parts.append(
            f"{report.low_detail} low-detail pictures (flat, gradients) grouped only when identical"
        )
    if report.split:
        parts.append(f"{report.split} images not verified against a keeper kept apart")
    if report.unverified:
        parts.append(f"{report.unverified} images could not be verified")
    return "; ".join(parts)


def summary_text(decisions: dict[int, Decision]) -> Text:
    """What was moved and where, newest group first (plain text: paths are user data)."""
    log = Text()
    moved = [m for d in decisions.values() for m in d.moved]
    kept = sum(1 for d in decisions.values() if d.kind == "kept")
    if not decisions:
        log.append("Nothing moved yet. ", style="dim")
        log.append(
            "s keeper · t trash the marked (✗) · i mark/unmark · T filter by tier · a keep all · "
            "n skip · u undo",
            style="dim",
        )
        return log
    log.append(f"{len(moved)} moved to the trash · {kept} groups kept whole", style="bold")
    for index in sorted(decisions, reverse=True):
        decision = decisions[index]
        for source, dest in decision.moved:
            log.append(f"\ngroup {index + 1}: {source} → {dest}")
        for path, reason in decision.failed:
            log.append(f"\ngroup {index + 1}: skipped {path}: {reason}", style="red")
    return log
