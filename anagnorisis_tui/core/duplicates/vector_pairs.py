"""Candidate pairs from stored CLIP vectors: the mutual k nearest neighbours whose cosine is at
least the threshold, exactly for small libraries and through Annoy for large ones."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np

from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.duplicates import neighbours

EXACT_LIMIT = 6000  # exact kNN below this many vectors: fast enough and perfect recall


def iter_vectors(
    db: Database, model_id: str, wanted: dict[str, int], block: int = 4096
) -> Iterator[tuple[list[int], np.ndarray]]:
    """(positions in `wanted`, float32 block) for stored vectors of the wanted hashes."""
    spec = db.execute(
        "SELECT dim, dtype FROM embed_models WHERE model_id = ?", [model_id]
    ).fetchone()
    if spec is None:
        return
    dim, dtype = int(spec[0]), np.dtype("<f2" if spec[1] == "float16" else "<f4")
    cursor = db.conn.execute("SELECT hash, vector FROM vectors WHERE model_id = ?", [model_id])
    while True:
        chunk = cursor.fetchmany(block)
        if not chunk:
            return
        keep = [(wanted[h], v) for h, v in chunk if h in wanted]
        if keep:
            matrix = np.frombuffer(b"".join(v for _, v in keep), dtype=dtype).reshape(-1, dim)
            yield [p for p, _ in keep], matrix.astype(np.float32)


def vector_edges(
    db: Database,
    hashes: list[str],
    model_id: str | None,
    threshold: float,
    k: int,
    neighbour_search: str,
    mutual: bool,
    workdir: str | None,
    cancel: threading.Event | None,
    tick: neighbours.Tick,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))
    if model_id is None:
        return empty
    spec = db.execute("SELECT dim FROM embed_models WHERE model_id = ?", [model_id]).fetchone()
    if spec is None:
        return empty
    dim = int(spec[0])
    position = {h: p for p, h in enumerate(hashes)}
    # Dense ids over the images that have a vector; `owner` maps them back to positions.
    count = db.execute("SELECT count(*) FROM vectors WHERE model_id = ?", [model_id]).fetchone()[0]
    use_exact = neighbour_search == "exact" or (neighbour_search == "auto" and count <= EXACT_LIMIT)
    owners: list[int] = []
    if use_exact:
        blocks = []
        for pos, matrix in iter_vectors(db, model_id, position):
            owners.extend(pos)
            blocks.append(matrix)
        if len(owners) < 2:
            return empty
        idx, sims = neighbours.exact_knn(
            np.concatenate(blocks), k, threshold=threshold, cancel=cancel, tick=tick
        )
    else:

        def dense() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            for pos, matrix in iter_vectors(db, model_id, position):
                start = len(owners)
                owners.extend(pos)
                yield np.arange(start, start + len(pos)), matrix

        idx, sims = neighbours.annoy_knn(
            dense(), count, dim, k, workdir=workdir, cancel=cancel, tick=tick
        )
        # count may include vectors outside the scope: trim to what was added.
        idx, sims = idx[: len(owners)], sims[: len(owners)]
        if len(owners) < 2:
            return empty
    i, j, s = neighbours.knn_pairs(idx, sims, threshold, mutual=mutual)
    own = np.array(owners, dtype=np.int64)
    return own[i], own[j], s
