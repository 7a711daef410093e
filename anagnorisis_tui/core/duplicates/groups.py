"""Duplicate groups whose every member is verified against its keeper, in evidence tiers.

Candidates come cheaply, without an N x N matrix: several files with one content hash; equal
decoded pixels (images.pixel_hash); perceptual hashes within `phash_distance` bits
(multi-index hashing, core/duplicates/neighbours.py); crop boxes of one rendition hashing
close to another whole picture (core/duplicates/probes.py); and, with vectors, the mutual k nearest
CLIP neighbours whose cosine is at least `threshold`. Every candidate pair is then verified on
the two colour renditions (core/duplicates/verify.py) and given a tier: "bytes", "pixels",
"same" (re-encoded, resized, another format, EXIF-rotated, metadata edited), "edited" (crop up
to ~10%, brightness/contrast, a small colour shift) or "similar" (alike, not a copy: browsing
only). Groups never chain (core/duplicates/tiers.py): each member is verified against the
keeper, and its tier is that of its own pair with the keeper.

Pictures with little detail (near-flat renditions) are trusted only on identical bytes or
pixels; the report says how many were left out that way, and how many images a connected
set's keeper did not vouch for (split off into groups of their own, or left alone).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.base.progress import Progress, ProgressCallback, Timer
from anagnorisis_tui.core.duplicates import (
    dismissals,
    evidence,
    keepers,
    looks,
    metadata,
    neighbours,
    probes,
    renditions,
    smooth,
    tiers,
    vector_pairs,
    verify,
)
from anagnorisis_tui.core.duplicates.options import (
    MAX_PHASH_DISTANCE,
    METHODS,
    GroupOptions,
    planned_by_default,
)
from anagnorisis_tui.core.errors import UserError
from anagnorisis_tui.core.semantic import vectors

# The vector candidates live in vector_pairs.py; these names stay importable from here.
EXACT_LIMIT = vector_pairs.EXACT_LIMIT
iter_vectors = vector_pairs.iter_vectors
_vector_edges = vector_pairs.vector_edges


class GroupError(UserError, ValueError):
    """Grouping parameters that make no sense; the message says which."""


@dataclass(frozen=True)
class Member:
    path: str
    hash: str
    size: int
    width: int | None
    height: int | None
    mtime_ns: int
    root: str = ""
    tier: str = "keeper"  # its pair's tier with the keeper (see verify.TIERS)
    why: str = ""  # in words: the tier and what differs from the keeper
    metadata: int = 0  # EXIF fields plus an XMP sidecar: the keeper prefers more
    format: str | None = None  # "JPEG", "PNG", "RAW", ... (keeper rules may prefer one)
    rating: float | None = None  # the user's rating of its content

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)


@dataclass(frozen=True)
class Group:
    id: int  # 1-based position in this listing (tightest first)
    members: tuple[Member, ...]  # the suggested keeper first
    similarity: float  # the weakest member's agreement with the keeper, 0..1
    reasons: tuple[str, ...] = field(default=())  # the tiers present, strongest first

    @property
    def keeper(self) -> Member:
        return self.members[0]

    @property
    def others(self) -> tuple[Member, ...]:
        return self.members[1:]

    @property
    def tier(self) -> str:
        """The weakest tier among the members (what the whole group can be trusted as)."""
        return max((m.tier for m in self.others), key=verify.TIERS.index, default="bytes")

    def duplicates(self, tiers: tuple[str, ...] | None = None) -> tuple[Member, ...]:
        """The members (keeper excluded) whose tier is among `tiers` (None: those dedupe's
        default plan takes, options.planned_by_default)."""
        if tiers is None:
            return tuple(m for m in self.others if planned_by_default(m.tier, m.why))
        return tuple(m for m in self.others if m.tier in tiers)


@dataclass(frozen=True)
class GroupReport:
    groups: list[Group]
    low_detail: int  # pictures with little detail, trusted only on identical bytes/pixels
    split: int  # images of a connected set that its keeper did not vouch for
    unverified: int  # candidate images without a rendition (left out of duplicate tiers)


def keeper_order(member: Member) -> tuple[object, ...]:
    """Highest resolution, then more metadata, then largest file, then oldest, then path (the
    default; keepers.KeeperRules puts the user's rules first)."""
    return keepers.default_order(member)


def check_params(threshold: float, method: str, phash_distance: int) -> None:
    if method not in METHODS:
        raise GroupError(f"unknown grouping method {method!r}; choose one of {', '.join(METHODS)}")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise GroupError(f"the threshold must be a number, not {threshold!r}")
    if not 0.0 < threshold <= 1.0:
        raise GroupError(f"the threshold is a cosine similarity in (0, 1], not {threshold}")
    if isinstance(phash_distance, bool) or not isinstance(phash_distance, int):
        raise GroupError(
            f"the phash distance must be a whole number of bits, not {phash_distance!r}"
        )
    if not 0 <= phash_distance <= MAX_PHASH_DISTANCE:
        raise GroupError(
            f"the phash distance must be from 0 to {MAX_PHASH_DISTANCE} bits, not {phash_distance}"
        )


def _scope(root: str | None, folder: str | None) -> tuple[str, list[object]]:
    clauses: list[str] = ["f.present = 1"]
    params: list[object] = []
    if root is not None:
        clauses.append("f.root = ?")
        params.append(root)
    if folder:
        escaped = folder.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append("(f.folder = ? OR f.folder LIKE ? ESCAPE '\\')")
        params += [folder, escaped + "/%"]
    return " AND ".join(clauses), params


def pick_model(db: Database, model_id: str | None) -> str | None:
    """The given model, else the one with the most stored vectors (None when there are none)."""
    return model_id if model_id is not None else vectors.most_stored_model(db)


def group_report(
    db: Database,
    options: GroupOptions | None = None,
    *,
    model_id: str | None = None,
    k: int = 10,
    neighbour_search: str = "auto",
    mutual: bool = True,
    workdir: str | None = None,
    thumbnail_cache: str | None = None,
    rules: keepers.KeeperRules | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> GroupReport:
    """Verified groups of present images (in the root/folder scope), strongest tier first.

    Raises GroupError for nonsense parameters and progress.Cancelled when `cancel` is set
    (there is no useful partial grouping to return). Vector candidates are mutual k nearest
    neighbours (a "hub" image close to many unrelated ones proposes no pairs)."""
    options = options or GroupOptions()
    threshold, method, phash_distance = options.threshold, options.method, options.phash_distance
    check_params(threshold, method, phash_distance)
    if neighbour_search not in ("auto", "exact", "annoy"):
        raise GroupError(f"unknown neighbour search {neighbour_search!r}")
    timer = Timer()

    def report(stage: str) -> neighbours.Tick:
        def tick(done: int, total: int) -> None:
            if progress:
                progress(Progress(stage, done, total, elapsed=timer.elapsed))

        return tick

    where, params = _scope(options.root, options.folder)
    rows = db.execute(
        f"SELECT f.hash, min(i.phash), min(i.pixel_hash), count(*), min(i.width), "
        f"min(i.height), min(i.format) FROM files f JOIN images i ON i.hash = f.hash "
        f"WHERE {where} GROUP BY f.hash ORDER BY f.hash",
        params,
    ).fetchall()
    hashes = [r[0] for r in rows]
    n = len(hashes)
    shape = {p: (r[4], r[5], r[6]) for p, r in enumerate(rows)}
    multi_file = [p for p, r in enumerate(rows) if r[3] > 1]
    edges: dict[tuple[int, int], tiers.Edge] = {}
    candidates: set[tuple[int, int]] = set()
    turned: set[tuple[int, int]] = set()  # proposed by a mirrored or rotated picture
    if method in ("both", "phash") and n > 1:
        for a, b in _equal_sets([r[2] for r in rows]):
            edges[(a, b)] = tiers.Edge("pixels")
        have = np.array([r[1] is not None for r in rows], dtype=bool)
        where_have = np.nonzero(have)[0]
        codes = np.array([r[1] for r in rows if r[1] is not None], dtype=np.int64)
        i, j, d = neighbours.phash_pairs(
            codes, phash_distance, cancel=cancel, tick=report("phash pairs")
        )
        candidates.update(_expand(where_have, codes, i[d > 0], j[d > 0]))
        # Crops beyond the pHash radius: crop boxes of each rendition against whole pictures;
        # smooth pictures (their pHash is noise) by their colour layout, from the same read.
        layouts: dict[int, np.ndarray] = {}
        candidates.update(
            probes.crop_pairs(
                db,
                hashes,
                cancel=cancel,
                tick=report("crop pairs"),
                smooth=layouts,
                turned=turned,
            )
        )
        candidates.update(smooth.pairs(layouts))
    del rows
    if method in ("both", "vectors") and n > 1:
        vi, vj, _ = _vector_edges(
            db,
            hashes,
            pick_model(db, model_id),
            threshold,
            k,
            neighbour_search,
            mutual,
            workdir,
            cancel,
            report("neighbours"),
        )
        candidates.update(zip(vi.tolist(), vj.tolist(), strict=True))
    candidates -= set(edges)
    # Pairs the user said are not duplicates (dismissals.py) are never proposed again.
    refused = dismissals.pairs(db)
    if refused:
        for pair in [p for p in (*edges, *candidates) if _pair(hashes, p) in refused]:
            edges.pop(pair, None)
            candidates.discard(pair)
        multi_file = [p for p in multi_file if (hashes[p], hashes[p]) not in refused]
    nodes = sorted({p for pair in candidates for p in pair})
    loaded = renditions.load(db, [hashes[p] for p in nodes])
    shown = {p: loaded[hashes[p]] for p in nodes if hashes[p] in loaded}
    edges.update(
        tiers.verify_pairs(
            sorted(candidates), shown, cancel=cancel, tick=report("verifying"), turned=turned
        )
    )
    # The second look (evidence.py): the shots and the 256-pixel thumbnails.
    path_of = evidence.paths(db, hashes, {p for pair in edges for p in pair}, where, params)
    edges = evidence.refine(
        edges,
        evidence.thumbnail_loader(hashes, path_of, thumbnail_cache),
        evidence.shot_loader(path_of),
        raw={p for p, (_w, _h, fmt) in shape.items() if fmt == "RAW"},
        # Looks remembered per pair of contents (looks.py), on the cache's thumbnails only.
        remembered=evidence.Remembered(looks.Memory(db), hashes, path_of, thumbnail_cache)
        if thumbnail_cache is not None
        else None,
        cancel=cancel,
        tick=report("comparing thumbnails"),
    )
    involved = sorted({p for pair in edges for p in pair} | set(multi_file))
    files = _files(db, [hashes[p] for p in involved], where, params)
    position = {h: p for p, h in enumerate(hashes)}
    by_node: dict[int, list[Member]] = {}
    for member in files:
        by_node.setdefault(position[member.hash], []).append(member)
    keeper_rules = rules or keepers.KeeperRules()
    for members in by_node.values():
        members.sort(key=keeper_rules.order)

    def order(node: int) -> tuple[object, ...]:
        best = by_node.get(node)
        return keeper_rules.order(best[0]) if best else (2, hashes[node])

    clusters, split = tiers.clusters(edges, order)
    groups = _build(clusters, by_node, multi_file, shape)
    grouped = {m.hash for g in groups for m in g.members}
    low = sum(1 for p, r in shown.items() if r.low_detail and hashes[p] not in grouped)
    unverified = len(nodes) - len(shown)
    return GroupReport(groups, low, split, unverified)


def _pair(hashes: list[str], pair: tuple[int, int]) -> tuple[str, str]:
    a, b = hashes[pair[0]], hashes[pair[1]]
    return (a, b) if a < b else (b, a)


def _expand(
    where: np.ndarray, codes: np.ndarray, i: np.ndarray, j: np.ndarray, limit: int = 200
) -> set[tuple[int, int]]:
    """Every candidate pair, with images of equal pHash standing for each other: phash_pairs
    lists one image per distinct code, and every member must meet every possible keeper."""
    members: dict[int, list[int]] = {}
    for pos, code in zip(where.tolist(), codes.tolist(), strict=True):
        members.setdefault(code, []).append(pos)
    out: set[tuple[int, int]] = set()
    for group in members.values():
        head = group[:limit]
        out.update((min(a, b), max(a, b)) for x, a in enumerate(head) for b in group[x + 1 :])
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        for x in members[int(codes[a])][:limit]:
            for y in members[int(codes[b])][:limit]:
                out.add((min(x, y), max(x, y)))
    return out


def _equal_sets(values: list[str | None], limit: int = 200) -> list[tuple[int, int]]:
    """Every pair (i < j) within each set of equal non-null values (a set larger than `limit`
    is joined to its first member only, which then keeps that set whole as its keeper)."""
    sets: dict[str, list[int]] = {}
    for idx, value in enumerate(values):
        if value is not None:
            sets.setdefault(value, []).append(idx)
    out = []
    for members in sets.values():
        if len(members) <= limit:
            out += [(a, b) for x, a in enumerate(members) for b in members[x + 1 :]]
        else:
            out += [(members[0], b) for b in members[1:]]
    return out


def _files(db: Database, wanted: list[str], where: str, params: list[object]) -> list[Member]:
    out = []
    for start in range(0, len(wanted), 900):
        chunk = wanted[start : start + 900]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(
            f"SELECT f.path, f.hash, f.size, i.width, i.height, f.mtime_ns, f.root, i.format, "
            f"(SELECT r.value FROM ratings r WHERE r.hash = f.hash) FROM files f "
            f"JOIN images i ON i.hash = f.hash WHERE {where} AND f.hash IN ({marks})",
            [*params, *chunk],
        ).fetchall():
            path, h, size, width, height, mtime_ns, root, fmt, rating = row
            out.append(
                Member(
                    path,
                    h,
                    size,
                    width,
                    height,
                    mtime_ns,
                    root,
                    metadata=metadata.score(fsnames.to_os(path)),
                    format=fmt,
                    rating=rating,
                )
            )
    return out


def _build(
    clusters: list[tiers.Cluster],
    by_node: dict[int, list[Member]],
    multi_file: list[int],
    shape: dict[int, tuple[int | None, int | None, str | None]],
) -> list[Group]:
    found: list[tuple[float, tuple[Member, ...]]] = []
    used: set[int] = set()

    def tagged(member: Member, edge: tiers.Edge, keeper: int, node: int) -> Member:
        note = tiers.turned_words(edge.turn, node > keeper) if edge.turn else edge.why
        member_shape, keeper_shape = shape[node], shape[keeper]
        if edge.turn in probes.QUARTER:  # a quarter turn: compare sizes upright
            member_shape = (member_shape[1], member_shape[0], member_shape[2])
        why = tiers.describe(edge.tier, edge.verdict, member_shape, keeper_shape, note)
        return replace(member, tier=edge.tier, why=why)

    same_content = tiers.Edge("bytes")

    for cluster in clusters:
        files = by_node.get(cluster.keeper, [])
        if not files:
            continue
        members = [files[0]] + [
            tagged(m, same_content, cluster.keeper, cluster.keeper) for m in files[1:]
        ]
        weakest = 1.0
        for node, edge in cluster.members.items():
            for member in by_node.get(node, []):
                members.append(tagged(member, edge, cluster.keeper, node))
            if edge.verdict is not None:
                weakest = min(weakest, 1.0 - edge.verdict.mean / 255.0)
        used.add(cluster.keeper)
        used.update(cluster.members)
        if len(members) > 1:
            found.append((weakest, tuple(members)))
    for node in multi_file:
        if node not in used and len(by_node.get(node, [])) > 1:
            files = by_node[node]
            found.append(
                (1.0, (files[0], *(tagged(m, same_content, node, node) for m in files[1:])))
            )
    rank = {t: n for n, t in enumerate(verify.TIERS)}

    def strength(item: tuple[float, tuple[Member, ...]]) -> tuple[Any, ...]:
        weakest, members = item
        tier = max(rank[m.tier] for m in members[1:])
        return (tier, -weakest, -len(members), members[0].path)

    found.sort(key=strength)
    groups = []
    for number, (weakest, group_members) in enumerate(found, start=1):
        present = {m.tier for m in group_members[1:]}
        groups.append(
            Group(
                number,
                group_members,
                round(weakest, 6),
                tuple(t for t in verify.TIERS if t in present),
            )
        )
    return groups
