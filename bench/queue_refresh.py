"""How long a rate-next refresh takes at 100,000 images, read from SQLite as the app does.

    nice python bench/queue_refresh.py [--images 100000] [--ratings 0,20,200,1000,10000]

512-d vectors (ViT-B-32's width; structured random vectors: the time does not depend on their
meaning), float16 in SQLite. For each number of ratings it times the queue of 50 the app asks
for (median of --repeats), beside two baselines from the same run: reading the 100,000 vectors
alone, and the coverage rule alone (queue_rules.facility) on arrays of the size a refresh
hands it (a 3,000-image sample of the unrated, and the rated).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluator_bench import simulated_user, synthetic_dataset  # noqa: E402

MODEL_ID = "bench-512"


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.monotonic()
        fn()
        times.append(time.monotonic() - t)
    return float(np.median(times))


def main() -> int:
    from anagnorisis_tui.core.base.config import load_settings
    from anagnorisis_tui.core.evaluator import queue_rules, rate_next
    from anagnorisis_tui.core.library import Library
    from anagnorisis_tui.core.semantic import vectors

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--ratings", default="0,20,200,1000,10000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n = args.images
    x, colours, shapes = synthetic_dataset(n, seed=0)
    y = simulated_user(colours, shapes, np.random.default_rng(0))
    hashes = [f"{i:032x}" for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp) / "data", config_file=Path(tmp) / "c.toml")
        with Library(settings) as lib:
            vectors.register_model(lib.db, MODEL_ID, x.shape[1])
            for s in range(0, n, 20000):
                vectors.put_vectors(lib.db, MODEL_ID, hashes[s : s + 20000], x[s : s + 20000])
            with lib.db.conn:
                lib.db.conn.executemany(
                    "INSERT INTO files(path, root, folder, name, hash, size, mtime_ns, added, "
                    "updated) VALUES (?, '/bench', '', ?, ?, 1, 0, 0, 0)",
                    [(f"/bench/{h}.jpg", f"{h}.jpg", h) for h in hashes],
                )
            print(f"{n} images, 512-d float16 vectors; queue of 50; median of {args.repeats}")
            print("ratings  refresh (s)  read vectors alone (s)  coverage rule alone, 3,000 (s)")
            done = 0
            for count in (int(v) for v in args.ratings.split(",")):
                with lib.db.conn:
                    lib.db.conn.executemany(
                        "INSERT INTO ratings(hash, value, updated) VALUES (?, ?, 0)",
                        [(hashes[i], float(y[i])) for i in range(done, count)],
                    )
                done = count
                t_queue = median_time(lambda: lib.evaluator.rate_next(top_k=50), args.repeats)
                t_read = median_time(lambda: vectors.load_vectors(lib.db, MODEL_ID), args.repeats)
                pool = x[count : count + rate_next.POOL_ROWS]
                t_cover = median_time(
                    lambda c=count, p=pool: queue_rules.facility(x[:c], p, 50), args.repeats
                )
                print(f"{count:>7}  {t_queue:>11.2f}  {t_read:>22.2f}  {t_cover:>23.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
