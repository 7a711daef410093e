"""Embed a library: decode in threads, encode in batches, store vectors per (content hash, model).

Work is every content hash of a present file that has no vector for this model and no recorded
error, so copies and renames are never recomputed, a change of model re-embeds, and a killed
run resumes where it stopped (each batch commits on its own). A file that cannot be decoded is
recorded in embed_errors with the reason and never retried for the same content.

Decoding runs ahead of the model in a small thread pool (Pillow releases the GIL), bounded so
memory stays flat: the model always has the next batch ready.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.base.progress import Progress, ProgressCallback
from anagnorisis_tui.core.semantic import imageprep, vectors

DEFAULT_BATCH = 32
# Errors that belong to a path, not to the content: try another copy, record nothing.
_PATH_ERRORS = ("file not found", "permission denied")


@dataclass
class EmbedSummary:
    model_id: str
    total: int = 0  # content hashes that needed a vector when the run started
    embedded: int = 0
    errors: int = 0  # new undecodable images recorded this run
    missing: int = 0  # every copy vanished or unreadable since the scan (tried again next run)
    already: int = 0  # present images that had a vector before this run
    seconds: float = 0.0
    cancelled: bool = False

    @property
    def rate(self) -> float:
        return self.embedded / self.seconds if self.seconds > 0 else 0.0


def pending(db: Database, model_id: str) -> list[tuple[str, list[str]]]:
    """(hash, [paths...]) still to embed for this model, in path order."""
    rows = db.execute(
        "SELECT f.hash, f.path FROM files f WHERE f.present = 1 "
        "AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.hash = f.hash AND v.model_id = ?) "
        "AND NOT EXISTS (SELECT 1 FROM embed_errors e WHERE e.hash = f.hash AND e.model_id = ?) "
        "ORDER BY f.path",
        [model_id, model_id],
    ).fetchall()
    by_hash: dict[str, list[str]] = {}
    for h, path in rows:
        by_hash.setdefault(h, []).append(path)
    return list(by_hash.items())


def counts(db: Database, model_id: str) -> tuple[int, int]:
    """(present images with a vector for this model, present images)."""
    total = db.execute("SELECT count(DISTINCT hash) FROM files WHERE present = 1").fetchone()[0]
    done = db.execute(
        "SELECT count(*) FROM (SELECT DISTINCT f.hash FROM files f JOIN vectors v "
        "ON v.hash = f.hash AND v.model_id = ? WHERE f.present = 1)",
        [model_id],
    ).fetchone()[0]
    return int(done), int(total)


def record_error(db: Database, content_hash: str, model_id: str, reason: str) -> None:
    with db.transaction():
        db.execute(
            "INSERT OR REPLACE INTO embed_errors(hash, model_id, reason, at) VALUES (?, ?, ?, ?)",
            [content_hash, model_id, reason[:500], time.time()],
        )


def errors(db: Database, model_id: str) -> list[tuple[str, str, str]]:
    """(hash, a path, reason) of images this model could not embed."""
    return [
        tuple(r)
        for r in db.execute(
            "SELECT e.hash, coalesce(min(f.path), ''), e.reason FROM embed_errors e "
            "LEFT JOIN files f ON f.hash = e.hash WHERE e.model_id = ? GROUP BY e.hash "
            "ORDER BY 2",
            [model_id],
        ).fetchall()
    ]


def _decode(paths: list[str], size: int, resize_mode: str) -> tuple[str, np.ndarray | str]:
    """The first copy that decodes; else the reason (path-only reasons marked as such)."""
    reason = ""
    for path in paths:
        try:
            return path, imageprep.load(fsnames.to_os(path), size, resize_mode)
        except imageprep.ImageDecodeError as exc:
            reason = str(exc)
            if reason not in _PATH_ERRORS:
                return path, reason  # the content is bad: other copies are the same bytes
    return paths[-1], "path:" + reason


def embed_library(
    db: Database,
    embedder: Any,  # embeddings.Embedder (duck-typed: model_id, dim, image_size, resize_mode, info)
    *,
    batch_size: int = DEFAULT_BATCH,
    workers: int | None = None,
    dtype: str = vectors.DEFAULT_DTYPE,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> EmbedSummary:
    model_id = embedder.model_id
    if getattr(embedder, "random_weights", False):
        raise ValueError("refusing to store vectors from a model with random weights")
    spec = vectors.model_spec(db, model_id)
    if spec is None:
        vectors.register_model(db, model_id, embedder.dim, dtype=dtype, info=embedder.info())
    elif spec[0] != embedder.dim:
        raise ValueError(
            f"{model_id}: stored vectors have {spec[0]} dims, the model {embedder.dim}"
        )
    work = pending(db, model_id)
    done_before, _ = counts(db, model_id)
    summary = EmbedSummary(model_id=model_id, total=len(work), already=done_before)
    start = time.monotonic()
    if not work:
        return summary
    workers = workers or default_workers(getattr(embedder, "device", "cpu"))
    size, mode = embedder.image_size, embedder.resize_mode

    def report(detail: str) -> None:
        if progress is not None:
            done = summary.embedded + summary.errors + summary.missing
            progress(
                Progress(
                    "embed", done, summary.total, elapsed=time.monotonic() - start, detail=detail
                )
            )

    report("")
    hashes: list[str] = []
    arrays: list[np.ndarray] = []
    last_path = ""

    def flush() -> None:
        if not hashes:
            return
        matrix = embedder.encode_images(np.stack(arrays))
        vectors.put_vectors(db, model_id, hashes, matrix)
        summary.embedded += len(hashes)
        hashes.clear()
        arrays.clear()
        report(last_path)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:
        try:
            for content_hash, (path, result) in _ahead(pool, work, size, mode, batch_size * 3):
                if cancel is not None and cancel.is_set():
                    summary.cancelled = True
                    break
                last_path = path
                if isinstance(result, str):
                    if result.startswith("path:"):
                        summary.missing += 1
                    else:
                        record_error(db, content_hash, model_id, result)
                        summary.errors += 1
                    continue
                hashes.append(content_hash)
                arrays.append(result)
                if len(hashes) >= batch_size:
                    flush()
            if not summary.cancelled:
                flush()
            else:
                hashes.clear()
                arrays.clear()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    summary.seconds = time.monotonic() - start
    report("")
    return summary


def _ahead(
    pool: ThreadPoolExecutor,
    work: list[tuple[str, list[str]]],
    size: int,
    mode: str,
    window: int,
) -> Iterator[tuple[str, tuple[str, np.ndarray | str]]]:
    """Results in order, with up to `window` decodes in flight ahead of the consumer."""
    queue: deque[tuple[str, Future[Any]]] = deque()
    items = iter(work)
    for content_hash, paths in items:
        queue.append((content_hash, pool.submit(_decode, paths, size, mode)))
        if len(queue) >= window:
            break
    while queue:
        content_hash, future = queue.popleft()
        nxt = next(items, None)
        if nxt is not None:
            queue.append((nxt[0], pool.submit(_decode, nxt[1], size, mode)))
        yield content_hash, future.result()


def default_workers(device: str = "cpu") -> int:
    """Decode threads. On a CPU the model and the decoders share the cores, so half of them
    decode, but at least two: measured on 2 cores, one or two decoders give ViT-B-32 the same
    throughput, while a fast model (tiny-clip) is decode-bound and gains from the second
    (BENCHMARKS.md). With a GPU, decoding is the CPU's whole job: all cores, up to 8."""
    import os

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpus = cpus or 2
    if device.startswith(("cuda", "mps")):
        return max(2, min(8, cpus))
    return max(2, min(8, cpus // 2))
