"""Cosine scores of every stored image vector against one query vector, as a TEMP table.

A semantic search or a text-concept filter must compose with any other filter and page from
SQLite, so the scores live where SQL can join them: a TEMP table (hash, score) on the reader's
own connection. Scoring is exact (every vector, not an ANN top-k), so "landscape photos of cats"
still finds the landscape cat ranked 5,000th by the search alone. Vectors are streamed from
SQLite in blocks: memory stays at one block however large the library.

Tables are cached per connection, keyed by (model, query vector, vectors version), so paging and
re-sorting reuse them; a new embedding run changes the version and the scores are recomputed.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import xxhash

from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.semantic import vectors

BLOCK = 4096
MAX_CACHED = 8  # tables kept per connection; the oldest is dropped beyond this

# Per-connection caches, keyed by id of the sqlite3 connection.
_caches: dict[int, OrderedDict[str, str]] = {}


def vectors_version(db: Database, model_id: str) -> tuple[int, float]:
    row = db.execute(
        "SELECT count(*), coalesce(max(at), 0) FROM vectors WHERE model_id = ?", [model_id]
    ).fetchone()
    return int(row[0]), float(row[1])


def score_table(db: Database, model_id: str, query: np.ndarray) -> str:
    """The name of a TEMP table (hash TEXT PRIMARY KEY, score REAL) for this query vector."""
    query = vectors.normalise(np.asarray(query, dtype=np.float32).reshape(1, -1))[0]
    version = vectors_version(db, model_id)
    digest = xxhash.xxh3_64_hexdigest(
        model_id.encode() + repr(version).encode() + query.astype("<f4").tobytes()
    )
    name = f"ts_{digest}"
    cache = _caches.setdefault(id(db.conn), OrderedDict())
    exists = db.execute(
        "SELECT 1 FROM sqlite_temp_master WHERE type = 'table' AND name = ?", [name]
    ).fetchone()
    if name in cache and exists:
        cache.move_to_end(name)
        return name
    _fill(db, name, model_id, query)
    cache[name] = name
    while len(cache) > MAX_CACHED:
        old, _ = cache.popitem(last=False)
        db.execute(f"DROP TABLE IF EXISTS temp.{old}")
    return name


def _fill(db: Database, name: str, model_id: str, query: np.ndarray) -> None:
    spec = vectors.model_spec(db, model_id)
    db.execute(f"DROP TABLE IF EXISTS temp.{name}")
    db.execute(f"CREATE TEMP TABLE {name} (hash TEXT PRIMARY KEY, score REAL NOT NULL)")
    if spec is None:
        return
    dim, dtype = spec
    if query.shape[0] != dim:
        raise ValueError(f"query vector has {query.shape[0]} dimensions, the model {dim}")
    np_dtype = np.dtype("<f2" if dtype == "float16" else "<f4")
    # A second cursor reads while the first streams: a separate cursor, same connection.
    cursor = db.conn.execute("SELECT hash, vector FROM vectors WHERE model_id = ?", [model_id])
    with db.transaction():
        while True:
            rows = cursor.fetchmany(BLOCK)
            if not rows:
                break
            matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np_dtype).reshape(-1, dim)
            scores = matrix.astype(np.float32) @ query
            db.conn.executemany(
                f"INSERT OR REPLACE INTO temp.{name}(hash, score) VALUES (?, ?)",
                zip((r[0] for r in rows), scores.tolist(), strict=True),
            )


def forget(db: Database) -> None:
    """Drop this connection's cached tables (called when a connection closes)."""
    cache = _caches.pop(id(db.conn), None)
    for name in cache or ():
        db.execute(f"DROP TABLE IF EXISTS temp.{name}")
