"""What to rate next (with the reason for each image, in words), and why the evaluator
predicted what it did.

The rule itself works on arrays (queue_rules.py); this module reads the vectors and ratings
from the catalogue, asks it for the queue and says why each image is there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.evaluator import queue_rules
from anagnorisis_tui.core.evaluator import store as eval_store
from anagnorisis_tui.core.semantic import vectors

# A model range at least this wide (rating points) is "unsure"; a narrower one is a guess.
UNSURE_WIDTH = 3


@dataclass(frozen=True)
class QueueItem:
    hash: str
    path: str | None
    gain: float | None  # the model's spread there (std of its bootstrap fits, rating points)
    predicted: float | None  # stored prediction, if any
    nearest_rated: float | None  # cosine similarity to the closest rated image
    reason: str  # why it is in the queue, for the user to read
    kind: str = "new"  # queue_rules.Pick.kind: "new", "favourite" or "random"
    low: int | None = None  # the range the model's bootstrap fits give, whole ratings
    high: int | None = None


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


def rating_range(low: float, high: float) -> tuple[int, int]:
    """Whole ratings that hold the range (at least one point wide)."""
    lo = max(0, min(10, math.floor(low + 1e-6)))
    hi = max(0, min(10, math.ceil(high - 1e-6)))
    if hi <= lo:
        lo, hi = (lo - 1, lo) if lo == 10 else (lo, lo + 1)
    return lo, hi


def reason(pick: queue_rules.Pick) -> str:
    """Why the image is in the queue, in words a person understands."""
    if pick.kind == "random":
        return "picked at random, so the model sees your library as it is"
    if pick.kind == "new" or pick.low is None or pick.high is None:
        return "nothing like this is rated yet"
    lo, hi = rating_range(pick.low, pick.high)
    if hi - lo >= UNSURE_WIDTH:
        return f"the model is unsure here: {lo}–{hi}"
    return f"could be a favourite: the model says {lo}–{hi}"


def _path(db: Database, content_hash: str) -> str | None:
    row = db.execute(
        "SELECT path FROM files WHERE hash = ? AND present = 1 ORDER BY path LIMIT 1",
        [content_hash],
    ).fetchone()
    return row[0] if row else None


def _alpha(x: np.ndarray, y: np.ndarray) -> float:
    """The ridge alpha leave-one-out picks for these ratings (what `train`'s ridge would use)."""
    from anagnorisis_tui.core.evaluator import regressors

    if len(y) < queue_rules.COLD_START or np.ptp(y) == 0:
        return queue_rules.DEFAULT_ALPHA
    take = np.random.default_rng(0).permutation(len(y))[: queue_rules.ENSEMBLE_ROWS]
    return float(regressors.fit("ridge", x[take], y[take], seed=0).arrays["alpha"][0])


def rate_next(
    db: Database,
    model_id: str,
    *,
    top_k: int = 50,
    present_only: bool = True,
) -> list[QueueItem]:
    """Unrated images to rate next, in order, each with the reason it was chosen."""
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
    given = dict(db.execute("SELECT hash, value FROM ratings ORDER BY hash").fetchall())
    rated, x_rated = vectors.load_vectors(db, model_id, list(given))
    if x_rated.size == 0:
        x_rated = np.zeros((0, x_cand.shape[1]), dtype=np.float32)
    y_rated = np.array([given[h] for h in rated], dtype=np.float32)
    alpha = _alpha(x_rated, y_rated)
    picks = queue_rules.plan(x_rated, y_rated, x_cand, top_k, alpha=alpha)
    row = eval_store.active_row(db, model_id)
    active_id = row["id"] if row else None
    items = []
    for pick in picks:
        h = cand_hashes[pick.index]
        near = float((x_rated @ x_cand[pick.index]).max()) if len(x_rated) else None
        pred = eval_store.get_prediction(db, h, active_id)
        lo, hi = (None, None) if pick.low is None else rating_range(pick.low, pick.high or 0)
        items.append(
            QueueItem(
                h,
                _path(db, h),
                None if pick.kind == "new" else pick.spread,
                pred.value if pred else None,
                near,
                reason(pick),
                pick.kind,
                lo,
                hi,
            )
        )
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
