"""What to rate next, and why the evaluator predicted what it did.

Rate-next is greedy Bayesian experimental design on a linear model of ratings over the image
vectors: each pick is the unrated image whose rating the model is least sure of (largest
posterior variance), weighted towards typical images (many close neighbours) so one rating
speaks for many; the posterior is then updated *as if* that image were rated (a linear model's
variance does not depend on the value), so the next pick covers a different part of the
library. Uncertainty and diversity come from one rule: an image close to one already picked or
rated has little variance left. Works from the first rating (or none: then it spreads the first
picks across the library).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sqlite_utils

from anagnorisis_tui.core import eval_store, vectors

DEFAULT_ALPHA = 1.0  # prior precision before a ridge alpha has been chosen by training
# Variance alone favours outliers (an image unlike any other is maximally uncertain, yet its
# rating teaches little about the rest). Weighting by typicality ** 8 measured best (of 2, 4, 8, 16) on the
# preference benchmark (BENCHMARKS.md, personal evaluator) at 20-50 ratings.
TYPICALITY_POWER = 8.0


def order(
    x_rated: np.ndarray,
    x_cand: np.ndarray,
    top_k: int,
    *,
    alpha: float = DEFAULT_ALPHA,
) -> tuple[np.ndarray, np.ndarray]:
    """The queue on arrays: (indices into x_cand, posterior variance at each pick)."""
    mean = np.concatenate([x_cand, x_rated]).mean(axis=0) if len(x_rated) else x_cand.mean(axis=0)
    weights = typicality(x_cand) ** TYPICALITY_POWER
    return select(x_rated, x_cand, top_k, alpha=alpha, mean=mean, weights=weights)


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


def typicality(x: np.ndarray, *, k: int = 20, refs: int = 2000, dims: int = 64) -> np.ndarray:
    """How typical each row is of the collection: mean cosine similarity to its k nearest
    neighbours (among a seeded sample of `refs` rows; in the top `dims` principal directions
    when vectors are wider, so 100,000 images cost about a second)."""
    n = len(x)
    if n <= 1:
        return np.ones(n, dtype=np.float32)
    z = np.asarray(x, np.float32)
    if z.shape[1] > dims:
        centred = z - z.mean(axis=0)
        sample = centred[np.random.default_rng(0).permutation(n)[: min(n, 4 * refs)]]
        _, _, vt = np.linalg.svd(sample, full_matrices=False)
        z = centred @ vt[:dims].T
        z /= np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    ref = z[np.random.default_rng(1).permutation(n)[: min(n, refs)]]
    kk = int(np.clip(round(k * len(ref) / n), 2, len(ref)))
    out = np.empty(n, dtype=np.float32)
    for s in range(0, n, 8192):
        sims = z[s : s + 8192] @ ref.T
        out[s : s + 8192] = np.sort(sims, axis=1)[:, -kk:].mean(axis=1)
    return np.clip(out, 1e-3, None)


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

    Each pick maximises variance x weight (weights: e.g. typicality ** TYPICALITY_POWER, so
    that typical images win over outliers of equal uncertainty)."""
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


def _path(db: sqlite_utils.Database, content_hash: str) -> str | None:
    row = db.execute(
        "SELECT path FROM files WHERE hash = ? AND present = 1 ORDER BY path LIMIT 1",
        [content_hash],
    ).fetchone()
    return row[0] if row else None


def rate_next(
    db: sqlite_utils.Database,
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


def explain(
    db: sqlite_utils.Database, model_id: str, content_hash: str, *, top_k: int = 5
) -> Explanation:
    """The image's most similar rated images (cosine on the vectors) and their ratings."""
    from anagnorisis_tui.core import ratings

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
