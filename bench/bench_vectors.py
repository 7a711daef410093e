#!/usr/bin/env python
"""Vector storage in SQLite: file size and load time for float16 vs float32 blobs at several
page sizes, and whether float16 changes any search result (top-10 overlap with float32).

    nice python bench/bench_vectors.py              # 100,000 x 512-d (ViT-B-32 size)
    python bench/bench_vectors.py --count 20000 --dim 64
"""

from __future__ import annotations

import argparse
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
from bench.bench_search import clustered  # noqa: E402


def measure(path: Path, page: int, dtype: str, hashes, mat) -> tuple[float, float, float]:
    saved = dbmod.PAGE_SIZE
    dbmod.PAGE_SIZE = page  # connect() applies it to a new file, before WAL mode
    db = dbmod.connect(path)
    dbmod.PAGE_SIZE = saved
    assert db.execute("PRAGMA page_size").fetchone()[0] == page
    vectors.register_model(db, "m", mat.shape[1], dtype=dtype)
    t0 = time.perf_counter()
    for start in range(0, len(hashes), 10_000):
        vectors.put_vectors(db, "m", hashes[start : start + 10_000], mat[start : start + 10_000])
    write = time.perf_counter() - t0
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    db = dbmod.connect(path)
    t0 = time.perf_counter()
    vectors.load_vectors(db, "m")
    load = time.perf_counter() - t0
    db.conn.close()
    return path.stat().st_size / 1e6, write, load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=512)
    args = parser.parse_args()
    mat = clustered(args.count, args.dim)
    hashes = [f"{i:032x}" for i in range(args.count)]
    raw = {"float16": args.count * args.dim * 2 / 1e6, "float32": args.count * args.dim * 4 / 1e6}
    print(f"{args.count:,} vectors x {args.dim} dims, 32-char hashes")
    print(f"{'dtype':<8} {'page':>6} {'file MB':>9} {'x raw':>6} {'write s':>8} {'load all s':>10}")
    with tempfile.TemporaryDirectory(prefix="bench-vectors-") as tmp:
        for dtype in ("float16", "float32"):
            for page in (4096, 8192, 16384, 32768):
                path = Path(tmp) / f"{dtype}-{page}.db"
                size, write, load = measure(path, page, dtype, hashes, mat)
                print(
                    f"{dtype:<8} {page:>6} {size:>9.1f} {size / raw[dtype]:>6.2f} "
                    f"{write:>8.2f} {load:>10.2f}",
                    flush=True,
                )
    # Does float16 storage change results? Top-10 overlap with float32 on unseen queries.
    half = mat.astype(np.float16)
    qs = index.tuning_queries(mat, 200, seed=5)
    overlap = 0
    for q in qs:
        a = {h for h, _ in index.exact_top(mat, hashes, q, 10)}
        b = {h for h, _ in index.exact_top(half, hashes, q, 10)}
        overlap += len(a & b)
    err = float(np.abs(half.astype(np.float32) @ qs.T - mat @ qs.T).max())
    print(f"float16 vs float32: top-10 overlap {overlap / 2000:.4f}, max cosine error {err:.5f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
