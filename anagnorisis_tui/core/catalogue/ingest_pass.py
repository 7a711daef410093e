"""Pass 3 of a scan: one read and at most one decode per new content, for everything derived.

For each present content that lacks any of pixel identity, perceptual hash, grid thumbnail or
(when a model is given) a vector for the model, a worker thread reads the file once, checks
that its bytes still hash to the catalogued content hash, and then:

- pixel identity: for a JPEG, a hash of its coding segments and scan data plus orientation,
  without decoding (core/catalogue/jpeg_identity.py); for any other format, or a JPEG that
  parser is not sure of, the full decode's pixel hash (core/base/hashing.py);
- one decode at the largest size the products need: the full decode when identity took one,
  else a reduced JPEG decode (`Image.draft`, 1/2..1/8 scale straight out of libjpeg);
- from that upright image: the perceptual hash and the duplicate finder's verification
  rendition, the grid thumbnail (written to the cache) and the model's input array.

This thread gathers results, runs the model on full batches, and is the single writer: each
batch commits on its own, so a pass killed at any moment keeps what it committed and the next
pass does only the rest. Pillow releases the GIL while it decodes, so decoding overlaps the
model. Content whose pixels cannot be decoded leaves the catalogue as a recorded scan error.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

import numpy as np

from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.base.progress import Cancelled, Progress, ProgressCallback, Timer, check
from anagnorisis_tui.core.catalogue import pending, thumbnails
from anagnorisis_tui.core.catalogue.decode_budget import DecodeLimits, budget_bytes
from anagnorisis_tui.core.catalogue.ingest_derive import (
    Derived,
    Job,
    Products,
    decode_size,
    derive_many,
)
from anagnorisis_tui.core.catalogue.jpeg_identity import PREFIX as JPEG_PREFIX
from anagnorisis_tui.core.catalogue.pixel_pass import carry_legacy, store_pixels
from anagnorisis_tui.core.catalogue.scan_types import IngestSummary, ScanSummary
from anagnorisis_tui.core.duplicates import phash, renditions

__all__ = ["IngestSummary", "Products", "ingest_pass"]

PER_TASK = 4  # contents per worker task: amortises the executor without delaying a cancel


def _jobs(db: Database, root_db: str | None, products: Products, model_id: str | None) -> list[Job]:
    rows = pending.ingest_rows(db, root_db, phash=products.phash, model_id=model_id)
    legacy = _legacy_sizes(db) if any(r[5] and r[2] == "JPEG" for r in rows) else set()
    cache, size = products.thumbnail_cache, products.thumbnail_size
    jobs = []
    for content, path, fmt, width, height, identify, ph, vec, rend in rows:
        thumb = False
        # Thumbnails are made with the content's first pass (or with any product it still
        # lacks); already-ingested content is not stat'ed in the cache on every scan.
        if cache is not None:
            thumb = not thumbnails.thumbnail_path(cache, content, size).is_file()
        jobs.append(
            Job(
                content,
                path,
                bool(identify),
                bool(identify) and fmt == "JPEG" and (width, height) in legacy,
                bool(ph),
                thumb,
                bool(vec),
                bool(rend),
            )
        )
    return jobs


def _legacy_sizes(db: Database) -> set[tuple[int, int]]:
    """Sizes of JPEG content identified by a full decode and no longer present anywhere: a
    catalogue made before identities were decode-free, whose files were since rewritten."""
    return {
        (w, h)
        for w, h in db.execute(
            "SELECT DISTINCT width, height FROM images i WHERE format = 'JPEG' AND "
            "pixel_hash IS NOT NULL AND substr(pixel_hash, 1, ?) != ? AND NOT EXISTS "
            "(SELECT 1 FROM files f WHERE f.hash = i.hash AND f.present = 1)",
            [len(JPEG_PREFIX), JPEG_PREFIX],
        )
    }


def _ahead(
    pool: ThreadPoolExecutor, tasks: list[list[Job]], window: int, run: Callable[..., Any]
) -> Iterator[list[Derived]]:
    """Task results in order, `window` tasks in flight ahead of the consumer."""
    queue: deque[Future[Any]] = deque()
    pending = iter(tasks)
    try:
        for task in pending:
            queue.append(pool.submit(run, task))
            if len(queue) >= window:
                break
        while queue:
            future = queue.popleft()
            following = next(pending, None)
            if following is not None:
                queue.append(pool.submit(run, following))
            yield future.result()
    finally:
        for future in queue:
            future.cancel()


def _resolve_model(products: Products, summary: IngestSummary) -> Any:
    model = products.embedder
    if callable(model) and not hasattr(model, "encode_images"):
        try:
            model = model()
        except Exception as exc:  # ModelUnavailable and any load failure: no vectors today
            summary.model_error = str(exc) or type(exc).__name__
            return None
    return model


def _register(db: Database, embedder: Any) -> None:
    from anagnorisis_tui.core.semantic import vectors

    if getattr(embedder, "random_weights", False):
        raise ValueError("refusing to store vectors from a model with random weights")
    spec = vectors.model_spec(db, embedder.model_id)
    if spec is None:
        vectors.register_model(db, embedder.model_id, embedder.dim, info=embedder.info())
    elif spec[0] != embedder.dim:
        raise ValueError(
            f"{embedder.model_id}: stored vectors have {spec[0]} dims, the model {embedder.dim}"
        )


def ingest_pass(
    db: Database,
    root_db: str | None,
    products: Products,
    *,
    scan_summary: ScanSummary | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> IngestSummary:
    """Derive what present content under root_db (None: all) lacks; returns what was done."""
    timer = Timer()
    summary = IngestSummary()
    report = progress or (lambda _p: None)
    embedder = _resolve_model(products, summary)
    model_id = embedder.model_id if embedder is not None else None
    summary.model_id = model_id
    if embedder is not None:
        _register(db, embedder)
    jobs = _jobs(db, root_db, products, model_id)
    summary.total = len(jobs)
    if not jobs:
        return summary
    side = decode_size(products, embedder)
    model = (int(embedder.image_size), embedder.resize_mode) if embedder is not None else None
    workers = products.workers or _default_workers(embedder)
    tasks = [jobs[i : i + PER_TASK] for i in range(0, len(jobs), PER_TASK)]
    batch = _Batch()
    done = 0
    last_write = time.monotonic()
    limits = DecodeLimits(
        products.decode_budget or budget_bytes(), workers, lock_file=products.decode_lock
    )
    run = partial(derive_many, products=products, side=side, model=model, limits=limits)

    def flush() -> None:
        batch.write(db, embedder, summary, scan_summary)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest") as pool:
        try:
            for results in _ahead(pool, tasks, _window(workers, embedder, products), run):
                check(cancel)
                for got in results:
                    done += 1
                    batch.add(got)
                detail = results[-1].job.path
                report(Progress("ingest", done, len(jobs), elapsed=timer.elapsed, detail=detail))
                full = len(batch.clips) >= products.batch_size if embedder else len(batch) >= 500
                if full or (time.monotonic() - last_write > 1.0 and not batch.clips):
                    flush()
                    last_write = time.monotonic()
        except Cancelled:
            summary.cancelled = True
        finally:
            # What was finished is kept, also when cancelled.
            flush()
    summary.seconds = round(timer.elapsed, 3)
    return summary


class _Batch:
    def __init__(self) -> None:
        self.items: list[Derived] = []
        self.clips: list[Derived] = []

    def __len__(self) -> int:
        return len(self.items)

    def add(self, got: Derived) -> None:
        self.items.append(got)
        if got.clip is not None:
            self.clips.append(got)

    def write(
        self,
        db: Database,
        embedder: Any,
        summary: IngestSummary,
        scan_summary: ScanSummary | None,
    ) -> None:
        items, clips = self.items, self.clips
        self.items, self.clips = [], []
        if not items:
            return
        matrix = None
        if clips:
            matrix = embedder.encode_images(np.stack([c.clip for c in clips if c.clip is not None]))
        pixels = [(d.job.content, d.pixel) for d in items if d.pixel is not None]
        # Content that cannot be decoded for its identity leaves the catalogue (scan_errors).
        failures = [(d.job.content, d.failure) for d in items if d.failure and d.job.identify]
        # ...but one that was not the file's fault (memory) is looked at again next scan.
        retry = {d.job.content for d in items if d.failure and d.retry}
        counts = scan_summary if scan_summary is not None else ScanSummary(root="")
        # One transaction for the whole batch: a kill leaves all of it or none of it.
        with db.transaction():
            store_pixels(db, pixels, failures, counts, {}, retry=retry)
            legacy = [(d.job.content, d.legacy_pixel) for d in items if d.legacy_pixel]
            if legacy:
                counts.pixel_matched += carry_legacy(db, legacy)
            now = time.time()
            db.conn.executemany(
                "UPDATE images SET phash = ? WHERE hash = ? AND phash IS NULL",
                [(d.phash, d.job.content) for d in items if d.phash is not None],
            )
            # Content that decoded for identity earlier but not now: recorded per product, as
            # the embedding and duplicate passes always did, so it is not retried every scan.
            bad = [d for d in items if d.failure is not None and not d.job.identify and not d.retry]
            rows = [(d.job.content, phash.PHASH_MODEL, d.failure, now) for d in bad if d.job.phash]
            rows += [
                (d.job.content, renditions.RENDITION_MODEL, d.failure, now)
                for d in bad
                if d.job.rendition
            ]
            if embedder is not None:
                model_id = embedder.model_id
                rows += [(d.job.content, model_id, d.failure, now) for d in bad if d.job.embed]
            db.conn.executemany(
                "INSERT OR REPLACE INTO embed_errors(hash, model_id, reason, at) "
                "VALUES (?, ?, ?, ?)",
                [(h, m, str(r)[:500], at) for h, m, r, at in rows],
            )
            renditions.store(db, [(d.job.content, *d.rendition) for d in items if d.rendition])
            if matrix is not None:
                from anagnorisis_tui.core.semantic import vectors

                vectors.put_vectors(db, embedder.model_id, [c.job.content for c in clips], matrix)
        summary.identified += len(pixels)
        summary.phashed += sum(d.phash is not None for d in items)
        summary.thumbnails += sum(d.thumb for d in items)
        summary.embedded += len(clips)
        summary.failed += sum(d.failure is not None for d in items)
        summary.missing += sum(d.missing for d in items)


def _window(workers: int, embedder: Any, products: Products) -> int:
    """Tasks decoded ahead of the consumer. With a model, two batches' worth: the consumer
    runs the model on batch N while the workers decode batch N+1 (a shorter window left them
    idle for half of every forward); each one ahead holds only its small model input."""
    if embedder is None:
        return workers * 2
    return max(workers * 2, 2 * -(-products.batch_size // PER_TASK))


def _default_workers(embedder: Any) -> int:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpus = cpus or 2
    if embedder is None:
        return max(1, min(4, cpus))
    if str(getattr(embedder, "device", "cpu")).startswith(("cuda", "mps")):
        return max(2, min(8, cpus))
    return max(2, min(8, cpus // 2))
