"""What to rate next, and why the evaluator predicted what it did.

Rate-next covers the library: the vectors of every image (rated or not) are grouped by k-means
into as many clusters as there will be ratings after this batch, and the queue is the most
central image (medoid) of each cluster that holds no rated image yet, biggest cluster first.
So each rating speaks for a large, typical group the model has not seen (diversity and
representativeness), and picks move on as ratings come in (uncertainty: a group with no rating
is where the model knows least). On the preference benchmark this reached a held-out rho with
about half the ratings of random choices where greedy posterior variance did not (BENCHMARKS.md,
personal evaluator). Each pick's posterior variance under the ridge model is still reported as
its gain. Deterministic: k-means is seeded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.evaluator import store as eval_store
from anagnorisis_tui.core.semantic import vectors

DEFAULT_ALPHA = 1.0  # prior precision before a ridge alpha has been chosen by training


# k-means is fitted on a seeded sample of at most FIT_ROWS vectors (then assigns all), in the
# top CLUSTER_DIMS principal directions when vectors are wider: same groups, far cheaper.
FIT_ROWS = 10_000
CLUSTER_DIMS = 64


def order(
    x_rated: np.ndarray,
    x_cand: np.ndarray,
    top_k: int,
    *,
    alpha: float = DEFAULT_ALPHA,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The queue on arrays: (indices into x_cand, posterior variance at each pick)."""
    if len(x_cand) == 0 or top_k <= 0:
        return np.zeros(0, dtype=int), np.zeros(0)
    picks = cover(x_rated, x_cand, top_k, seed=seed)
    if len(picks) < min(top_k, len(x_cand)):
        # Fewer uncovered clusters than asked for: fill with the most uncertain of the rest.
        rest = np.setdiff1d(np.arange(len(x_cand)), picks)
        done = np.concatenate([np.asarray(x_rated, np.float32), x_cand[picks]])
        more, _ = select(done, x_cand[rest], top_k - len(picks), alpha=alpha)
        picks = np.concatenate([picks, rest[more]]).astype(int)
    mean = np.concatenate([x_cand, x_rated]).mean(axis=0) if len(x_rated) else x_cand.mean(axis=0)
    var = posterior_variance(x_rated, x_cand[picks], alpha=alpha, mean=mean)
    return picks, var


def cover(x_rated: np.ndarray, x_cand: np.ndarray, top_k: int, *, seed: int = 0) -> np.ndarray:
    """Indices into x_cand: medoids of the biggest k-means clusters that hold no rated image
    (k = rated + top_k, on rated and candidate vectors together). May return fewer than top_k."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    x_rated = np.asarray(x_rated, np.float32).reshape(-1, x_cand.shape[1])
    x_all = np.concatenate([x_rated, np.asarray(x_cand, np.float32)])
    k = min(len(x_rated) + top_k, len(x_all))
    rng = np.random.default_rng(seed)
    sample = rng.permutation(len(x_all))[:FIT_ROWS]
    if x_all.shape[1] > CLUSTER_DIMS:
        centred = x_all - x_all.mean(axis=0)
        _, _, vt = np.linalg.svd(centred[sample], full_matrices=False)
        x_all = centred @ vt[:CLUSTER_DIMS].T
    fit_rows = x_all[np.sort(sample)]
    with threadpool_limits(1, "blas"):
        km = KMeans(k, n_init=1, max_iter=50, random_state=seed).fit(fit_rows)
        labels = km.predict(x_all)
    dist = ((x_all - km.cluster_centers_[labels]) ** 2).sum(axis=1)
    covered = set(labels[: len(x_rated)].tolist())
    cand_labels, cand_dist = labels[len(x_rated) :], dist[len(x_rated) :]
    sizes = np.bincount(labels, minlength=k)
    picks = []
    for cluster in np.argsort(-sizes, kind="stable"):
        if cluster in covered:
            continue
        members = np.flatnonzero(cand_labels == cluster)
        if len(members):
            picks.append(int(members[np.argmin(cand_dist[members])]))
        if len(picks) == top_k:
            break
    return np.array(picks, dtype=int)


def posterior_variance(
    x_rated: np.ndarray, x: np.ndarray, *, alpha: float = DEFAULT_ALPHA, mean: np.ndarray
) -> np.ndarray:
    """x^T A^-1 x for each row of x under the ridge posterior given the rated vectors."""
    dim = x.shape[1]
    xr = np.asarray(x_rated, np.float64).reshape(-1, dim) - mean
    xc = np.asarray(x, np.float64) - mean
    cov = np.linalg.inv(xr.T @ xr + alpha * np.eye(dim))
    return np.einsum("ij,ij->i", xc @ cov, xc)


@dataclass(frozen=True)
class QueueItem:
    hash: str
    path: str | None
    gain: float  # posterior std (model's uncertainty, rating points) when picked
    predicted: float | None  # stored prediction, if any
    nearest_rated: float | None  # cosine similarity to the closest rated image
    reason: str


@dataclass(frozen=True)
class Neighbour:
    hash: str
    path: str | None
    rating: float
    similarity: float


@dataclass(frozen=True)
class Explanation:
    hash: str
    rating: float | None
    prediction: eval_store.Prediction | None
    neighbours: list[Neighbour] = field(default_factory=list)
    neighbour_estimate: float | None = None  # similarity-weighted mean of neighbours' ratings


def select(
    x_rated: np.ndarray,
    x_cand: np.ndarray,
    top_k: int,
    *,
    alpha: float = DEFAULT_ALPHA,
    mean: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices into x_cand of the next top_k picks, and each pick's posterior variance.

    Each pick maximises variance x weight (greedy Bayesian design; `order` uses it to fill the
    queue when no uncovered cluster is left)."""
    if len(x_cand) == 0 or top_k <= 0:
        return np.zeros(0, dtype=int), np.zeros(0)
    dim = x_cand.shape[1]
    if mean is None:
        mean = x_cand.mean(axis=0)
    xr = (np.asarray(x_rated, np.float64).reshape(-1, dim) - mean).astype(np.float32)
    xc = (np.asarray(x_cand, np.float32) - mean).astype(np.float32)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):  # threads only fight over a small inverse on a busy CPU
        gram = xr.T.astype(np.float64) @ xr + alpha * np.eye(dim)
        cov = np.linalg.inv(gram).astype(np.float32)
    var = np.empty(len(xc), dtype=np.float32)
    for s in range(0, len(xc), 20000):
        part = xc[s : s + 20000]
        var[s : s + 20000] = np.einsum("ij,ij->i", part @ cov, part)
    picks, gains = [], []
    taken = np.zeros(len(xc), dtype=bool)
    for _ in range(min(top_k, len(xc))):
        scores = np.where(taken, -np.inf, var if weights is None else var * weights)
        i = int(np.argmax(scores))
        picks.append(i)
        gains.append(float(var[i]))
        taken[i] = True
        # Sherman-Morrison: the posterior after observing x_i, and every variance with it.
        u = cov @ xc[i]
        denom = 1.0 + float(xc[i] @ u)
        var -= (xc @ u) ** 2 / denom
        cov -= np.outer(u, u) / denom
    return np.array(picks, dtype=int), np.array(gains)


def _path(db: Database, content_hash: str) -> str | None:
    row = db.execute(
        "SELECT path FROM files WHERE hash = ? AND present = 1 ORDER BY path LIMIT 1",
        [content_hash],
    ).fetchone()
    return row[0] if row else None


def rate_next(
    db: Database,
    model_id: str,
    *,
    top_k: int = 50,
    present_only: bool = True,
) -> list[QueueItem]:
    """Unrated images ordered by how much rating them would teach the evaluator."""
    sql = (
        "SELECT v.hash FROM vectors v WHERE v.model_id = ? "
        "AND NOT EXISTS (SELECT 1 FROM ratings r WHERE r.hash = v.hash)"
    )
    if present_only:
        sql += " AND EXISTS (SELECT 1 FROM files f WHERE f.hash = v.hash AND f.present = 1)"
    cand_hashes = [r[0] for r in db.execute(sql + " ORDER BY v.hash", [model_id]).fetchall()]
    if not cand_hashes:
        return []
    cand_hashes, x_cand = vectors.load_vectors(db, model_id, cand_hashes)
    rated = [r[0] for r in db.execute("SELECT hash FROM ratings ORDER BY hash").fetchall()]
    _, x_rated = vectors.load_vectors(db, model_id, rated)
    if x_rated.size == 0:
        x_rated = np.zeros((0, x_cand.shape[1]), dtype=np.float32)
    row = eval_store.active_row(db, model_id)
    alpha, noise = DEFAULT_ALPHA, 1.0
    if row is not None:
        alpha = float(row["metrics"].get("posterior_alpha", DEFAULT_ALPHA))
        noise = float(row["metrics"].get("posterior_noise", 1.0))
    picks, var = order(x_rated, x_cand, top_k, alpha=alpha)
    active_id = row["id"] if row else None
    items = []
    for i, v in zip(picks, var, strict=True):
        h = cand_hashes[i]
        near = float((x_rated @ x_cand[i]).max()) if len(x_rated) else None
        pred = eval_store.get_prediction(db, h, active_id)
        std = float(np.sqrt(max(v, 0.0) * noise))
        if near is None or near < 0.5:
            reason = "unlike anything rated yet"
        else:
            reason = f"model unsure: ±{std:.1f}" if row else "covers a new part of the library"
        items.append(QueueItem(h, _path(db, h), std, pred.value if pred else None, near, reason))
    return items


def explain(db: Database, model_id: str, content_hash: str, *, top_k: int = 5) -> Explanation:
    """The image's most similar rated images (cosine on the vectors) and their ratings."""
    from anagnorisis_tui.core.base import ratings

    row = eval_store.active_row(db, model_id)
    rating = ratings.get_rating(db, content_hash)
    pred = eval_store.get_prediction(db, content_hash, row["id"] if row else None)
    found, target = vectors.load_vectors(db, model_id, [content_hash])
    if not found:
        return Explanation(content_hash, rating.value if rating else None, pred)
    rated = dict(db.execute("SELECT hash, value FROM ratings").fetchall())
    rated.pop(content_hash, None)
    hashes, mat = vectors.load_vectors(db, model_id, list(rated))
    if not hashes:
        return Explanation(content_hash, rating.value if rating else None, pred)
    sims = mat @ target[0]
    order = np.argsort(-sims, kind="stable")[:top_k]
    neighbours = [
        Neighbour(hashes[i], _path(db, hashes[i]), float(rated[hashes[i]]), float(sims[i]))
        for i in order
    ]
    weights = np.clip(np.array([n.similarity for n in neighbours]), 1e-6, None)
    estimate = float(np.average([n.rating for n in neighbours], weights=weights))
    return Explanation(content_hash, rating.value if rating else None, pred, neighbours, estimate)
