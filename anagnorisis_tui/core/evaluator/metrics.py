"""Metrics for the personal evaluator: how close, and how well ordered, its predictions are."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

# Pairwise accuracy compares every pair up to this many items; above it, a seeded sample of pairs.
_MAX_EXACT_PAIRS = 3000
_SAMPLED_PAIRS = 2_000_000


@dataclass(frozen=True)
class Metrics:
    n: int
    mae: float
    spearman: float  # 0.0 where undefined (constant predictions or ratings)
    pairwise: float  # share of differently-rated pairs put in the right order (ties count half)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def mae(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(y, float) - np.asarray(pred, float))))


def _ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean of their positions), as Spearman needs."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=float)
    sorted_vals = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_vals[1:] != sorted_vals[:-1]])
    ends = np.r_[starts[1:], len(values)]
    for s, e in zip(starts, ends, strict=True):
        ranks[order[s:e]] = (s + e - 1) / 2.0
    return ranks


def spearman(y: np.ndarray, pred: np.ndarray) -> float:
    y, pred = np.asarray(y, float), np.asarray(pred, float)
    if len(y) < 2:
        return 0.0
    ry, rp = _ranks(y), _ranks(np.round(pred, 6))
    if ry.std() == 0 or rp.std() == 0:
        return 0.0
    return float(np.corrcoef(ry, rp)[0, 1])


def pairwise_accuracy(y: np.ndarray, pred: np.ndarray, *, seed: int = 0) -> float:
    y, pred = np.asarray(y, float), np.round(np.asarray(pred, float), 6)
    n = len(y)
    if n < 2:
        return 0.5
    if n <= _MAX_EXACT_PAIRS:
        i, j = np.triu_indices(n, k=1)
    else:
        rng = np.random.default_rng(seed)
        i = rng.integers(0, n, _SAMPLED_PAIRS)
        j = rng.integers(0, n, _SAMPLED_PAIRS)
    dy = np.sign(y[i] - y[j])
    keep = dy != 0
    if not keep.any():
        return 0.5
    dp = np.sign(pred[i] - pred[j])[keep]
    dy = dy[keep]
    return float(np.mean(np.where(dp == 0, 0.5, dp == dy)))


def evaluate(y: np.ndarray, pred: np.ndarray, *, seed: int = 0, constant: bool = False) -> Metrics:
    """Metrics of pred against y. `constant`: pred comes from a predictor that ranks nothing
    (the mean baseline, whose per-fold means would otherwise fake a negative correlation)."""
    if constant:
        return Metrics(n=int(len(y)), mae=mae(y, pred), spearman=0.0, pairwise=0.5)
    return Metrics(
        n=int(len(y)),
        mae=mae(y, pred),
        spearman=spearman(y, pred),
        pairwise=pairwise_accuracy(y, pred, seed=seed),
    )


def histogram(values: np.ndarray) -> list[int]:
    """Counts per rating 0..10 (values rounded to the nearest whole rating)."""
    idx = np.clip(np.rint(np.asarray(values, float)), 0, 10).astype(int)
    return [int(n) for n in np.bincount(idx, minlength=11)]
