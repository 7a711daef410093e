"""Personal evaluator benchmarks: sample efficiency, rate-next vs random, speed.

    nice python bench/evaluator_bench.py sample   # Spearman rho vs number of ratings, per model
    nice python bench/evaluator_bench.py queue    # rate-next choices vs random choices
    nice python bench/evaluator_bench.py speed    # train 10,000 ratings; predict 100,000 images
    nice python bench/evaluator_bench.py all

The preference benchmark: images of coloured shapes (anagnorisis_tui.core.demo.shapes) embedded with
the tiny CLIP shipped in the package; a simulated user rates round(5 + 3*red - 3*triangle + noise)
clipped to 0..10, noise ~ N(0, 1). Held-out images are never rated. `--source synthetic` uses
structured random vectors instead (no model needed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anagnorisis_tui.core.evaluator import metrics as eval_metrics
from anagnorisis_tui.core.evaluator import queue_rules, training
from anagnorisis_tui.core.evaluator import regressors as eval_models

COUNTS = (20, 50, 100, 500)
KINDS = (*eval_models.KINDS, "auto")


# -- data --------------------------------------------------------------------------------------
def simulated_user(colours: np.ndarray, shapes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    base = 5.0 + 3.0 * (colours == "red") - 3.0 * (shapes == "triangle")
    return np.clip(np.rint(base + rng.normal(0, 1.0, len(colours))), 0, 10).astype(np.float32)


def tiny_clip_dataset(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vectors, colours, shapes) of n rendered shapes images, embedded by the tiny CLIP."""
    from bench_shapes import embed_shapes  # bench/bench_shapes.py: the shipped model + renderer

    return embed_shapes(n, seed)


def synthetic_dataset(n: int, seed: int, dim: int = 512) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    colours = np.array(["red", "green", "blue", "yellow", "orange", "purple", "pink", "brown"])
    shapes = np.array(["circle", "square", "triangle", "star", "cross"])
    c, s = rng.integers(0, len(colours), n), rng.integers(0, len(shapes), n)
    cp, sp = rng.normal(size=(len(colours), dim)), rng.normal(size=(len(shapes), dim))
    x = cp[c] + 0.7 * sp[s] + rng.normal(0, 0.8, (n, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), colours[c], shapes[s]


def dataset(source: str, n: int, rep: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Libraries 100-105: the queue rule was picked after trying candidates on these and 200-203;
    # 300-303 were only used to confirm it (bench/queue_study.py, BENCHMARKS.md).
    seed = 100 + rep
    return tiny_clip_dataset(n, seed) if source == "tiny-clip" else synthetic_dataset(n, seed)


def fit_predict(kind: str, x: np.ndarray, y: np.ndarray, test: np.ndarray, seed: int) -> np.ndarray:
    if kind == "auto":  # what `train` does: choose by cross-validation, refit on everything
        report, arrays = training.fit_best(x, y, seed=seed)
        return eval_models.predict(report.chosen, arrays, test)
    return eval_models.fit(kind, x, y, seed=seed).predict(test)


def _split(n: int, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(1000 + seed).permutation(n)
    return order[n_test:], order[:n_test]


# -- sample efficiency ---------------------------------------------------------------------------
def queue_order(x_pool: np.ndarray, y_pool: np.ndarray, upto: int, batch: int = 10) -> list[int]:
    """Indices the rate-next queue hands out, `batch` at a time, retraining alpha in between."""
    picked: list[int] = []
    alpha = queue_rules.DEFAULT_ALPHA
    while len(picked) < upto:
        rest = np.setdiff1d(np.arange(len(x_pool)), picked)
        plan = queue_rules.plan(x_pool[picked], y_pool[picked], x_pool[rest], batch, alpha=alpha)
        picked += rest[[p.index for p in plan]].tolist()
        if len(picked) >= training.MIN_RATINGS and np.ptp(y_pool[picked]) > 0:
            ridge = eval_models.fit("ridge", x_pool[picked], y_pool[picked], seed=0)
            alpha = float(ridge.arrays["alpha"][0])
    return picked[:upto]


def sample_efficiency(source: str, repeats: int, n_images: int, n_test: int) -> dict:
    """rho on held-out images for each model and count, random choices vs the queue."""
    results: dict[tuple[str, str, int], list[float]] = {}
    for rep in range(repeats):
        x, colours, shapes = dataset(source, n_images, rep)
        y = simulated_user(colours, shapes, np.random.default_rng(500 + rep))
        pool, test = _split(len(y), n_test, rep)
        rng = np.random.default_rng(rep)
        random_order = rng.permutation(pool).tolist()
        q = queue_order(x[pool], y[pool], max(COUNTS))
        queue = pool[q].tolist()
        for strategy, order in (("random", random_order), ("queue", queue)):
            for n in COUNTS:
                chosen = np.array(order[:n])
                for kind in KINDS:
                    t = time.monotonic()
                    pred = fit_predict(kind, x[chosen], y[chosen], x[test], seed=rep)
                    rho = eval_metrics.spearman(y[test], pred)
                    results.setdefault((strategy, kind, n), []).append(rho)
                    print(
                        f"  rep {rep} {strategy:<6} {kind:<12} n={n:<4} rho={rho:.3f} "
                        f"({time.monotonic() - t:.1f}s)",
                        file=sys.stderr,
                        flush=True,
                    )
    return results


def ratings_to_reach(source: str, repeats: int, n_images: int, n_test: int, targets) -> dict:
    """Fewest ratings (grid of 10) at which `train`'s choice reaches each rho, queue vs random."""
    grid = list(range(20, 201, 10)) + list(range(250, 501, 50))
    found: dict[tuple[str, float], list[int | None]] = {}
    for rep in range(repeats):
        x, colours, shapes = dataset(source, n_images, rep)
        y = simulated_user(colours, shapes, np.random.default_rng(500 + rep))
        pool, test = _split(len(y), n_test, rep)
        orders = {
            "random": np.random.default_rng(rep).permutation(pool).tolist(),
            "queue": pool[queue_order(x[pool], y[pool], grid[-1])].tolist(),
        }
        for strategy, order in orders.items():
            curve = []
            for n in grid:
                chosen = np.array(order[:n])
                pred = fit_predict("ridge", x[chosen], y[chosen], x[test], seed=rep)
                curve.append(eval_metrics.spearman(y[test], pred))
            for target in targets:
                hit = next((n for n, r in zip(grid, curve, strict=True) if r >= target), None)
                found.setdefault((strategy, target), []).append(hit)
            print(
                f"  rep {rep} {strategy:<6} "
                + " ".join(f"{n}:{r:.2f}" for n, r in zip(grid, curve, strict=True)),
                file=sys.stderr,
                flush=True,
            )
    return found


def _median(values: list[int | None]) -> str:
    """Median, counting 'not reached by 500' as larger than any count."""
    ranked = sorted(values, key=lambda v: float("inf") if v is None else v)
    mid = ranked[len(ranked) // 2]
    return ">500" if mid is None else str(mid)


def print_sample(results: dict) -> None:
    print("\nSpearman rho on held-out images (mean ± sd over repeats):")
    print(f"{'choice':<8}{'model':<13}" + "".join(f"{'n=' + str(n):>14}" for n in COUNTS))
    for strategy in ("random", "queue"):
        for kind in KINDS:
            cells = []
            for n in COUNTS:
                vals = results[(strategy, kind, n)]
                cells.append(f"{np.mean(vals):.3f} ± {np.std(vals):.3f}")
            print(f"{strategy:<8}{kind:<13}" + "".join(f"{c:>14}" for c in cells))


# -- speed ---------------------------------------------------------------------------------------
def speed(source: str, n_train: int, n_predict: int) -> None:
    from anagnorisis_tui.core.base.config import load_settings
    from anagnorisis_tui.core.evaluator import store as eval_store
    from anagnorisis_tui.core.library import Library
    from anagnorisis_tui.core.semantic import vectors

    x, colours, shapes = synthetic_dataset(n_predict, seed=0)
    y = simulated_user(colours, shapes, np.random.default_rng(0))
    hashes = [f"{i:032x}" for i in range(n_predict)]
    with tempfile.TemporaryDirectory() as tmp:
        lib = Library(load_settings(data_dir=Path(tmp) / "data", config_file=Path(tmp) / "c.toml"))
        vectors.register_model(lib.db, "bench-512", x.shape[1])
        t = time.monotonic()
        for s in range(0, n_predict, 20000):
            vectors.put_vectors(lib.db, "bench-512", hashes[s : s + 20000], x[s : s + 20000])
        print(f"stored {n_predict} 512-d float16 vectors in {time.monotonic() - t:.1f} s")
        with lib.db.conn:
            lib.db.conn.executemany(
                "INSERT INTO ratings(hash, value, updated) VALUES (?, ?, 0)",
                [(hashes[i], float(y[i])) for i in range(n_train)],
            )
        t = time.monotonic()
        ridge_only = eval_models.fit("ridge", x[:n_train], y[:n_train], seed=0)
        t_ridge = time.monotonic() - t
        t = time.monotonic()
        original = eval_models.fit_mlp(
            "softmax_mlp",
            x[:n_train],
            y[:n_train],
            seed=0,
            config=eval_models.MLPConfig(hidden=(768, 256), components=x.shape[1]),
        )
        t_original = time.monotonic() - t
        del ridge_only, original
        # `train` predicts every image with vectors; time it on the 10,000 rated ones only.
        lib.db.execute("DELETE FROM vectors WHERE hash NOT IN (SELECT hash FROM ratings)")
        lib.db.conn.commit()
        t = time.monotonic()
        report = lib.evaluator.train(seed=0)
        t_train = time.monotonic() - t
        print(
            f"train on {n_train} ratings (3 models cross-validated on {report.cv_rows}, held-out "
            f"fit, final fit, save, {report.predicted} predictions): {t_train:.1f} s "
            f"[target < 20 s]; chosen {report.chosen}"
        )
        print(
            f"  baseline, same run: one ridge fit {t_ridge:.2f} s (ratio {t_train / t_ridge:.1f}x); "
            f"one fit of the original design's widths (768, 256) on 512 inputs {t_original:.1f} s"
        )
        for s in range(0, n_predict, 20000):
            vectors.put_vectors(lib.db, "bench-512", hashes[s : s + 20000], x[s : s + 20000])
        active = eval_store.load_active(lib.db, "bench-512")
        t = time.monotonic()
        vectors.load_vectors(lib.db, "bench-512")
        t_load = time.monotonic() - t
        t = time.monotonic()
        active.predict(x)
        active.uncertainty(x)
        t_numpy = time.monotonic() - t
        t = time.monotonic()
        done = eval_store.refresh_predictions(lib.db, active, only_missing=False)
        t_refresh = time.monotonic() - t
        print(
            f"predict {done} images ({report.chosen}, with uncertainty) from SQLite and store "
            f"the predictions: {t_refresh:.1f} s [target < 5 s]"
        )
        print(
            f"  baseline, same run: loading the {n_predict} vectors alone {t_load:.1f} s "
            f"(ratio {t_refresh / t_load:.1f}x); predicting from memory {t_numpy:.2f} s"
        )
        # Steady state: a newly trained evaluator replaces 100,000 older predictions.
        arrays, _, _ = training.fit_final(report.chosen, x[:n_train], y[:n_train], seed=1)
        newer = eval_store.save(
            Path(tmp) / "models",
            lib.db,
            kind=report.chosen,
            arrays=arrays,
            embed_model_id="bench-512",
            metrics={},
        )
        t = time.monotonic()
        done = eval_store.refresh_predictions(lib.db, newer)
        print(
            f"  replacing {done} older predictions with a new model's: {time.monotonic() - t:.1f} s"
        )
        for kind in eval_models.KINDS:
            fitted = eval_models.fit(kind, x[:2000], y[:2000], seed=0)
            t = time.monotonic()
            fitted.predict(x)
            print(f"  {kind:<12} predicts {n_predict} in memory: {time.monotonic() - t:.2f} s")
        lib.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("section", choices=["sample", "queue", "speed", "all"])
    parser.add_argument("--source", choices=["tiny-clip", "synthetic"], default="tiny-clip")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--images", type=int, default=3000, help="images per benchmark library")
    parser.add_argument("--test", type=int, default=1000, help="held-out images (never rated)")
    parser.add_argument(
        "--targets", type=float, nargs="+", default=[0.25, 0.3, 0.35, 0.4], help="rho targets"
    )
    args = parser.parse_args()
    print(
        f"source: {args.source}; {args.images} images, {args.test} held out; {args.repeats} repeats"
    )
    if args.section in ("sample", "all"):
        print_sample(sample_efficiency(args.source, args.repeats, args.images, args.test))
    if args.section in ("queue", "all"):
        targets = tuple(args.targets)
        found = ratings_to_reach(args.source, args.repeats, args.images, args.test, targets)
        print("\nRatings needed (ridge) to reach a held-out rho (median over repeats; per repeat):")
        for target in targets:
            q, r = found[("queue", target)], found[("random", target)]
            print(f"  rho >= {target}: queue {_median(q)} {q}  random {_median(r)} {r}")
    if args.section in ("speed", "all"):
        speed(args.source, 10_000, 100_000)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
