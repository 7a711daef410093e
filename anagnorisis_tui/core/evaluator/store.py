"""Saved evaluators (safetensors files + the `evaluators` table) and their stored predictions.

A model file holds only arrays and string metadata (safetensors: no pickle, nothing executable):
the format version, the evaluator id, its kind and the embedding model whose vectors it reads.
Predictions are keyed by (content hash, evaluator id); one made by any evaluator other than the
active one for the current embedding model is *stale* (shown, but flagged, until refreshed).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from anagnorisis_tui import __version__
from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.base.progress import Progress, ProgressCallback, Timer
from anagnorisis_tui.core.errors import UserError
from anagnorisis_tui.core.evaluator import regressors as eval_models

FORMAT = "anagnorisis-tui-evaluator"
FORMAT_VERSION = 1
PREDICT_CHUNK = 20000


class EvaluatorError(UserError, RuntimeError):
    """A saved evaluator that cannot be used; the message says why and what to do."""


class EvaluatorMismatch(EvaluatorError):
    """The evaluator was trained on vectors of another embedding model."""


@dataclass(frozen=True)
class SavedEvaluator:
    id: str
    kind: str
    embed_model_id: str
    created: float
    path: Path
    arrays: dict[str, np.ndarray]
    metadata: dict[str, str]

    def predict(self, x: np.ndarray) -> np.ndarray:
        return eval_models.predict(self.kind, self.arrays, x)

    def uncertainty(self, x: np.ndarray) -> np.ndarray:
        """Std (rating points) of the linear posterior at x: how unsure ratings near x leave us."""
        return np.asarray(np.sqrt(posterior_variance(self.arrays, x)))


@dataclass(frozen=True)
class Prediction:
    hash: str
    value: float
    uncertainty: float | None
    evaluator_id: str
    at: float
    stale: bool  # made by an evaluator that is no longer the active one


def posterior_variance(arrays: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """x' S x for the stored posterior S: exact along the kept directions (the least known),
    the average remaining variance for what is left of x."""
    xc = np.asarray(x, np.float32) - arrays["post_mean"]
    out = np.empty(len(xc), dtype=np.float32)
    rest = float(arrays["post_rest"][0])
    for s in range(0, len(xc), PREDICT_CHUNK):
        part = xc[s : s + PREDICT_CHUNK]
        proj = part @ arrays["post_vecs"]
        sq = proj**2
        left = np.maximum(np.einsum("ij,ij->i", part, part) - sq.sum(axis=1), 0.0)
        out[s : s + PREDICT_CHUNK] = sq @ arrays["post_inv"] + rest * left
    return np.maximum(out, 0.0) * float(arrays["post_noise"][0])


def new_id() -> str:
    return time.strftime("ev-%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def save(
    models_dir: Path,
    db: Database,
    *,
    kind: str,
    arrays: dict[str, np.ndarray],
    embed_model_id: str,
    metrics: dict[str, Any],
    evaluator_id: str | None = None,
) -> SavedEvaluator:
    """Write the model file atomically, record it and make it the active evaluator."""
    from safetensors.numpy import save_file

    evaluator_id = evaluator_id or new_id()
    models_dir.mkdir(parents=True, exist_ok=True)
    path = models_dir / f"{evaluator_id}.safetensors"
    created = time.time()
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "app_version": __version__,
        "id": evaluator_id,
        "kind": kind,
        "embed_model_id": embed_model_id,
        "created": repr(created),
    }
    clean = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()}
    tmp = path.with_suffix(".tmp")
    save_file(clean, str(tmp), metadata=metadata)
    tmp.replace(path)
    with db.transaction():
        db.execute("UPDATE evaluators SET active = 0 WHERE embed_model_id = ?", [embed_model_id])
        db.execute(
            "INSERT INTO evaluators(id, embed_model_id, kind, created, path, metrics, active) "
            "VALUES (?, ?, ?, ?, ?, ?, 1)",
            [evaluator_id, embed_model_id, kind, created, str(path), json.dumps(metrics)],
        )
    return SavedEvaluator(evaluator_id, kind, embed_model_id, created, path, clean, metadata)


def load_file(path: Path, *, embed_model_id: str | None = None) -> SavedEvaluator:
    """Read a model file; refuse one made for another embedding model or a newer format."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file as st_load

    path = Path(path)
    if not path.exists():
        raise EvaluatorError(f"the evaluator file {path} is missing: train again")
    try:
        arrays = st_load(str(path))
        from safetensors import safe_open

        with safe_open(str(path), framework="np") as handle:
            metadata = dict(handle.metadata() or {})
    except (SafetensorError, OSError, ValueError) as exc:
        raise EvaluatorError(
            f"the evaluator file {path} is unreadable ({exc}): train again"
        ) from exc
    if metadata.get("format") != FORMAT:
        raise EvaluatorError(f"{path} is not an anagnorisis-tui evaluator")
    version = int(metadata.get("format_version", "0") or 0)
    if version > FORMAT_VERSION:
        raise EvaluatorError(
            f"{path} was saved by a newer anagnorisis-tui (format {version}); upgrade, or train again"
        )
    trained_on = metadata.get("embed_model_id", "")
    if embed_model_id is not None and trained_on != embed_model_id:
        raise EvaluatorMismatch(
            f"the saved evaluator {metadata.get('id')} was trained on vectors of the embedding "
            f"model {trained_on!r}, but the active model is {embed_model_id!r}; its predictions "
            "would be meaningless: train again (`anagnorisis-tui train`) or switch the model back"
        )
    if metadata.get("kind") not in eval_models.KINDS:
        raise EvaluatorError(f"{path}: unknown evaluator kind {metadata.get('kind')!r}")
    return SavedEvaluator(
        id=metadata.get("id", path.stem),
        kind=metadata["kind"],
        embed_model_id=trained_on,
        created=float(metadata.get("created", "0") or 0),
        path=path,
        arrays=arrays,
        metadata=metadata,
    )


def active_row(db: Database, embed_model_id: str | None = None) -> dict[str, Any] | None:
    """The active evaluator for the embedding model (or the newest active one of any model)."""
    sql = "SELECT id, embed_model_id, kind, created, path, metrics FROM evaluators WHERE active = 1"
    params: list[object] = []
    if embed_model_id is not None:
        sql += " AND embed_model_id = ?"
        params.append(embed_model_id)
    row = db.execute(sql + " ORDER BY created DESC LIMIT 1", params).fetchone()
    if row is None:
        return None
    keys = ("id", "embed_model_id", "kind", "created", "path", "metrics")
    out = dict(zip(keys, row, strict=True))
    out["metrics"] = json.loads(out["metrics"] or "{}")
    return out


def load_active(db: Database, embed_model_id: str) -> SavedEvaluator | None:
    """The active evaluator for this embedding model; a clear error if only another model's exists."""
    row = active_row(db, embed_model_id)
    if row is None:
        other = active_row(db)
        if other is not None:
            raise EvaluatorMismatch(
                f"the trained evaluator {other['id']} reads vectors of the embedding model "
                f"{other['embed_model_id']!r}, but the active model is {embed_model_id!r}: "
                "train again for this model (`anagnorisis-tui train`)"
            )
        return None
    return load_file(Path(row["path"]), embed_model_id=embed_model_id)


def refresh_predictions(
    db: Database,
    evaluator: SavedEvaluator,
    *,
    only_missing: bool = True,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> int:
    """Predict every image with vectors that lacks a prediction by this evaluator.

    Each chunk is committed on its own, so a cancelled refresh leaves valid (some stale)
    predictions, never a gap. Returns how many images were predicted (fewer than due when
    cancelled).
    """
    from anagnorisis_tui.core.semantic import vectors

    model_id = evaluator.embed_model_id
    if only_missing:
        todo = [
            r[0]
            for r in db.execute(
                "SELECT v.hash FROM vectors v LEFT JOIN predictions p "
                "ON p.hash = v.hash AND p.evaluator_id = ? "
                "WHERE v.model_id = ? AND p.hash IS NULL ORDER BY v.hash",
                [evaluator.id, model_id],
            ).fetchall()
        ]
    else:
        todo = [
            r[0]
            for r in db.execute(
                "SELECT hash FROM vectors WHERE model_id = ? ORDER BY hash", [model_id]
            ).fetchall()
        ]
    spec = vectors.model_spec(db, model_id)
    if spec is None or not todo:
        return 0
    dim, dtype = spec
    np_dtype = np.dtype("<f2" if dtype == "float16" else "<f4")
    older = db.execute(
        "SELECT 1 FROM predictions WHERE evaluator_id != ? LIMIT 1", [evaluator.id]
    ).fetchone()
    timer, done = Timer(), 0
    for start in range(0, len(todo), PREDICT_CHUNK):
        if cancel is not None and cancel.is_set():
            break  # what is done is committed; the rest keep their (stale) predictions
        hashes, mat = _read_chunk(db, model_id, todo[start : start + PREDICT_CHUNK], dim, np_dtype)
        values = evaluator.predict(mat)
        spread = evaluator.uncertainty(mat)
        at = time.time()
        with db.transaction():
            db.conn.executemany(
                "INSERT OR REPLACE INTO predictions(hash, evaluator_id, value, uncertainty, at) "
                "VALUES (?, ?, ?, ?, ?)",
                zip(
                    hashes,
                    [evaluator.id] * len(hashes),
                    values.tolist(),
                    spread.tolist(),
                    [at] * len(hashes),
                    strict=True,
                ),
            )
        done += len(hashes)
        if progress:
            progress(Progress("predict", done, len(todo), elapsed=timer.elapsed))
    if older:
        # Older evaluators' rows for images that now have this one's are dead weight (one
        # set-based statement; after a cancel, the rows left are the stale ones still shown).
        with db.transaction():
            db.execute(
                "DELETE FROM predictions WHERE evaluator_id != ? AND hash IN "
                "(SELECT hash FROM predictions WHERE evaluator_id = ?)",
                [evaluator.id, evaluator.id],
            )
    return done


def _read_chunk(
    db: Database, model_id: str, chunk: list[str], dim: int, np_dtype: np.dtype
) -> tuple[list[str], np.ndarray]:
    """Vectors of the (sorted) hashes in chunk: one range scan, one buffer to decode."""
    wanted = set(chunk)
    rows = [
        row
        for row in db.execute(
            "SELECT hash, vector FROM vectors WHERE model_id = ? AND hash BETWEEN ? AND ? "
            "ORDER BY hash",
            [model_id, chunk[0], chunk[-1]],
        ).fetchall()
        if row[0] in wanted
    ]
    buf = b"".join(row[1] for row in rows)
    mat = np.frombuffer(buf, dtype=np_dtype).reshape(len(rows), dim).astype(np.float32)
    return [row[0] for row in rows], mat


def get_prediction(db: Database, content_hash: str, active_id: str | None) -> Prediction | None:
    """The active evaluator's prediction, else the newest older one (flagged stale)."""
    rows = db.execute(
        "SELECT evaluator_id, value, uncertainty, at FROM predictions WHERE hash = ? "
        "ORDER BY (evaluator_id = ?) DESC, at DESC LIMIT 1",
        [content_hash, active_id or ""],
    ).fetchall()
    if not rows:
        return None
    evaluator_id, value, spread, at = rows[0]
    return Prediction(
        content_hash, float(value), spread, evaluator_id, at, evaluator_id != active_id
    )


def prediction_values(db: Database, active_id: str | None) -> np.ndarray:
    rows = db.execute(
        "SELECT value FROM predictions WHERE evaluator_id = ?", [active_id or ""]
    ).fetchall()
    return np.array([r[0] for r in rows], dtype=np.float32)
