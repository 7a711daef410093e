"""A grouping as the command line shows it: one group as JSON, and what grouping left out and
why, in sentences (the app says the same in one line: ui/state/group_view.left_out_text)."""

from __future__ import annotations

from typing import Any

from anagnorisis_tui.core.duplicates.groups import Group, GroupReport


def group_json(group: Group) -> dict[str, Any]:
    """One group, keeper first, each member with its tier and the why (`groups --json`)."""
    return {
        "group": group.id,
        "similarity": group.similarity,
        "tier": group.tier,
        "reasons": list(group.reasons),
        "keeper": group.keeper.path,
        "members": [
            {
                "path": m.path,
                "hash": m.hash,
                "size": m.size,
                "width": m.width,
                "height": m.height,
                "mtime_ns": m.mtime_ns,
                "keeper": i == 0,
                "tier": m.tier,
                "why": m.why,
            }
            for i, m in enumerate(group.members)
        ],
    }


def left_out(report: GroupReport) -> list[str]:
    """What grouping left out and why, one sentence each (none: nothing was)."""
    notes = []
    if report.low_detail:
        notes.append(
            f"{report.low_detail} pictures with little detail (flat, gradients) were left out: "
            "they are grouped only when their bytes or pixels are identical"
        )
    if report.split:
        notes.append(
            f"{report.split} images alike to a group's members but not verified against its "
            "keeper were kept apart (groups never chain)"
        )
    if report.unverified:
        notes.append(
            f"{report.unverified} images could not be verified (no rendition: unreadable?) and "
            "are in no duplicate tier"
        )
    return notes
