"""The rate-next rule on arrays: which unrated images to ask about next, and why each one.

Coverage: the vectors of the rated and unrated images are grouped by k-means into as many
clusters as there will be ratings after the batch; a coverage pick is the most central image
(medoid) of a cluster with no rating yet, biggest first, so each rating speaks for a large,
typical group nobody has rated.

Cold start (fewer than COLD_START ratings, or all ratings equal): coverage only. After that the
queue alternates coverage picks and random images, so the ratings keep looking like the library
as a whole while no big kind of picture stays unrated. Each pick after the cold start carries
the range a bootstrap ensemble of ridge fits (the head `train` picks on image vectors, at the
alpha leave-one-out picks for the ratings so far) predicts there, for its reason.

bench/queue_bench.py measured this against random order and the alternatives (possible
favourites, ensemble disagreement, transductive experimental design, stratified and
typicality-weighted picks, coverage all the way); BENCHMARKS.md has the figures and the
reasoning. Deterministic for the same vectors and ratings: every draw is seeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import zip_longest

import numpy as np

DEFAULT_ALPHA = 1.0  # ridge alpha before there are ratings enough to choose one
COLD_START = 20  # ratings before the model's own predictions steer the queue
ENSEMBLE = 8  # bootstrap ridge fits
ENSEMBLE_ROWS = 2_000  # rated rows a bootstrap fit sees at most (10,000 ratings stay fast)
# k-means is fitted on a seeded sample of at most FIT_ROWS vectors (then assigns all), in the
# top CLUSTER_DIMS principal directions when vectors are wider: same groups, far cheaper.
FIT_ROWS = 10_000
CLUSTER_DIMS = 64
# Coverage looks at a seeded sample of at most COVER_RATED rated images and makes at most
# MAX_CLUSTERS groups, so a refresh stays a few seconds with 10,000 ratings; by then every big
# kind of picture holds ratings, coverage finds few unrated groups and random picks fill up.
COVER_RATED = 3_000
MAX_CLUSTERS = 500


@dataclass(frozen=True)
class Pick:
    index: int  # into the candidates
    kind: str  # "new" (coverage: nothing like it rated), "random"
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
    return (x - x[sample].mean(axis=0)) @ basis


def _kmeans(x: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(labels, squared distance to the own centre) for every row: seeded k-means on a sample."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    sample = np.sort(np.random.default_rng(seed).permutation(len(x))[:FIT_ROWS])
    with threadpool_limits(1, "blas"):
        xp = _project(np.asarray(x, np.float32), sample)
        km = KMeans(k, n_init=1, max_iter=50, random_state=seed).fit(xp[sample])
        labels = km.predict(xp)
    return labels, ((xp - km.cluster_centers_[labels]) ** 2).sum(axis=1)


def cover(x_rated: np.ndarray, x_cand: np.ndarray, top_k: int, *, seed: int = 0) -> np.ndarray:
    """Indices into x_cand: medoids of the biggest k-means clusters that hold no rated image
    (k = rated + top_k, at most MAX_CLUSTERS, on rated and candidate vectors together). May
    return fewer than top_k."""
    x_rated = np.asarray(x_rated, np.float32).reshape(-1, x_cand.shape[1])
    if len(x_rated) > COVER_RATED:
        keep = np.random.default_rng(seed).permutation(len(x_rated))[:COVER_RATED]
        x_rated = x_rated[np.sort(keep)]
    x_all = np.concatenate([x_rated, np.asarray(x_cand, np.float32)])
    # k-means is fitted on at most FIT_ROWS rows, so it can find no more clusters than that.
    k = min(len(x_rated) + top_k, len(x_all), FIT_ROWS, MAX_CLUSTERS)
    labels, dist = _kmeans(x_all, k, seed)
    covered = set(labels[: len(x_rated)].tolist())
    cand_labels, cand_dist = labels[len(x_rated) :], dist[len(x_rated) :]
    picks: list[int] = []
    for cluster in np.argsort(-np.bincount(labels, minlength=k), kind="stable"):
        if cluster in covered:
            continue
        members = np.flatnonzero(cand_labels == cluster)
        if len(members):
            picks.append(int(members[np.argmin(cand_dist[members])]))
        if len(picks) == top_k:
            break
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
    if len(y_rated) < COLD_START or np.ptp(y_rated) == 0:
        picks = [Pick(int(i), "new") for i in cover(x_rated, x_cand, top_k, seed=seed)]
        return _fill_random(picks, len(x_cand), top_k, seed)
    news = cover(x_rated, x_cand, top_k - top_k // 2, seed=seed)
    rest = np.setdiff1d(np.arange(len(x_cand)), news)
    rng = np.random.default_rng([seed, len(y_rated)])
    randoms = rng.permutation(rest)[: top_k - len(news)]
    # Alternated, so the first few the user rates hold both kinds.
    order = [int(i) for pair in zip_longest(news, randoms) for i in pair if i is not None]
    kinds = {int(i): "new" for i in news} | {int(i): "random" for i in randoms}
    order = order[:top_k]
    # The model's range at the picks only: the reasons need nothing more.
    preds = ensemble(x_rated, y_rated, x_cand[order], alpha=alpha, seed=seed)
    low, high = np.percentile(preds, [10, 90], axis=0)
    std = preds.std(axis=0)
    return [
        Pick(i, kinds[i], float(low[j]), float(high[j]), float(std[j])) for j, i in enumerate(order)
    ]


def _fill_random(picks: list[Pick], n: int, top_k: int, seed: int) -> list[Pick]:
    """Fewer uncovered clusters than picks asked for: the rest at random."""
    if len(picks) >= top_k:
        return picks
    taken = np.zeros(n, dtype=bool)
    taken[[p.index for p in picks]] = True
    extra = np.random.default_rng(seed).permutation(np.flatnonzero(~taken))
    return picks + [Pick(int(i), "random") for i in extra[: top_k - len(picks)]]
