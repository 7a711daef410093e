"""From candidate pairs to groups whose every member is verified against the group's keeper.

Candidates (a shared perceptual-hash bucket, equal pixels, close CLIP vectors) are only
proposals. Each is given a tier: "bytes" (one content hash, several files), "pixels" (equal
decoded pixels), or what verify.verify() says of the two renditions ("same", "edited",
"similar", or nothing). Groups never chain: the best image of a connected set of duplicate
edges becomes a keeper and takes only the images verified against it; the rest start again
among themselves. A member's tier is that of its own pair with the keeper. "series" members
(another moment of one scene, evidence.py), then "similar" ones, join a keeper they belong
with; the rest form groups of their own: a connected series is one group (a burst is a chain
of moments), similar images group the keeper-verified way. Both are for browsing, never
trashed by default.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from anagnorisis_tui.core.base.progress import check
from anagnorisis_tui.core.duplicates import verify

RANK = {t: n for n, t in enumerate(verify.TIERS)}
BROWSING = ("series", "similar")  # tiers for looking at, never in a default trash plan


@dataclass(frozen=True)
class Edge:
    tier: str
    verdict: verify.Verdict | None = None
    why: str = ""  # what the second look saw (evidence.py): "taken 0.12 s apart", ...
    turn: str = ""  # the second picture is the first mirrored or rotated (probes.TURNS)


@dataclass(frozen=True)
class Cluster:
    keeper: int  # node index
    members: dict[int, Edge]  # node -> its edge to the keeper (keeper absent)


def verify_pairs(
    pairs: Iterable[tuple[int, int]],
    renditions: dict[int, verify.Rendition],
    *,
    cancel: threading.Event | None = None,
    tick: Callable[[int, int], None] | None = None,
    turned: set[tuple[int, int]] | None = None,
) -> dict[tuple[int, int], Edge]:
    """Verdicts for candidate pairs (i < j); pairs without both renditions stay unverified.
    A pair in `turned` (proposed by a mirrored or rotated rendition) that is no copy as it is
    is verified turned each way too: a copy turned is "edited", with the turn as its why."""
    pairs = list(pairs)
    out: dict[tuple[int, int], Edge] = {}
    for n, (i, j) in enumerate(pairs):
        if n % 256 == 0:
            check(cancel)
            if tick:
                tick(n, len(pairs))
        a, b = renditions.get(i), renditions.get(j)
        if a is None or b is None:
            continue
        verdict = verify.verify(a, b)
        if turned and (i, j) in turned and verdict.tier not in verify.DUPLICATE_TIERS:
            found = _turned(a, b)
            if found is not None:
                out[(i, j)] = found
                continue
        if verdict.tier is not None:
            out[(i, j)] = Edge(verdict.tier, verdict)
    if tick:
        tick(len(pairs), len(pairs))
    return out


def _turned(a: verify.Rendition, b: verify.Rendition) -> Edge | None:
    from anagnorisis_tui.core.duplicates.probes import QUARTER, TURNS, turn

    for name in TURNS:
        quarter = name in QUARTER
        pixels = np.ascontiguousarray(turn(b.pixels, name, axes=(0, 1)))
        width, height = (b.height, b.width) if quarter else (b.width, b.height)
        verdict = verify.verify(a, verify.Rendition(pixels, width, height))
        if verdict.tier in ("same", "edited"):
            edited = verify.Verdict("edited", *dataclasses.astuple(verdict)[1:])
            return Edge("edited", edited, "", name)
    return None


INVERSE = {"rotated 90°": "rotated 270°", "rotated 270°": "rotated 90°"}


def turned_words(turn: str, member_is_second: bool) -> str:
    """How a member is turned from its keeper, for an edge whose second picture turned by
    `turn` matches its first."""
    return INVERSE.get(turn, turn) if member_is_second else turn


def clusters(
    edges: dict[tuple[int, int], Edge], order: Callable[[int], tuple[object, ...]]
) -> tuple[list[Cluster], int]:
    """Keeper-verified clusters from tiered edges, and how many images were split off a
    connected set because they were not verified against its keeper."""
    dup: dict[int, dict[int, Edge]] = {}
    browsing: dict[str, dict[int, dict[int, Edge]]] = {tier: {} for tier in BROWSING}
    for (i, j), edge in edges.items():
        table = browsing.get(edge.tier, dup)
        table.setdefault(i, {})[j] = edge
        table.setdefault(j, {})[i] = edge
    found: list[Cluster] = []
    taken: set[int] = set()
    split = 0
    for component in _components(dup):
        remaining = sorted(component, key=order)
        first = True
        while len(remaining) > 1:
            keeper = remaining[0]
            near = dup.get(keeper, {})
            members = {n: near[n] for n in remaining[1:] if n in near}
            if first:
                # Images of this connected set that its keeper does not vouch for.
                split += len(remaining) - 1 - len(members)
                first = False
            if members:
                found.append(Cluster(keeper, members))
                taken.add(keeper)
                taken.update(members)
            remaining = [n for n in remaining[1:] if n not in members]
    # A series, then similar images, join a keeper they belong with; the rest group among
    # themselves the same way (each member still verified against its keeper).
    for tier in BROWSING:
        table = browsing[tier]
        for cluster in found:
            for other, edge in table.get(cluster.keeper, {}).items():
                if other not in taken:
                    cluster.members[other] = edge
                    taken.add(other)
        loose = {
            n: {m: e for m, e in near.items() if m not in taken}
            for n, near in table.items()
            if n not in taken
        }
        for component in _components(loose):
            if tier == "series":
                # The frames of a burst, a pan, a bracket: one group, each frame joined by its
                # own pair (a series is for browsing; no default plan acts on it).
                found.append(_series(component, loose, order))
                taken.update(component)
                continue
            remaining = sorted(component, key=order)
            while len(remaining) > 1:
                keeper = remaining[0]
                near = loose.get(keeper, {})
                members = {n: near[n] for n in remaining[1:] if n in near}
                if members:
                    found.append(Cluster(keeper, members))
                    taken.add(keeper)
                    taken.update(members)
                remaining = [n for n in remaining[1:] if n not in members]
    return found, split


def _series(
    component: list[int],
    graph: dict[int, dict[int, Edge]],
    order: Callable[[int], tuple[object, ...]],
) -> Cluster:
    """One cluster of a connected series: the best frame keeps, every other frame carries its
    edge to the keeper, else the edge by which it was reached from the keeper's side."""
    keeper = min(component, key=order)
    members: dict[int, Edge] = {}
    frontier = [keeper]
    seen = {keeper}
    while frontier:
        node = frontier.pop(0)
        for other in sorted(graph.get(node, {}), key=order):
            if other not in seen:
                seen.add(other)
                members[other] = graph[keeper].get(other) or graph[node][other]
                frontier.append(other)
    return Cluster(keeper, members)


def _components(graph: dict[int, dict[int, Edge]]) -> list[list[int]]:
    seen: set[int] = set()
    out = []
    for start in graph:
        if start in seen or not graph[start]:
            continue
        stack, part = [start], []
        seen.add(start)
        while stack:
            node = stack.pop()
            part.append(node)
            for other in graph.get(node, {}):
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        out.append(part)
    return out


def describe(
    tier: str,
    verdict: verify.Verdict | None,
    member: tuple[int | None, int | None, str | None],
    keeper: tuple[int | None, int | None, str | None],
    why: str = "",
) -> str:
    """Why a member is in its group, in words: its tier and what differs from the keeper.

    member and keeper are (width, height, format)."""
    (w, h, fmt), (kw, kh, kfmt) = member, keeper
    words = {
        "bytes": "identical bytes",
        "pixels": "identical pixels",
        "same": "same picture",
        "edited": "lightly edited",
        "raw-pair": "RAW and JPEG of one shot",
        "series": "another moment",
        "similar": "similar",
    }
    parts = [words.get(tier, tier)]
    if tier == "bytes":
        return parts[0]
    if w and kw and h and kh and (w, h) != (kw, kh) and {w, h} != {kw, kh}:
        share = (w * h) / (kw * kh)
        linear = share**0.5
        if verdict is None or verdict.crop < 0.01 or abs(linear - (1 - verdict.crop)) > 0.02:
            parts.append(f"{round(linear * 100)}% size")
    if kfmt and fmt and fmt != kfmt and tier != "raw-pair":
        parts.append(f"{fmt} not {kfmt}")
    elif tier == "same" and (w, h) == (kw, kh):
        parts.append("re-encoded")
    if why:
        parts.append(why)
    elif verdict is not None and tier in ("edited", "similar"):
        if verdict.crop >= 0.01:
            parts.append(f"{round(verdict.crop * 100)}% crop")
        if abs(verdict.gain - 1) > 0.04:
            parts.append("brightness/contrast")
    return ", ".join(parts)
