"""Page latency of filtered, sorted views at 100,000 images, beside the plain view baseline.

Uses the catalogue built by bench_groups_scale.py (files, images with random sizes/dimensions
written here, vectors for a concept score). Each line: the view, count() and first/deep page
times (median of 5), and the ratio to the baseline (path order, no filters) in the same run.

    python bench/bench_groups_scale.py --n 100000 --methods phash/mih   # builds the catalogue
    python bench/bench_filters_page.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    from anagnorisis_tui.core.base import db as dbmod
    from anagnorisis_tui.core.base import ratings
    from anagnorisis_tui.core.views import paging
    from anagnorisis_tui.core.views import text_scores as textscores
    from anagnorisis_tui.core.views.filters import Concept, Filters
    from anagnorisis_tui.core.views.paging import ViewSpec

    db_path = ROOT / "bench" / "out" / f"groups-{args.n}.db"
    if not db_path.exists():
        raise SystemExit(f"{db_path} missing: run bench_groups_scale.py --n {args.n} first")
    db = dbmod.connect(db_path)
    rng = np.random.default_rng(1)
    n = db.execute("SELECT count(*) FROM files").fetchone()[0]
    # Varied sizes, dimensions and some ratings so filters and sorts have work to do.
    widths = rng.integers(200, 6000, n)
    heights = rng.integers(200, 6000, n)
    sizes = rng.integers(10_000, 20_000_000, n)
    with db.conn:
        db.conn.executemany(
            "UPDATE images SET width = ?, height = ?, size = ? WHERE hash = ?",
            (
                (int(w), int(h), int(s), f"h{i:07d}")
                for i, (w, h, s) in enumerate(zip(widths, heights, sizes, strict=True))
            ),
        )
        db.conn.executemany(
            "UPDATE files SET size = ?, folder = ? WHERE hash = ?",
            ((int(s), f"f{i % 50}", f"h{i:07d}") for i, s in enumerate(sizes)),
        )
    for i in rng.choice(n, n // 10, replace=False):
        ratings.set_rating(db, f"h{int(i):07d}", float(rng.integers(0, 11)))
    concept = rng.standard_normal(512).astype(np.float32)

    def scores(text: str) -> str:
        return textscores.score_table(db, "bench", concept)

    t = time.perf_counter()
    scores("concept")
    print(
        f"concept scores for {n} vectors (once per query, then cached): "
        f"{(time.perf_counter() - t) * 1000:.0f} ms"
    )
    views = {
        "baseline: path order": ViewSpec(),
        "resolution desc": ViewSpec(sort="resolution", descending=True),
        "proportion (wide to tall)": ViewSpec(sort="proportion", descending=True),
        "size, min 5 MB": ViewSpec(sort="size", filters=Filters(min_bytes=5_000_000)),
        "random (seeded)": ViewSpec(sort="random", seed=3),
        "rating desc (unrated last)": ViewSpec(sort="rating", descending=True),
        "portrait, 2-12 MP, folder": ViewSpec(
            folder="f7", filters=Filters(shape="portrait", min_megapixels=2, max_megapixels=12)
        ),
        "concept keep >= 0.02, by score": ViewSpec(
            sort="score", descending=True, filters=Filters(concept=Concept("c", 0.02))
        ),
    }
    base = None
    print("| view | count ms | first page ms | page at 50% ms | ratio (first page) |")
    print("| --- | --- | --- | --- | --- |")
    for name, spec in views.items():
        total = paging.count(db, spec, scores=scores)
        c = timed(lambda spec=spec: paging.count(db, spec, scores=scores))
        first = timed(lambda spec=spec: paging.page(db, spec, 0, 60, scores=scores))
        deep = timed(lambda spec=spec, t=total: paging.page(db, spec, t // 2, 60, scores=scores))
        base = base or first
        print(f"| {name} ({total}) | {c:.1f} | {first:.1f} | {deep:.1f} | {first / base:.1f}x |")


if __name__ == "__main__":
    main()
