"""Train the personal evaluator on the user's ratings and report honestly how well it does.

Protocol (deterministic for a seed):
1. The rated images with vectors of the active embedding model are the data set.
2. A held-out test set (20 %, at least 5 images) is set aside and never used for choosing.
3. Each candidate (ridge, mlp, softmax_mlp) is cross-validated on the rest. The simplest model
   whose CV MAE is within one standard error of the best (the paired difference of absolute
   errors) wins: with few ratings CV is noisy and the flexible models win by luck. Large rating
   sets cross-validate on a seeded subsample so retraining stays fast.
4. The winner is refit on the training part and scored on the held-out set beside the
   constant-mean baseline (MAE, Spearman rho, pairwise ranking accuracy).
5. The winner is refit on every rating, saved (safetensors) as the active evaluator, and every
   image with vectors gets a fresh prediction.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.base.progress import Cancelled, Progress, ProgressCallback, Timer, check
from anagnorisis_tui.core.errors import UserError
from anagnorisis_tui.core.evaluator import metrics as eval_metrics
from anagnorisis_tui.core.evaluator import regressors as eval_models
from anagnorisis_tui.core.evaluator import store as eval_store
from anagnorisis_tui.core.semantic import vectors

MIN_RATINGS = 15
HOLDOUT_FRACTION = 0.2
MIN_HOLDOUT = 5
CV_MAX_ROWS = 1500  # above this, cross-validation uses a seeded subsample
SIMPLICITY = {"ridge": 0, "mlp": 1, "softmax_mlp": 2}


class TrainingError(UserError, ValueError):
    """Training cannot start (too few or identical ratings, no vectors); the message says why."""


@dataclass
class CandidateResult:
    kind: str
    cv: eval_metrics.Metrics
    seconds: float
    curve: dict[str, list[float]] = field(default_factory=dict)  # from the first CV fold
    curve_x: list[float] = field(default_factory=list)
    curve_label: str = ""


@dataclass
class TrainReport:
    """Everything the Train screen shows. Plain data; `as_dict()` is JSON-ready."""

    embed_model_id: str
    seed: int
    n_ratings: int = 0  # rated images with vectors (the data set)
    n_rated_without_vectors: int = 0
    n_train: int = 0
    n_holdout: int = 0
    cv_folds: int = 0
    cv_rows: int = 0
    candidates: list[CandidateResult] = field(default_factory=list)
    baseline_cv: eval_metrics.Metrics | None = None
    chosen: str | None = None
    holdout: eval_metrics.Metrics | None = None
    holdout_baseline: eval_metrics.Metrics | None = None
    holdout_pairs: list[tuple[float, float]] = field(default_factory=list)  # (rating, predicted)
    # The chosen model's fit for the held-out test: "train"/"validation" MSE at each curve_x
    # (epochs for the MLPs, alphas for ridge; curve_label says which).
    curve: dict[str, list[float]] = field(default_factory=dict)
    curve_x: list[float] = field(default_factory=list)
    curve_label: str = ""
    rating_histogram: list[int] = field(default_factory=list)  # counts for 0..10
    prediction_histogram: list[int] = field(default_factory=list)
    evaluator_id: str | None = None
    predicted: int = 0
    seconds: float = 0.0
    cancelled: bool = False

    @property
    def beats_baseline(self) -> bool:
        return bool(
            self.holdout
            and self.holdout_baseline
            and self.holdout.mae < self.holdout_baseline.mae
            and self.holdout.spearman > 0
        )

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["beats_baseline"] = self.beats_baseline
        return out


def rated_data(db: Database, model_id: str) -> tuple[list[str], np.ndarray, np.ndarray, int]:
    """(hashes, vectors, ratings, rated images lacking vectors) in a stable order."""
    rated = dict(db.execute("SELECT hash, value FROM ratings ORDER BY hash").fetchall())
    hashes, mat = vectors.load_vectors(db, model_id, list(rated))
    order = np.argsort(hashes)
    hashes = [hashes[i] for i in order]
    mat = mat[order] if len(hashes) else np.zeros((0, 0), np.float32)
    y = np.array([rated[h] for h in hashes], dtype=np.float32)
    return hashes, mat, y, len(rated) - len(hashes)


def check_trainable(n: int, y: np.ndarray, missing: int) -> None:
    if n < MIN_RATINGS:
        more = f" ({missing} more rated images have no vectors yet: run embed)" if missing else ""
        raise TrainingError(
            f"training needs at least {MIN_RATINGS} rated images with vectors; "
            f"there are {n}{more}. Rate {MIN_RATINGS - n} more."
        )
    if float(np.ptp(y)) == 0.0:
        raise TrainingError(
            f"all {n} ratings are {float(y[0]):g}: the model learns from differences between "
            "ratings; rate some images you like more or less"
        )


def _folds(n: int, k: int, rng: np.random.Generator) -> list[np.ndarray]:
    return np.array_split(rng.permutation(n), k)


def train(
    db: Database,
    model_id: str,
    models_dir: Path,
    *,
    seed: int = 0,
    kinds: tuple[str, ...] = eval_models.KINDS,
    save: bool = True,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> TrainReport:
    """Choose, fit, save and apply the evaluator. Raises TrainingError when it cannot start."""
    timer = Timer()
    hashes, x, y, missing = rated_data(db, model_id)
    report = TrainReport(embed_model_id=model_id, seed=seed, n_rated_without_vectors=missing)
    report.n_ratings = len(hashes)
    check_trainable(len(hashes), y, missing)
    report.rating_histogram = eval_metrics.histogram(y)
    try:
        _train(report, x, y, kinds, seed, timer, progress, cancel)
        if save:
            _save_and_predict(report, db, models_dir, x, y, seed, timer, progress, cancel)
    except Cancelled:
        report.cancelled = True
    report.seconds = timer.elapsed
    return report


def _train(
    report: TrainReport,
    x: np.ndarray,
    y: np.ndarray,
    kinds: tuple[str, ...],
    seed: int,
    timer: Timer,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> None:
    rng = np.random.default_rng(seed)
    n = len(y)
    perm = rng.permutation(n)
    n_hold = max(MIN_HOLDOUT, int(round(HOLDOUT_FRACTION * n)))
    hold, tr = perm[:n_hold], perm[n_hold:]
    report.n_train, report.n_holdout = len(tr), len(hold)

    cv_idx = tr if len(tr) <= CV_MAX_ROWS else rng.choice(tr, CV_MAX_ROWS, replace=False)
    k = 5 if len(cv_idx) <= 500 else 3
    report.cv_folds, report.cv_rows = k, len(cv_idx)
    folds = _folds(len(cv_idx), k, rng)
    total = len(kinds) * k + 3
    done = 0

    def tick(detail: str) -> None:
        if progress:
            progress(Progress("train", done, total, elapsed=timer.elapsed, detail=detail))

    xc, yc = x[cv_idx], y[cv_idx]
    base_oof = np.empty(len(cv_idx), dtype=np.float32)
    for test in folds:
        base_oof[test] = np.delete(yc, test).mean()
    report.baseline_cv = eval_metrics.evaluate(yc, base_oof, constant=True)
    errors: dict[str, np.ndarray] = {}
    for kind in kinds:
        start = time.monotonic()
        oof = np.empty(len(cv_idx), dtype=np.float32)
        first: eval_models.FittedModel | None = None
        for f, test in enumerate(folds):
            tick(f"cross-validating {kind}, fold {f + 1}/{k}")
            check(cancel)
            train_idx = np.setdiff1d(np.arange(len(cv_idx)), test)
            fitted = eval_models.fit(
                kind, xc[train_idx], yc[train_idx], seed=seed + f, cancel=cancel
            )
            oof[test] = fitted.predict(xc[test])
            first = first or fitted
            done += 1
        assert first is not None
        errors[kind] = np.abs(oof - yc)
        report.candidates.append(
            CandidateResult(
                kind,
                eval_metrics.evaluate(yc, oof, seed=seed),
                time.monotonic() - start,
                first.curve,
                first.curve_x,
                first.curve_label,
            )
        )
    report.chosen = _choose(report.candidates, errors)

    tick(f"scoring {report.chosen} on {len(hold)} held-out ratings")
    check(cancel)
    fitted = eval_models.fit(report.chosen, x[tr], y[tr], seed=seed, cancel=cancel)
    done += 1
    pred = fitted.predict(x[hold])
    report.holdout = eval_metrics.evaluate(y[hold], pred, seed=seed)
    baseline = np.full(len(hold), y[tr].mean(), dtype=np.float32)
    report.holdout_baseline = eval_metrics.evaluate(y[hold], baseline, constant=True)
    report.holdout_pairs = [(float(a), float(b)) for a, b in zip(y[hold], pred, strict=True)]
    report.curve, report.curve_x, report.curve_label = (
        fitted.curve,
        fitted.curve_x,
        fitted.curve_label,
    )
    tick(f"fitting {report.chosen} on all {len(y)} ratings")


def _choose(candidates: list[CandidateResult], errors: dict[str, np.ndarray]) -> str:
    """The one-standard-error rule: the simplest candidate not clearly worse than the best."""
    best = min(candidates, key=lambda c: c.cv.mae)
    n = len(errors[best.kind])

    def close(c: CandidateResult) -> bool:
        diff = errors[c.kind] - errors[best.kind]
        return float(diff.mean()) <= float(diff.std(ddof=1)) / np.sqrt(n) if n > 1 else True

    return min((c for c in candidates if close(c)), key=lambda c: SIMPLICITY.get(c.kind, 9)).kind


POSTERIOR_RANK = 128


def posterior_arrays(
    x: np.ndarray, y: np.ndarray, *, alpha: float, noise: float, mean: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Linear-Gaussian posterior over ratings given vectors, covariance noise * (X'X + alpha I)^-1,
    kept as its top POSTERIOR_RANK eigen-directions plus one average variance for the rest
    (4x cheaper to apply to 100,000 images, and a quarter of the file)."""
    from threadpoolctl import threadpool_limits

    dim = x.shape[1]
    mean = x.mean(axis=0) if mean is None else mean
    xc = (x - mean).astype(np.float32)
    with threadpool_limits(1, "blas"):  # a 512x512 eigh: threads only fight (see eval_models)
        lam, vecs = np.linalg.eigh((xc.T @ xc).astype(np.float64))
    inv = 1.0 / (np.maximum(lam, 0.0) + alpha)
    # Keep the least-rated directions (largest posterior variance) exactly: what is averaged is
    # then bounded by the smallest variances, so the error stays small.
    order = np.argsort(-inv, kind="stable")
    rank = min(POSTERIOR_RANK, dim)
    keep, rest = order[:rank], order[rank:]
    return {
        "post_mean": mean.astype(np.float32),
        "post_vecs": vecs[:, keep].astype(np.float32),
        "post_inv": inv[keep].astype(np.float32),
        "post_rest": np.array([inv[rest].mean() if len(rest) else 0.0], dtype=np.float32),
        "post_noise": np.array([noise], dtype=np.float32),
        "post_alpha": np.array([alpha], dtype=np.float32),
    }


def fit_final(
    kind: str, x: np.ndarray, y: np.ndarray, *, seed: int, cancel: threading.Event | None = None
) -> tuple[dict[str, np.ndarray], float, float]:
    """The chosen model fit on every rating, with the linear posterior used for uncertainty."""
    check(cancel)
    final = eval_models.fit(kind, x, y, seed=seed, cancel=cancel)
    ridge = final if kind == "ridge" else eval_models.fit("ridge", x, y, seed=seed)
    alpha = float(ridge.arrays["alpha"][0])
    noise = float(min(ridge.curve["validation"])) if ridge.curve else float(np.var(y))
    return {**final.arrays, **posterior_arrays(x, y, alpha=alpha, noise=noise)}, alpha, noise


def fit_best(
    x: np.ndarray,
    y: np.ndarray,
    *,
    seed: int = 0,
    kinds: tuple[str, ...] = eval_models.KINDS,
    embed_model_id: str = "",
) -> tuple[TrainReport, dict[str, np.ndarray]]:
    """The whole choice and fit on arrays, without a catalogue (benchmarks, experiments)."""
    timer = Timer()
    report = TrainReport(embed_model_id=embed_model_id, seed=seed, n_ratings=len(y))
    check_trainable(len(y), y, 0)
    report.rating_histogram = eval_metrics.histogram(y)
    _train(report, x, y, kinds, seed, timer, None, None)
    assert report.chosen is not None
    arrays, _, _ = fit_final(report.chosen, x, y, seed=seed)
    report.seconds = timer.elapsed
    return report, arrays


def _save_and_predict(
    report: TrainReport,
    db: Database,
    models_dir: Path,
    x: np.ndarray,
    y: np.ndarray,
    seed: int,
    timer: Timer,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> None:
    assert report.chosen is not None
    arrays, alpha, noise = fit_final(report.chosen, x, y, seed=seed, cancel=cancel)
    check(cancel)  # last point where cancelling leaves the previous evaluator untouched
    # The whole report is kept, so the Train screen can show the last training without retraining.
    metrics = report.as_dict()
    metrics.update(posterior_alpha=alpha, posterior_noise=noise)
    saved = eval_store.save(
        models_dir,
        db,
        kind=report.chosen,
        arrays=arrays,
        embed_model_id=report.embed_model_id,
        metrics=metrics,
    )
    report.evaluator_id = saved.id

    def count(p: Progress) -> None:  # reported after each committed chunk
        report.predicted = p.done
        if progress:
            progress(p)

    report.predicted = eval_store.refresh_predictions(db, saved, progress=count, cancel=cancel)
    if cancel is not None and cancel.is_set():
        raise Cancelled
    report.prediction_histogram = eval_metrics.histogram(eval_store.prediction_values(db, saved.id))
