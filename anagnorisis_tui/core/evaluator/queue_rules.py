"""The rate-next rule on arrays: which unrated images to ask about next, and why each one.

Coverage by facility location: each pick is the unrated image that most shrinks the summed
squared distance from every unrated image to its nearest rated-or-picked one (greedy k-means
on the images, with the rated ones fixed as centres). So each rating speaks for a large,
typical part of the library that no rating is close to yet, and the queue follows the
library's shape: dense kinds of picture get more picks, and an outlier is not chased.

That is the whole rule, at the cold start and after it. Each pick after the cold start
(COLD_START ratings that are not all equal) carries the range a bootstrap ensemble of ridge
fits (the head `train` picks on image vectors, at the alpha leave-one-out picks for the
ratings so far) predicts there, for its reason; the ensemble does not steer the picks.

bench/queue_bench.py measured this against random order and the alternatives (k-means
coverage, coverage and random picks in turn, possible favourites, ensemble disagreement,
transductive experimental design, stratified and typicality-weighted picks); BENCHMARKS.md
has the figures and the reasoning. Deterministic for the same vectors and ratings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_ALPHA = 1.0  # ridge alpha before there are ratings enough to choose one
COLD_START = 20  # ratings before the model's own predictions steer the queue
ENSEMBLE = 8  # bootstrap ridge fits
ENSEMBLE_ROWS = 2_000  # rated rows a bootstrap fit sees at most (10,000 ratings stay fast)
# Distances are taken in the top CLUSTER_DIMS principal directions when vectors are wider
# (the same neighbours, far cheaper), against a seeded sample of at most COVER_RATED rated
# images, so a refresh stays well under a second of this rule with 10,000 ratings.
CLUSTER_DIMS = 64
COVER_RATED = 3_000


@dataclass(frozen=True)
class Pick:
    index: int  # into the candidates
    kind: str  # "new": coverage, nothing like it rated (the only kind the rule picks now)
    low: float | None = None  # the ensemble's range of predictions there (rating points)
    high: float | None = None
    spread: float = 0.0  # the ensemble's standard deviation there (rating points)


def _project(x: np.ndarray, sample: np.ndarray) -> np.ndarray:
    if x.shape[1] <= CLUSTER_DIMS:
        return x
    part = x[sample] - x[sample].mean(axis=0)
    # Eigenvectors of the sample's covariance: the principal directions, cheaper than an SVD.
    _, vecs = np.linalg.eigh((part.T @ part).astype(np.float64))
    basis = vecs[:, ::-1][:, :CLUSTER_DIMS].astype(np.float32)
    return np.asarray((x - x[sample].mean(axis=0)) @ basis)


def _sq_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between the rows of a and b (float32)."""
    sq = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2 * (a @ b.T)
    return np.asarray(np.maximum(sq, 0, out=sq))


def facility(x_rated: np.ndarray, x_cand: np.ndarray, top_k: int, *, seed: int = 0) -> np.ndarray:
    """Indices into x_cand, in order: greedy facility location over the candidates, given the
    rated images. Each pick is the image that most shrinks the summed squared distance from
    every candidate to its nearest rated-or-picked image: typical of a big part of the library
    and unlike anything rated. Greedy, so a longer queue starts with the same picks.

    Distances are taken in the top CLUSTER_DIMS principal directions of the candidates when the
    vectors are wider, against a seeded sample of at most COVER_RATED rated images. Lazy greedy
    (the gains only shrink as picks are added): exact, and far cheaper than re-scoring every
    candidate for every pick."""
    from threadpoolctl import threadpool_limits

    x_cand = np.asarray(x_cand, np.float32)
    x_rated = np.asarray(x_rated, np.float32).reshape(-1, x_cand.shape[1])
    top_k = min(top_k, len(x_cand))
    if top_k <= 0:
        return np.zeros(0, dtype=int)
    if len(x_rated) > COVER_RATED:
        keep = np.random.default_rng(seed).permutation(len(x_rated))[:COVER_RATED]
        x_rated = x_rated[np.sort(keep)]
    with threadpool_limits(1, "blas"):
        x_all = _project(
            np.concatenate([x_rated, x_cand]), np.arange(len(x_rated), len(x_rated) + len(x_cand))
        )
        xr, xc = x_all[: len(x_rated)], x_all[len(x_rated) :]
        dist = _sq_distances(xc, xc)
        if len(xr):
            near = np.full(len(xc), np.inf, np.float32)
            for s in range(0, len(xr), 1_000):
                near = np.minimum(near, _sq_distances(xc, xr[s : s + 1_000]).min(axis=1))
        else:
            near = np.full(len(xc), dist.max(), np.float32)
        gain = np.maximum(near[None, :] - dist, 0).sum(axis=1, dtype=np.float64)
        picks: list[int] = []
        while len(picks) < top_k:
            c = int(np.argmax(gain))
            fresh = float(np.maximum(near - dist[c], 0).sum(dtype=np.float64))
            gain[c] = fresh
            if int(np.argmax(gain)) != c:
                continue  # its gain was stale: another candidate may now be better
            picks.append(c)
            gain[c] = -np.inf
            near = np.minimum(near, dist[c])
    return np.array(picks, dtype=int)


def ridge_at(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray, float]:
    """(x_mean, coef, y_mean) of ridge regression at a given alpha (dual form for few rows)."""
    xm, ym = x.mean(axis=0), float(y.mean())
    xc, yc = (x - xm).astype(np.float64), y.astype(np.float64) - ym
    n, d = xc.shape
    if n < d:
        coef = xc.T @ np.linalg.solve(xc @ xc.T + alpha * np.eye(n), yc)
    else:
        coef = np.linalg.solve(xc.T @ xc + alpha * np.eye(d), xc.T @ yc)
    return xm, coef, ym


def ensemble(
    x_rated: np.ndarray, y_rated: np.ndarray, x: np.ndarray, *, alpha: float, seed: int = 0
) -> np.ndarray:
    """(ENSEMBLE, len(x)) predictions of bootstrap ridge fits, clipped to 0..10."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    n = len(x_rated)
    members = []
    with threadpool_limits(1, "blas"):
        for _ in range(ENSEMBLE):
            take = rng.integers(0, n, min(n, ENSEMBLE_ROWS))
            members.append(ridge_at(x_rated[take], y_rated[take], alpha))
        coefs = np.stack([c for _, c, _ in members], axis=1).astype(np.float32)
        shift = np.array([float(m @ c) - ym for m, c, ym in members], np.float32)
        out = np.empty((ENSEMBLE, len(x)), np.float32)
        for s in range(0, len(x), 20_000):
            out[:, s : s + 20_000] = (np.asarray(x[s : s + 20_000], np.float32) @ coefs - shift).T
    return np.clip(out, 0.0, 10.0)


def plan(
    x_rated: np.ndarray,
    y_rated: np.ndarray,
    x_cand: np.ndarray,
    top_k: int,
    *,
    alpha: float = DEFAULT_ALPHA,
    seed: int = 0,
) -> list[Pick]:
    """The next top_k picks (indices into x_cand), each with why it was chosen."""
    top_k = min(top_k, len(x_cand))
    if top_k <= 0:
        return []
    x_rated = np.asarray(x_rated, np.float32).reshape(-1, x_cand.shape[1])
    y_rated = np.asarray(y_rated, np.float32).reshape(-1)
    order = [int(i) for i in facility(x_rated, x_cand, top_k, seed=seed)]
    if len(y_rated) < COLD_START or np.ptp(y_rated) == 0:
        return [Pick(i, "new") for i in order]
    # The model's range at the picks only: the reasons need nothing more.
    preds = ensemble(x_rated, y_rated, x_cand[order], alpha=alpha, seed=seed)
    low, high = np.percentile(preds, [10, 90], axis=0)
    std = preds.std(axis=0)
    return [
        Pick(i, "new", float(low[j]), float(high[j]), float(std[j])) for j, i in enumerate(order)
    ]
