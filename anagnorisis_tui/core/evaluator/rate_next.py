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
# Unrated images the rule looks at per refresh (a seeded uniform sample of the library).
POOL_ROWS = 3_000


@dataclass(frozen=True)
class QueueItem:
    hash: str
    path: str | None
    gain: float | None  # the model's spread there (std of its bootstrap fits, rating points)
    predicted: float | None  # stored prediction, if any
    nearest_rated: float | None  # cosine similarity to the closest rated image
    reason: str  # why it is in the queue, for the user to read
    kind: str = "new"  # queue_rules.Pick.kind: "new" (coverage, the only kind picked now)
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
    # Every pick is coverage (queue_rules.facility): it stands for the part of the library
    # that the ratings are furthest from.
    why = "nothing like this is rated yet"
    if pick.low is None or pick.high is None:
        return why
    lo, hi = rating_range(pick.low, pick.high)
    if hi - lo >= UNSURE_WIDTH:
        return f"{why}; the model is unsure here: {lo}–{hi}"
    return f"{why}; the model guesses {lo}–{hi}"


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


def _unrated(db: Database, model_id: str, present_only: bool) -> list[str]:
    """Hashes of the model's unrated images (those with a present file), in hash order."""
    # "+model_id" keeps SQLite off the model_id index: it then walks the (hash, model_id) key
    # alone, in hash order, never touching the vector blobs; the other two tables are read
    # whole and joined here, which is several times faster at 100,000 images than a
    # correlated lookup per image.
    rows = db.execute("SELECT hash FROM vectors WHERE +model_id = ? ORDER BY hash", [model_id])
    rated = {r[0] for r in db.execute("SELECT hash FROM ratings")}
    hashes = [r[0] for r in rows.fetchall() if r[0] not in rated]
    if present_only:
        present = {r[0] for r in db.execute("SELECT hash FROM files WHERE present = 1")}
        hashes = [h for h in hashes if h in present]
    return hashes


def rate_next(
    db: Database,
    model_id: str,
    *,
    top_k: int = 50,
    present_only: bool = True,
) -> list[QueueItem]:
    """Unrated images to rate next, in order, each with the reason it was chosen.

    The rule sees a seeded sample of at most POOL_ROWS unrated images (a fresh sample after
    every new rating), so a refresh reads that many vectors, not the whole library: a uniform
    sample stands for the library in every way the rule looks at it."""
    cand_hashes = _unrated(db, model_id, present_only)
    if not cand_hashes:
        return []
    given = dict(db.execute("SELECT hash, value FROM ratings ORDER BY hash").fetchall())
    if len(cand_hashes) > POOL_ROWS:
        rng = np.random.default_rng([len(given), len(cand_hashes)])
        take = np.sort(rng.permutation(len(cand_hashes))[:POOL_ROWS])
        cand_hashes = [cand_hashes[i] for i in take]
    cand_hashes, x_cand = vectors.load_vectors(db, model_id, cand_hashes)
    if not cand_hashes:
        return []
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
                None if pick.low is None else pick.spread,
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
