"""Nearest-neighbour search over one model's vectors: an Annoy index plus exact search.

On disk, per model (data_dir/index/<model>/): a build folder holding hashes.npy, vectors.npy
(float32, what exact search reads by memory map: numpy's float16 -> float32 conversion would
cost more than the product itself, see BENCHMARKS.md) and index.ann (Annoy, angular; only when the
library is past EXACT_MAX), and current.json naming the live build. A build is written into
a temporary folder and published by atomically replacing current.json, so a loaded index is
never mutated and a killed build leaves the previous one intact.

Vectors stored after a build (rowid > the build's max_rowid) are searched exactly and merged,
so results are always complete; a build records the vectors table's max rowid it saw.
Anything wrong with the files - another model, other dims, missing or truncated files - makes
`open_snapshot` return None, which callers treat as "rebuild".

search_k is tuned per build, on the library's own vectors: the smallest value on a ladder
whose recall@10 against exact search reaches RECALL_TARGET on queries near the data (image-like:
"more like this"). A build whose ladder ends short of it is searched exactly. Text queries never
use the index (search.needs_exact): across the modality gap its recall collapses.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.base.progress import Progress, ProgressCallback, check
from anagnorisis_tui.core.semantic import vectors
from anagnorisis_tui.core.semantic.model_choice import index_name

FORMAT = 1
# Below this many vectors exact numpy search beats Annoy at equal recall (BENCHMARKS.md).
EXACT_MAX = 20_000
TREES = 40
RECALL_TARGET = 0.99  # recall@10 on image-like queries the index must reach to be used
SEARCH_K_LADDER = (1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000)
CHUNK = 65_536  # rows per exact-search step: bounded memory for float16 input (deltas)


def index_dir(data_dir: Path, model_id: str) -> Path:
    return Path(data_dir) / "index" / index_name(model_id)


@dataclass
class Snapshot:
    """A published build, opened read-only (vectors memory-mapped, Annoy mmapped)."""

    folder: Path
    meta: dict[str, Any]
    hashes: np.ndarray  # (N,) bytes
    matrix: np.ndarray  # (N, dim) float32, memory-mapped
    ann: object | None  # annoy.AnnoyIndex

    @property
    def count(self) -> int:
        return int(self.meta["count"])

    @property
    def max_rowid(self) -> int:
        return int(self.meta["max_rowid"])

    @property
    def index_holds(self) -> bool:
        """Whether the build's tuned recall@10 reached RECALL_TARGET (else: exact search)."""
        return float(self.meta.get("tuned_recall_at_10", 0.0)) >= RECALL_TARGET

    def search(self, query: np.ndarray, k: int, *, exact: bool = False) -> list[tuple[str, float]]:
        k = min(k, self.count)
        if k <= 0:
            return []
        if self.ann is None or exact or not self.index_holds:
            return exact_top(self.matrix, self.hashes, query, k)
        search_k = int(self.meta.get("search_k_per_10", 8_000) * max(1.0, k / 10))
        ids, dists = self.ann.get_nns_by_vector(  # type: ignore[attr-defined]
            query.astype(np.float32).tolist(), k, search_k=search_k, include_distances=True
        )
        return [
            (self.hashes[i].decode(), float(1.0 - d * d / 2.0))
            for i, d in zip(ids, dists, strict=True)
        ]

    def close(self) -> None:
        if self.ann is not None:
            self.ann.unload()  # type: ignore[attr-defined]


def exact_top(
    matrix: np.ndarray, hashes: np.ndarray | list[str], query: np.ndarray, k: int
) -> list[tuple[str, float]]:
    """Top-k by cosine (rows are normalised), chunked so float16 input never doubles memory."""
    scores = exact_scores(matrix, query)
    k = min(k, len(scores))
    if k <= 0:
        return []
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(_text(hashes[i]), float(scores[i])) for i in top]


def exact_scores(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    q = np.asarray(query, dtype=np.float32)
    if matrix.dtype == np.float32:
        return np.asarray(matrix @ q, dtype=np.float32)  # one BLAS pass over the memory map
    out = np.empty(len(matrix), dtype=np.float32)
    for start in range(0, len(matrix), CHUNK):
        block = np.asarray(matrix[start : start + CHUNK], dtype=np.float32)
        out[start : start + len(block)] = block @ q
    return out


def _text(h: object) -> str:
    return h.decode() if isinstance(h, bytes | np.bytes_) else str(h)


def open_snapshot(data_dir: Path, model_id: str, dim: int) -> Snapshot | None:
    """The live build for this model, or None when there is none or it cannot be trusted."""
    folder = index_dir(data_dir, model_id)
    try:
        meta = json.loads((folder / "current.json").read_text("utf-8"))
        if meta.get("format") != FORMAT or meta.get("model_id") != model_id:
            return None
        if int(meta["dim"]) != dim:
            return None
        build = folder / meta["build"]
        for name, size in meta["files"].items():
            if (build / name).stat().st_size != size:
                return None  # truncated or replaced behind our back
        hashes = np.load(build / "hashes.npy", allow_pickle=False)
        matrix = np.load(build / "vectors.npy", mmap_mode="r", allow_pickle=False)
        count = int(meta["count"])
        if hashes.shape != (count,) or matrix.shape != (count, dim):
            return None
        ann = None
        if "index.ann" in meta["files"]:
            from annoy import AnnoyIndex

            ann = AnnoyIndex(dim, "angular")
            ann.load(str(build / "index.ann"))  # mmap: cheap, shared between processes
            if ann.get_n_items() != count:
                ann.unload()
                return None
        return Snapshot(build, meta, hashes, matrix, ann)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def max_rowid(db: Database) -> int:
    return int(db.execute("SELECT coalesce(max(rowid), 0) FROM vectors").fetchone()[0])


def delta(db: Database, model_id: str, after_rowid: int) -> tuple[list[str], np.ndarray]:
    """Vectors stored since a build (rowid range scan: cheap however large the table)."""
    spec = vectors.model_spec(db, model_id)
    if spec is None:
        return [], np.zeros((0, 0), dtype=np.float32)
    dim, dtype = spec
    rows = db.execute(
        "SELECT hash, vector FROM vectors WHERE rowid > ? AND model_id = ?",
        [after_rowid, model_id],
    ).fetchall()
    np_dtype = np.dtype("<f2" if dtype == "float16" else "<f4")
    out = np.empty((len(rows), dim), dtype=np.float32)
    for i, (_, blob) in enumerate(rows):
        out[i] = np.frombuffer(blob, dtype=np_dtype)
    return [r[0] for r in rows], out


def needs_build(db: Database, data_dir: Path, model_id: str) -> bool:
    """True when there is no usable build or it misses more than a few percent of vectors."""
    spec = vectors.model_spec(db, model_id)
    if spec is None:
        return False
    snap = open_snapshot(data_dir, model_id, spec[0])
    total = db.execute("SELECT count(*) FROM vectors WHERE model_id = ?", [model_id]).fetchone()[0]
    if snap is None:
        return bool(total > 0)
    try:
        new = db.execute(
            "SELECT count(*) FROM vectors WHERE rowid > ? AND model_id = ?",
            [snap.max_rowid, model_id],
        ).fetchone()[0]
        return new > max(500, snap.count // 20) or (snap.ann is None and total > EXACT_MAX)
    finally:
        snap.close()


def build(
    db: Database,
    data_dir: Path,
    model_id: str,
    *,
    trees: int = TREES,
    exact_max: int = EXACT_MAX,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    seed: int = 0,
) -> dict[str, Any] | None:
    """Build and publish a new index for the model; returns its meta (None: no vectors)."""
    started = time.monotonic()
    spec = vectors.model_spec(db, model_id)
    if spec is None:
        return None
    dim = spec[0]
    with db.transaction():  # one read transaction: the rowid and the rows agree
        top = max_rowid(db)
        hashes, matrix = vectors.load_vectors(db, model_id)
    if not hashes:
        return None
    folder = index_dir(data_dir, model_id)
    folder.mkdir(parents=True, exist_ok=True)
    build_id = f"build-{int(time.time())}-{uuid.uuid4().hex[:8]}"
    tmp = folder / f"tmp-{build_id}"
    tmp.mkdir()
    try:
        np.save(tmp / "hashes.npy", np.array([h.encode() for h in hashes]))
        np.save(tmp / "vectors.npy", matrix.astype(np.float32))
        meta: dict[str, Any] = {
            "format": FORMAT,
            "model_id": model_id,
            "dim": dim,
            "count": len(hashes),
            "max_rowid": top,
            "build": build_id,
            "built_at": time.time(),
        }
        if len(hashes) > exact_max:
            meta.update(_build_annoy(tmp, matrix, trees, seed, progress, cancel, started))
        meta["files"] = {p.name: p.stat().st_size for p in tmp.iterdir()}
        meta["seconds"] = round(time.monotonic() - started, 2)
        check(cancel)
        os.rename(tmp, folder / build_id)
        pointer = folder / "current.json.tmp"
        pointer.write_text(json.dumps(meta), "utf-8")
        os.replace(pointer, folder / "current.json")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _remove_old_builds(folder, keep=build_id)
    return meta


def _build_annoy(
    tmp: Path,
    matrix: np.ndarray,
    trees: int,
    seed: int,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    started: float,
) -> dict[str, Any]:
    from annoy import AnnoyIndex

    dim = matrix.shape[1]
    ann = AnnoyIndex(dim, "angular")
    ann.set_seed(seed)
    for i, row in enumerate(matrix):
        ann.add_item(i, row)
        if i % 20_000 == 0:
            check(cancel)
            if progress:
                elapsed = time.monotonic() - started
                progress(Progress("index", i, len(matrix), elapsed=elapsed, detail="adding"))
    if progress:
        progress(
            Progress(
                "index",
                len(matrix),
                len(matrix),
                elapsed=time.monotonic() - started,
                detail=f"building {trees} trees",
            )
        )
    ann.build(trees, n_jobs=-1)
    check(cancel)
    ann.save(str(tmp / "index.ann"))
    per_10, recall = _tune_search_k(ann, matrix, trees, seed)
    ann.unload()
    return {"trees": trees, "search_k_per_10": per_10, "tuned_recall_at_10": recall}


def tuning_queries(matrix: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Queries near the data: perturbed items and blends of two items, normalised."""
    rng = np.random.default_rng(seed)
    a = matrix[rng.integers(0, len(matrix), n)]
    b = matrix[rng.integers(0, len(matrix), n)]
    noise = rng.normal(0, 1, a.shape).astype(np.float32) / np.sqrt(a.shape[1])
    q = np.where(np.arange(n)[:, None] % 2 == 0, a + 0.5 * noise, a + b)
    return vectors.normalise(q)


def exact_truth(matrix: np.ndarray, queries: np.ndarray, k: int = 10) -> list[set[int]]:
    """Exact top-k item ids per query (blocks of queries at once: one pass over the matrix)."""
    scores = np.empty((len(queries), len(matrix)), dtype=np.float32)
    for start in range(0, len(matrix), CHUNK):
        block = np.asarray(matrix[start : start + CHUNK], dtype=np.float32)
        scores[:, start : start + len(block)] = queries @ block.T
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    return [set(row.tolist()) for row in top]


def recall_at(
    ann: Any, truth: list[set[int]], queries: np.ndarray, search_k: int, k: int = 10
) -> float:
    hits = 0
    for q, want in zip(queries, truth, strict=True):
        hits += len(want & set(ann.get_nns_by_vector(q.tolist(), k, search_k=search_k)))
    return hits / (k * len(queries))


def _tune_search_k(ann: Any, matrix: np.ndarray, trees: int, seed: int) -> tuple[int, float]:
    queries = tuning_queries(matrix, 100, seed + 1)
    truth = exact_truth(matrix, queries)
    recall = 0.0
    for search_k in SEARCH_K_LADDER:
        recall = recall_at(ann, truth, queries, search_k)
        if recall >= RECALL_TARGET:
            return search_k, round(recall, 4)
    return SEARCH_K_LADDER[-1], round(recall, 4)


def _remove_old_builds(folder: Path, keep: str) -> None:
    for child in folder.iterdir():
        if child.is_dir() and child.name != keep:
            # An old build may still be memory-mapped by a reader: on POSIX removing is safe.
            shutil.rmtree(child, ignore_errors=True)
