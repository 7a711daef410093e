"""Candidate pairs for grouping without an N x N matrix.

- Perceptual hashes: multi-index hashing. The 64 bits are cut into m chunks; two hashes within
  distance d must agree on some chunk to within r = ceil((d+1)/m) - 1 bits (pigeonhole), so each
  chunk gets a bucket table and each hash probes its own chunk value XOR every mask of <= r bits.
  Only pairs that share a probed bucket are compared in full. m is chosen from the library size
  so buckets hold about one hash: work grows close to linearly, not with N^2.
- Vectors: k nearest neighbours, either exactly (blockwise matrix products, a block of rows at a
  time, so memory is block x N) or through an Annoy forest (approximate, far faster at scale).

Everything returns plain numpy arrays of (i, j, similarity) with i < j.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from itertools import combinations

import numpy as np

from anagnorisis_tui.core.base.progress import check
from anagnorisis_tui.core.duplicates.phash import BITS, popcount64

Tick = Callable[[int, int], None]  # (done, total) for progress reports
MAX_TABLE_BITS = 22  # a bucket table of 2^22 int32 starts + counts: 32 MiB
PAIR_STEP = 4_000_000  # candidate pairs materialised at once, bounding memory


def masks(width: int, radius: int) -> np.ndarray:
    """Every mask of `width` bits with at most `radius` set (0 first)."""
    out = [0]
    for r in range(1, radius + 1):
        for bits in combinations(range(width), r):
            out.append(sum(1 << b for b in bits))
    return np.array(out, dtype=np.int64)


# Work units (one probe of one hash ~ 1; a candidate pair ~ 3, measured on this machine class)
# beyond which the search stops being exact: about a minute on a 2-core NAS CPU.
PLAN_BUDGET = 1.5e9


def plan_cost(n: int, m: int, radius: int) -> float:
    width = math.ceil(BITS / m)
    probes = sum(math.comb(width, r) for r in range(radius + 1))
    candidates = n * n / 2 * probes / (1 << width) * m
    return m * n * probes + 3 * candidates


def plan_chunks(n: int, distance: int, budget: float = PLAN_BUDGET) -> tuple[int, int]:
    """(chunks m, probe radius r) for n hashes and this distance.

    The exact plan (m * (r + 1) > distance, by pigeonhole) with the least estimated work, when
    that fits the budget. Past it (a very large library and a wide distance), the cheapest plan
    within budget that is exact up to the largest distance it can be: pairs beyond that
    distance are still found whenever one chunk holds at most r of their differing bits, which
    is most of them (recall is measured in BENCHMARKS.md).
    """
    plans = []
    for m in range(2, 17):
        if math.ceil(BITS / m) > MAX_TABLE_BITS:
            continue
        for radius in range(0, math.ceil((distance + 1) / m)):
            exact_to = m * (radius + 1) - 1
            plans.append((min(exact_to, distance), plan_cost(n, m, radius), m, radius))
    exact = [p for p in plans if p[0] >= distance]
    best = min(exact, key=lambda p: p[1])
    if best[1] <= budget:
        return best[2], best[3]
    affordable = [p for p in plans if p[1] <= budget] or [min(plans, key=lambda p: p[1])]
    chosen = max(affordable, key=lambda p: (p[0], -p[1]))
    return chosen[2], chosen[3]


def exact_up_to(n: int, distance: int) -> int:
    """The distance up to which phash_pairs finds every pair for n hashes."""
    m, radius = plan_chunks(n, distance)
    return min(distance, m * (radius + 1) - 1)


def phash_pairs(
    codes: np.ndarray,
    max_distance: int,
    *,
    cancel: threading.Event | None = None,
    tick: Tick | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs (i < j) of 64-bit codes within max_distance bits: (i, j, distance)."""
    codes = np.ascontiguousarray(codes, dtype=np.int64).view(np.uint64)
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    if len(codes) < 2 or max_distance < 0:
        return empty
    # Identical codes are joined to their first occurrence directly; only distinct codes go
    # through the tables, so a thousand copies of one image cost nothing quadratic.
    unique, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    same_i = first[inverse]
    same_j = np.arange(len(codes))
    dup = same_i != same_j
    pairs_i, pairs_j, dists = [same_i[dup]], [same_j[dup]], [np.zeros(int(dup.sum()), np.int64)]
    n = len(unique)
    if n > 1 and max_distance > 0:
        ui, uj, ud = _mih(unique, max_distance, cancel, tick)
        pairs_i.append(first[ui])
        pairs_j.append(first[uj])
        dists.append(ud)
    i = np.concatenate(pairs_i)
    j = np.concatenate(pairs_j)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    return lo, hi, np.concatenate(dists)


def _mih(
    codes: np.ndarray, max_distance: int, cancel: threading.Event | None, tick: Tick | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(codes)
    m, radius = plan_chunks(n, max_distance)
    keys: list[np.ndarray] = []
    total_steps = 0
    masks_by_width: dict[int, np.ndarray] = {}
    chunks = []
    shift = 0
    # Exactly m non-empty chunks (the pigeonhole bound counts them): widths differ by <= 1.
    for c in range(m):
        w = BITS // m + (1 if c < BITS % m else 0)
        chunks.append((shift, w))
        shift += w
        masks_by_width.setdefault(w, masks(w, radius))
        total_steps += len(masks_by_width[w])
    step = 0
    index = np.arange(n, dtype=np.int64)
    for shift, w in chunks:
        vals = ((codes >> np.uint64(shift)) & np.uint64((1 << w) - 1)).astype(np.int64)
        order = np.argsort(vals, kind="stable")
        counts = np.bincount(vals, minlength=1 << w).astype(np.int32)
        starts = (np.cumsum(counts, dtype=np.int64) - counts).astype(np.int64)
        for mask in masks_by_width[w]:
            check(cancel)
            probe = vals ^ mask
            cnt = counts[probe]
            st = starts[probe]
            has = np.nonzero(cnt)[0]
            if len(has):
                keys.extend(
                    _pairs_from_buckets(
                        index[has], st[has], cnt[has], order, codes, max_distance, n
                    )
                )
            step += 1
            if tick:
                tick(step, total_steps)
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    merged = np.unique(np.concatenate(keys))
    i, j = merged // n, merged % n
    return i, j, popcount64(codes[i] ^ codes[j])


def _pairs_from_buckets(
    a_idx: np.ndarray,
    st: np.ndarray,
    cnt: np.ndarray,
    order: np.ndarray,
    codes: np.ndarray,
    max_distance: int,
    n: int,
) -> Iterator[np.ndarray]:
    """Pair keys i*n+j (i < j, distance <= max) for hashes a_idx against their probed buckets."""
    ends = np.cumsum(cnt)
    begin = 0
    while begin < len(a_idx):
        # Slice so that at most PAIR_STEP pairs exist at once.
        base = ends[begin - 1] if begin else 0
        stop = int(np.searchsorted(ends, base + PAIR_STEP, side="right"))
        stop = max(stop, begin + 1)
        c = cnt[begin:stop]
        total = int(c.sum())
        a = np.repeat(a_idx[begin:stop], c)
        offsets = np.arange(total) - np.repeat(np.cumsum(c) - c, c)
        b = order[np.repeat(st[begin:stop], c) + offsets]
        keep = a < b
        a, b = a[keep], b[keep]
        close = popcount64(codes[a] ^ codes[b]) <= max_distance
        yield a[close] * n + b[close]
        begin = stop


# -- vectors ---------------------------------------------------------------------------------


def exact_knn(
    matrix: np.ndarray,
    k: int,
    *,
    block: int = 256,
    threshold: float | None = None,
    cancel: threading.Event | None = None,
    tick: Tick | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(neighbours n x k, cosines n x k) of normalised rows, self excluded; exact, blockwise.

    With a threshold, only neighbours with cosine >= threshold are listed (missing ones are -1
    with cosine -2): what grouping needs, at a fraction of the cost of a full top-k."""
    n = matrix.shape[0]
    k = max(0, min(k, n - 1))
    idx = np.zeros((n, k), dtype=np.int64)
    sims = np.zeros((n, k), dtype=np.float32)
    if k == 0:
        return idx, sims
    if threshold is not None:
        idx[:] = -1
        sims[:] = -2.0
    for start in range(0, n, block):
        check(cancel)
        stop = min(n, start + block)
        s = matrix[start:stop] @ matrix.T
        s[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        if threshold is None:
            part = np.argpartition(-s, k - 1, axis=1)[:, :k]
            idx[start:stop] = part
            sims[start:stop] = np.take_along_axis(s, part, axis=1)
        else:
            # Only neighbours at or above the threshold matter to grouping: select them with a
            # comparison (cheap) instead of partitioning every row of N columns (slow), then
            # keep the k best of those. Same result as the full kNN cut at the threshold.
            rows, cols = np.nonzero(s >= threshold)
            vals = s[rows, cols]
            order = np.lexsort((-vals, rows))
            rows, cols, vals = rows[order], cols[order], vals[order]
            starts = np.searchsorted(rows, np.arange(stop - start))
            rank = np.arange(len(rows)) - starts[rows]
            keep = rank < k
            idx[start + rows[keep], rank[keep]] = cols[keep]
            sims[start + rows[keep], rank[keep]] = vals[keep]
        if tick:
            tick(stop, n)
    return idx, sims


def annoy_knn(
    rows: Iterator[tuple[np.ndarray, np.ndarray]],
    n: int,
    dim: int,
    k: int,
    *,
    trees: int | None = None,
    search_k: int | None = None,
    workdir: str | None = None,
    cancel: threading.Event | None = None,
    tick: Tick | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Approximate kNN through an Annoy forest built on disk (memory-mapped, not in RAM).

    rows yields (item ids, normalised vectors) blocks. Missing neighbours are -1 with cosine -2.
    """
    from annoy import AnnoyIndex  # imported here: only grouping and search need it

    trees = trees or (10 if n <= 200_000 else 20)
    index = AnnoyIndex(dim, "angular")
    fd, path = tempfile.mkstemp(suffix=".annoy", dir=workdir)
    os.close(fd)
    try:
        index.on_disk_build(path)
        for ids, block in rows:
            check(cancel)
            # Plain lists: Annoy reads them faster than it iterates numpy rows.
            for item, vector in zip(ids.tolist(), block.tolist(), strict=True):
                index.add_item(item, vector)
        index.build(trees, n_jobs=-1)
        k = max(0, min(k, n - 1))
        idx = np.full((n, k), -1, dtype=np.int64)
        sims = np.full((n, k), -2.0, dtype=np.float32)
        search_k = search_k or trees * (k + 1) * 4
        total = index.get_n_items()
        for item in range(total):
            if item % 1024 == 0:
                check(cancel)
                if tick:
                    tick(item, total)
            found, dist = index.get_nns_by_item(item, k + 1, search_k, include_distances=True)
            pos = 0
            for other, d in zip(found, dist, strict=True):
                if other == item or pos >= k:
                    continue
                idx[item, pos] = other
                sims[item, pos] = 1.0 - d * d / 2.0  # angular distance = sqrt(2 - 2 cos)
                pos += 1
        return idx, sims
    finally:
        index.unload()
        os.unlink(path)


def knn_pairs(
    idx: np.ndarray, sims: np.ndarray, threshold: float, *, mutual: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges (i < j, cosine) from kNN tables, keeping those at or above threshold, deduplicated.

    mutual=True keeps only pairs each of which lists the other among its k nearest: a "hub"
    image close to many unrelated ones then no longer chains them into one cluster."""
    n, k = idx.shape
    rows = np.repeat(np.arange(n, dtype=np.int64), k)
    cols = idx.ravel()
    s = sims.ravel()
    keep = (cols >= 0) & (s >= threshold)
    rows, cols, s = rows[keep], cols[keep], s[keep]
    lo, hi = np.minimum(rows, cols), np.maximum(rows, cols)
    key = lo * max(n, 1) + hi
    key, first, seen = np.unique(key, return_index=True, return_counts=True)
    if mutual:
        first = first[seen >= 2]
    return lo[first], hi[first], s[first]
