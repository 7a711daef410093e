"""Image vectors in SQLite: one L2-normalised row per (content hash, model id).

The on-disk dtype is recorded per model in `embed_models` (float16 halves the file; see
BENCHMARKS.md). Readers always get float32 matrices. Numpy only: no torch here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from anagnorisis_tui.core.base.db import Database

DEFAULT_DTYPE = "float16"


def register_model(
    db: Database,
    model_id: str,
    dim: int,
    *,
    dtype: str = DEFAULT_DTYPE,
    info: dict[str, Any] | None = None,
) -> None:
    if dtype not in ("float16", "float32"):
        raise ValueError(f"unsupported vector dtype {dtype!r}")
    with db.transaction():
        db.execute(
            "INSERT INTO embed_models(model_id, dim, dtype, info) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(model_id) DO UPDATE SET info=excluded.info",
            [model_id, dim, dtype, json.dumps(info or {})],
        )


def model_spec(db: Database, model_id: str) -> tuple[int, str] | None:
    row = db.execute(
        "SELECT dim, dtype FROM embed_models WHERE model_id = ?", [model_id]
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else None


def most_stored_model(db: Database) -> str | None:
    """The embedding model with the most stored vectors (None when there are none)."""
    row = db.execute(
        "SELECT model_id FROM vectors GROUP BY model_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    return row[0] if row else None


def normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(matrix / norms)


def put_vectors(
    db: Database,
    model_id: str,
    hashes: Sequence[str],
    matrix: np.ndarray,
) -> None:
    """Store vectors (normalised here) for hashes; the model must be registered first."""
    spec = model_spec(db, model_id)
    if spec is None:
        raise KeyError(f"model {model_id!r} is not registered")
    dim, dtype = spec
    matrix = normalise(matrix)
    if matrix.ndim != 2 or matrix.shape[1] != dim or matrix.shape[0] != len(hashes):
        raise ValueError(f"expected {len(hashes)}x{dim} vectors, got {matrix.shape}")
    blobs = matrix.astype("<f2" if dtype == "float16" else "<f4")
    at = time.time()
    with db.transaction():
        db.conn.executemany(
            "INSERT OR REPLACE INTO vectors(hash, model_id, vector, at) VALUES (?, ?, ?, ?)",
            [(h, model_id, blobs[i].tobytes(), at) for i, h in enumerate(hashes)],
        )


def load_vectors(
    db: Database,
    model_id: str,
    hashes: Iterable[str] | None = None,
) -> tuple[list[str], np.ndarray]:
    """(hashes, float32 matrix) for the model: all of them, or those of `hashes` that exist."""
    spec = model_spec(db, model_id)
    if spec is None:
        return [], np.zeros((0, 0), dtype=np.float32)
    dim, dtype = spec
    np_dtype = np.dtype("<f2" if dtype == "float16" else "<f4")
    if hashes is None:
        rows = db.execute(
            "SELECT hash, vector FROM vectors WHERE model_id = ? ORDER BY hash", [model_id]
        ).fetchall()
    else:
        wanted = list(dict.fromkeys(hashes))
        rows = []
        for start in range(0, len(wanted), 900):
            chunk = wanted[start : start + 900]
            marks = ",".join("?" * len(chunk))
            rows.extend(
                db.execute(
                    f"SELECT hash, vector FROM vectors WHERE model_id = ? AND hash IN ({marks})",
                    [model_id, *chunk],
                ).fetchall()
            )
    out = np.empty((len(rows), dim), dtype=np.float32)
    for i, (_, blob) in enumerate(rows):
        out[i] = np.frombuffer(blob, dtype=np_dtype)
    return [r[0] for r in rows], out
