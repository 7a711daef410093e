"""Near-duplicate groups and broader clusters, without an N x N matrix.

Edges between images come from three sources, each cheap at scale:
- identical content: two present files with the same content hash are always one group;
- "phash": the same decoded pixels (images.pixel_hash) and perceptual hashes within
  `phash_distance` bits (multi-index hashing, core/duplicates/neighbours.py);
- "vectors": the k nearest CLIP neighbours (exact blockwise for small libraries, an Annoy
  forest beyond) whose cosine is at least `threshold`.
Connected components of those edges are the groups (union-find; single linkage, so a lower
threshold chains into broader clusters). Images without a vector are grouped by perceptual
hash only; images without either join only groups of identical content.

A group's `similarity` is its weakest link on the strongest chain joining it (the minimum edge
of a maximum spanning forest); groups are ordered tightest first. Edge similarities share one
scale: cosine for vectors, 1 - distance/64 for perceptual hashes, 1.0 for identical pixels.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.base.progress import Progress, ProgressCallback, Timer
from anagnorisis_tui.core.duplicates import neighbours
from anagnorisis_tui.core.duplicates.options import (
    DEFAULT_PHASH_DISTANCE,
    DEFAULT_THRESHOLD,
    MAX_PHASH_DISTANCE,
    METHODS,
)
from anagnorisis_tui.core.duplicates.phash import BITS
from anagnorisis_tui.core.errors import UserError
from anagnorisis_tui.core.semantic import vectors

EXACT_LIMIT = 6000  # exact kNN below this many vectors: fast enough and perfect recall


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

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)


@dataclass(frozen=True)
class Group:
    id: int  # 1-based position in this listing (tightest first)
    members: tuple[Member, ...]  # the suggested keeper first
    similarity: float  # weakest link, 0..1
    reasons: tuple[str, ...] = field(
        default=()
    )  # "same content", "same pixels", "phash", "vectors"

    @property
    def keeper(self) -> Member:
        return self.members[0]

    @property
    def others(self) -> tuple[Member, ...]:
        return self.members[1:]


def keeper_order(member: Member) -> tuple:
    """Highest resolution, then largest file, then oldest, then path (for a stable choice)."""
    return (-member.pixels, -member.size, member.mtime_ns, member.path)


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
    clauses, params = ["f.present = 1"], []
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


def find_groups(
    db: Database,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    method: str = "both",
    phash_distance: int = DEFAULT_PHASH_DISTANCE,
    model_id: str | None = None,
    root: str | None = None,
    folder: str | None = None,
    k: int = 10,
    neighbour_search: str = "auto",
    mutual: bool = True,
    workdir: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> list[Group]:
    """Groups of present images (in the root/folder scope), tightest first.

    Raises GroupError for nonsense parameters and progress.Cancelled when `cancel` is set
    (there is no useful partial grouping to return). With `mutual` (the default) two images
    are joined by their vectors only when each is among the other's k nearest neighbours: a
    "hub" image close to many unrelated ones no longer chains them together (on real photos
    this raised precision 4.6x for 10% of recall, BENCHMARKS.md)."""
    check_params(threshold, method, phash_distance)
    if neighbour_search not in ("auto", "exact", "annoy"):
        raise GroupError(f"unknown neighbour search {neighbour_search!r}")
    timer = Timer()

    def report(stage: str) -> neighbours.Tick:
        def tick(done: int, total: int) -> None:
            if progress:
                progress(Progress(stage, done, total, elapsed=timer.elapsed))

        return tick

    where, params = _scope(root, folder)
    rows = db.execute(
        f"SELECT f.hash, min(i.phash), min(i.pixel_hash), count(*) FROM files f "
        f"JOIN images i ON i.hash = f.hash WHERE {where} GROUP BY f.hash ORDER BY f.hash",
        params,
    ).fetchall()
    hashes = [r[0] for r in rows]
    n = len(hashes)
    multi_file = np.array([r[3] > 1 for r in rows], dtype=bool)
    edges_i: list[np.ndarray] = []
    edges_j: list[np.ndarray] = []
    edges_s: list[np.ndarray] = []
    kinds: list[tuple[str, np.ndarray, np.ndarray]] = []

    def add(kind: str, i: np.ndarray, j: np.ndarray, s: np.ndarray) -> None:
        edges_i.append(i)
        edges_j.append(j)
        edges_s.append(s.astype(np.float32))
        kinds.append((kind, i, j))

    if method in ("both", "phash") and n > 1:
        pixel = [r[2] for r in rows]
        pi, pj = _equal_pairs(pixel)
        add("same pixels", pi, pj, np.ones(len(pi)))
        have = np.array([r[1] is not None for r in rows], dtype=bool)
        where_have = np.nonzero(have)[0]
        codes = np.array([r[1] for r in rows if r[1] is not None], dtype=np.int64)
        i, j, d = neighbours.phash_pairs(
            codes, phash_distance, cancel=cancel, tick=report("phash pairs")
        )
        add("phash", where_have[i], where_have[j], 1.0 - d / BITS)
    del rows
    if method in ("both", "vectors") and n > 1:
        vi, vj, vs = _vector_edges(
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
        add("vectors", vi, vj, vs)

    i = np.concatenate(edges_i) if edges_i else np.zeros(0, np.int64)
    j = np.concatenate(edges_j) if edges_j else np.zeros(0, np.int64)
    s = np.concatenate(edges_s) if edges_s else np.zeros(0, np.float32)
    labels, weakest = _components(n, i, j, s)
    return _build_groups(db, hashes, labels, weakest, multi_file, kinds, where, params)


def _equal_pairs(values: list[str | None]) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (first occurrence, other) of equal non-null values."""
    first: dict[str, int] = {}
    a, b = [], []
    for idx, value in enumerate(values):
        if value is None:
            continue
        seen = first.setdefault(value, idx)
        if seen != idx:
            a.append(seen)
            b.append(idx)
    return np.array(a, dtype=np.int64), np.array(b, dtype=np.int64)


def iter_vectors(
    db: Database, model_id: str, wanted: dict[str, int], block: int = 4096
) -> Iterator[tuple[list[int], np.ndarray]]:
    """(positions in `wanted`, float32 block) for stored vectors of the wanted hashes."""
    spec = db.execute(
        "SELECT dim, dtype FROM embed_models WHERE model_id = ?", [model_id]
    ).fetchone()
    if spec is None:
        return
    dim, dtype = int(spec[0]), np.dtype("<f2" if spec[1] == "float16" else "<f4")
    cursor = db.conn.execute("SELECT hash, vector FROM vectors WHERE model_id = ?", [model_id])
    while True:
        chunk = cursor.fetchmany(block)
        if not chunk:
            return
        keep = [(wanted[h], v) for h, v in chunk if h in wanted]
        if keep:
            matrix = np.frombuffer(b"".join(v for _, v in keep), dtype=dtype).reshape(-1, dim)
            yield [p for p, _ in keep], matrix.astype(np.float32)


def _vector_edges(
    db: Database,
    hashes: list[str],
    model_id: str | None,
    threshold: float,
    k: int,
    neighbour_search: str,
    mutual: bool,
    workdir: str | None,
    cancel: threading.Event | None,
    tick: neighbours.Tick,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))
    if model_id is None:
        return empty
    spec = db.execute("SELECT dim FROM embed_models WHERE model_id = ?", [model_id]).fetchone()
    if spec is None:
        return empty
    dim = int(spec[0])
    position = {h: p for p, h in enumerate(hashes)}
    # Dense ids over the images that have a vector; `owner` maps them back to positions.
    count = db.execute("SELECT count(*) FROM vectors WHERE model_id = ?", [model_id]).fetchone()[0]
    use_exact = neighbour_search == "exact" or (neighbour_search == "auto" and count <= EXACT_LIMIT)
    owners: list[int] = []
    if use_exact:
        blocks = []
        for pos, matrix in iter_vectors(db, model_id, position):
            owners.extend(pos)
            blocks.append(matrix)
        if len(owners) < 2:
            return empty
        idx, sims = neighbours.exact_knn(
            np.concatenate(blocks), k, threshold=threshold, cancel=cancel, tick=tick
        )
    else:

        def dense() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            for pos, matrix in iter_vectors(db, model_id, position):
                start = len(owners)
                owners.extend(pos)
                yield np.arange(start, start + len(pos)), matrix

        idx, sims = neighbours.annoy_knn(
            dense(), count, dim, k, workdir=workdir, cancel=cancel, tick=tick
        )
        # count may include vectors outside the scope: trim to what was added.
        idx, sims = idx[: len(owners)], sims[: len(owners)]
        if len(owners) < 2:
            return empty
    i, j, s = neighbours.knn_pairs(idx, sims, threshold, mutual=mutual)
    own = np.array(owners, dtype=np.int64)
    return own[i], own[j], s


def _components(
    n: int, i: np.ndarray, j: np.ndarray, s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(component label per image, weakest link per label) via a maximum spanning forest."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    if len(i):
        # One edge per pair, the strongest (several sources may propose the same pair).
        key = i * n + j
        order = np.lexsort((-s, key))
        key, i, j, s = key[order], i[order], j[order], s[order]
        first = np.concatenate([[True], key[1:] != key[:-1]])
        i, j, s = i[first], j[first], s[first]
    # Weights 2 - s are >= 1 (a zero weight would read as "no edge"); the minimum spanning
    # forest on them is the maximum one on similarity.
    graph = coo_matrix((2.0 - s.astype(np.float64), (i, j)), shape=(n, n)).tocsr()
    count, labels = connected_components(graph, directed=False)
    forest = minimum_spanning_tree(graph).tocoo()
    weakest = np.ones(count, dtype=np.float32)
    if forest.nnz:
        np.minimum.at(weakest, labels[forest.row], (2.0 - forest.data).astype(np.float32))
    return labels.astype(np.int64), weakest


def _build_groups(
    db: Database,
    hashes: list[str],
    labels: np.ndarray,
    weakest: np.ndarray,
    multi_file: np.ndarray,
    kinds: list[tuple[str, np.ndarray, np.ndarray]],
    where: str,
    params: list[object],
) -> list[Group]:
    if len(hashes) == 0:
        return []
    sizes = np.bincount(labels)
    grouped = (sizes[labels] > 1) | multi_file
    wanted = np.nonzero(grouped)[0]
    if len(wanted) == 0:
        return []
    reasons: dict[int, set[str]] = {}
    for kind, i, _ in kinds:
        for label in np.unique(labels[i]).tolist():
            reasons.setdefault(label, set()).add(kind)
    for pos in np.nonzero(multi_file)[0].tolist():
        reasons.setdefault(int(labels[pos]), set()).add("same content")
    label_of = {hashes[p]: int(labels[p]) for p in wanted.tolist()}
    members: dict[int, list[Member]] = {}
    wanted_hashes = list(label_of)
    for start in range(0, len(wanted_hashes), 900):
        chunk = wanted_hashes[start : start + 900]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(
            f"SELECT f.path, f.hash, f.size, i.width, i.height, f.mtime_ns, f.root FROM files f "
            f"JOIN images i ON i.hash = f.hash WHERE {where} AND f.hash IN ({marks})",
            [*params, *chunk],
        ).fetchall():
            members.setdefault(label_of[row[1]], []).append(Member(*row))
    found = []
    order = ("same content", "same pixels", "phash", "vectors")
    for label, group_members in members.items():
        if len(group_members) < 2:
            continue  # a file vanished between the two queries
        group_members.sort(key=keeper_order)
        kinds_here = reasons.get(label, set())
        found.append(
            (
                float(weakest[label]) if sizes[label] > 1 else 1.0,
                tuple(group_members),
                tuple(k for k in order if k in kinds_here),
            )
        )
    found.sort(key=lambda g: (-g[0], -len(g[1]), g[1][0].path))
    return [
        Group(number, group_members, round(sim, 6), why)
        for number, (sim, group_members, why) in enumerate(found, start=1)
    ]
