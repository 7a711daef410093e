"""What the similarity groups view shows, as plain data and text: a group with its members as
catalogue entries, the user's decision per group, the head line and the summary of what moved
where.

Kept apart from the screen (no Textual here) so it stays small and is read at a glance.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, cast

from rich.text import Text

from anagnorisis_tui.core.base.progress import format_eta
from anagnorisis_tui.core.duplicates.options import DEFAULT_THRESHOLD
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
        return str(self.group.keeper.path)


def members_of(row: GroupRow) -> list[ImageEntry]:
    return row.entries


def preselected(rows: list[GroupRow]) -> dict[int, set[str]]:
    """Group id -> the members marked for the trash at first: the verified duplicates only,
    never a "similar" one."""
    return {row.group.id: {m.path for m in row.group.duplicates()} for row in rows}


def with_tier(rows: list[GroupRow], tier: str | None) -> list[GroupRow]:
    """The groups with a member of `tier` (None: every group)."""
    return [row for row in rows if tier is None or any(m.tier == tier for m in row.group.others)]


def entry_for(library: Any, member: Any) -> ImageEntry:
    found = library.views.entry(member.path)
    if found is not None:
        return cast(ImageEntry, found)
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


def progress_text(p: Any) -> Text:
    """The head line while grouping runs (a core Progress)."""
    text = Text(f"finding similar images: {p.stage}", style="italic")
    if p.total:
        text.append(f" {p.done:,}/{p.total:,}  ETA {format_eta(p.eta)}", style="dim")
    return text


def confirm_text(keeper: str, paths: list[str]) -> Text:
    """What the trash confirmation lists: the keeper, then every file that would move."""
    body = Text()
    body.append("Keep: ", style="bold")
    body.append(keeper)
    body.append(f"\nMove {len(paths)} to the system trash (undo with u):", style="bold")
    for path in paths:
        body.append(f"\n  {path}")
    return body


def head_text(
    *,
    method: str,
    threshold: float | None,
    tier_filter: str | None,
    index: int,
    groups: list[GroupRow],
    decisions: dict[int, Decision],
) -> Text:
    """The groups view's head line: where the user is, the shown group's tier, the settings."""
    # The threshold proposes pairs by their CLIP vectors; a group's similarity is how closely
    # its pictures agree pixel by pixel: two measures, named apart.
    cosine = threshold if threshold is not None else DEFAULT_THRESHOLD
    shown = method + (f", vectors propose at cosine ≥ {cosine:g}" if method != "phash" else "")
    tier = f" · tier {tier_filter}" if tier_filter else ""
    if not groups:
        return Text(f"No groups ({shown}{tier}). T tier, - looser, + stricter, m method.")
    done = sum(1 for d in decisions.values() if d.kind != "skipped")
    group = groups[index] if 0 <= index < len(groups) else None
    head = Text()
    head.append(f"Group {index + 1} of {len(groups)}", style="bold")
    if group is not None:
        head.append(f" · {len(members_of(group))} images")
        head.append(f" · tier {group.group.tier}", style="bold")
        head.append(f" · pixels agree {group.group.similarity:.2f}")
    head.append(f" · {done} decided · {shown}{tier}", style="dim")
    decision = decisions.get(index)
    if decision is not None:
        head.append(f" · {decision.kind}", style="bold yellow")
    return head


def summary_text(decisions: dict[int, Decision]) -> Text:
    """What was moved and where, newest group first (plain text: paths are user data)."""
    log = Text()
    moved = [m for d in decisions.values() for m in d.moved]
    kept = sum(1 for d in decisions.values() if d.kind == "kept")
    if not decisions:
        log.append("Nothing moved yet. ", style="dim")
        log.append(
            "s keeper · t trash the marked (✗) · i mark/unmark · T filter by tier · a not duplicates (remembered) · "
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


def best_member(entries: list[ImageEntry]) -> ImageEntry | None:
    """The member to keep from a series: the one the user rated highest, else (none rated) the
    one the personal model predicts highest; None when neither says anything."""
    rated = [e for e in entries if e.rating is not None]
    if rated:
        return max(rated, key=lambda e: e.rating or 0.0)
    predicted = [e for e in entries if e.predicted is not None]
    return max(predicted, key=lambda e: e.predicted or 0.0) if predicted else None
