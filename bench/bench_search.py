#!/usr/bin/env python
"""Search latency p50/p99 and recall@10 at 10k/100k/1M vectors: exact numpy vs Annoy.

    nice python bench/bench_search.py                 # 10k, 100k, 1M (1M needs ~8 GB RAM)
    python bench/bench_search.py --sizes 10000 100000

Vectors are structured like CLIP embeddings (512-d, clustered; no ANN works on iid random
vectors), stored and searched exactly as the app does: index.build() on a real SQLite
catalogue (float32 vectors.npy for exact search, Annoy with search_k tuned per build), queries
unseen by the tuning. Recall@10 is against exact search on the same vectors.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anagnorisis_tui.core.base import db as dbmod  # noqa: E402
from anagnorisis_tui.core.semantic import (
    index,
    vectors,  # noqa: E402
)


def clustered(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """Vectors around n/100 cluster centres, at CLIP-like spread (cosine to centre ~0.8)."""
    rng = np.random.default_rng(seed)
    clusters = max(10, n // 100)
    centres = rng.normal(size=(clusters, dim)).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        labels = rng.integers(0, clusters, m)
        block = centres[labels] + 0.75 * rng.normal(size=(m, dim)).astype(np.float32)
        out[start : start + m] = vectors.normalise(block)
    return out


def percentiles(samples: list[float]) -> tuple[float, float]:
    arr = np.array(samples) * 1000
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n: int, dim: int, trees: int, queries: int, tmp: Path) -> None:
    exact_queries = queries if n <= 200_000 else max(20, queries // 5)  # 1M exact: ~0.5 s each
    mat = clustered(n, dim)
    hashes = [f"{i:032x}" for i in range(n)]
    db = dbmod.connect(tmp / f"v{n}.db")
    vectors.register_model(db, "bench", dim)
    for start in range(0, n, 50_000):
        vectors.put_vectors(
            db, "bench", hashes[start : start + 50_000], mat[start : start + 50_000]
        )
    data = tmp / f"data{n}"
    t0 = time.perf_counter()
    meta_exact = index.build(db, data, "bench", exact_max=n)  # vectors.npy only
    exact_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    meta = index.build(db, data, "bench", exact_max=0, trees=trees)
    ann_build = time.perf_counter() - t0
    snap = index.open_snapshot(data, "bench", dim)
    assert snap is not None and snap.ann is not None
    qs = index.tuning_queries(mat, queries, seed=12345)
    truth = [{hashes[i] for i in ids} for ids in index.exact_truth(mat, qs)]

    exact_t, ann_t, ann_hits, exact_hits = [], [], 0, 0
    for j, (q, want) in enumerate(zip(qs, truth, strict=True)):
        if j < exact_queries:
            t = time.perf_counter()
            got = snap.search(q, 10, exact=True)
            exact_t.append(time.perf_counter() - t)
            exact_hits += len(want & {h for h, _ in got})
        t = time.perf_counter()
        got = snap.search(q, 10)
        ann_t.append(time.perf_counter() - t)
        ann_hits += len(want & {h for h, _ in got})
    e50, e99 = percentiles(exact_t)
    a50, a99 = percentiles(ann_t)
    files = meta["files"]
    print(
        f"{n:>9,} exact(f32 mmap) p50 {e50:7.2f} ms p99 {e99:7.2f} ms recall {exact_hits / (10 * len(exact_t)):.3f}"
        f" | annoy {trees} trees p50 {a50:7.2f} ms p99 {a99:7.2f} ms recall "
        f"{ann_hits / (10 * queries):.3f} (search_k/10 {meta['search_k_per_10']}, tuned "
        f"{meta['tuned_recall_at_10']:.3f})",
        flush=True,
    )
    print(
        f"{'':>9} build: vectors.npy {exact_build:.1f} s ({files['vectors.npy'] / 1e6:.0f} MB)"
        f", annoy {ann_build:.1f} s ({files['index.ann'] / 1e6:.0f} MB); peak RSS {rss_mb():.0f} MB",
        flush=True,
    )
    snap.close()
    db.conn.close()
    del meta_exact


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--trees", type=int, default=index.TREES)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        for n in args.sizes:
            run(n, args.dim, args.trees, args.queries, Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
