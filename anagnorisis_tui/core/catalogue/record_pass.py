"""Pass 2 of a scan: read each new or changed file once and write its catalogue rows.

This thread reads and hashes; a writer thread owns the SQLite connection for the pass and
commits one short transaction per batch. sqlite3 releases the GIL while it steps, so the B-tree
work overlaps the next batch's reads on a second core. Still a single writer.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.base.progress import Cancelled, Progress, ProgressCallback, Timer
from anagnorisis_tui.core.catalogue.imageinfo import BadImage, FileChanged, Inspected, inspect_file
from anagnorisis_tui.core.catalogue.scan_types import (
    FileCallback,
    FileEvent,
    ScanSummary,
    chunks,
    known_hashes,
)

_UPSERT_FILE = (
    "INSERT INTO files(path, root, folder, name, hash, size, mtime_ns, present, scan_id, added, "
    "updated) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET "
    "root=excluded.root, folder=excluded.folder, name=excluded.name, hash=excluded.hash, "
    "size=excluded.size, mtime_ns=excluded.mtime_ns, present=1, scan_id=excluded.scan_id, "
    "updated=excluded.updated"
)
# Known content keeps its row; only a capture date never read (an older catalogue) is filled in.
_INSERT_IMAGE = (
    "INSERT INTO images(hash, size, width, height, format, frames, first_seen, taken, "
    "taken_offset, taken_read) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT(hash) DO "
    "UPDATE SET taken=excluded.taken, taken_offset=excluded.taken_offset, taken_read=1 "
    "WHERE images.taken_read = 0"
)
_UPSERT_ERROR = (
    "INSERT OR REPLACE INTO scan_errors(path, root, reason, size, mtime_ns, at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


@dataclass
class Batch:
    images: list[tuple[Any, ...]] = field(default_factory=list)
    files: list[tuple[Any, ...]] = field(default_factory=list)
    errors: list[tuple[Any, ...]] = field(default_factory=list)
    absent: list[tuple[str]] = field(default_factory=list)  # changed paths now bad
    cleared: list[tuple[str]] = field(default_factory=list)  # bad paths now readable
    # (content hash, path if it was known before) for each file read, to classify it
    read: list[tuple[str, str | None]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.files) + len(self.errors)


class Writer(threading.Thread):
    """The pass's single writer: classifies and commits batches handed over in a queue."""

    def __init__(self, db: Database, summary: ScanSummary, on_file: FileCallback | None) -> None:
        super().__init__(name="scan-writer", daemon=True)
        self.db = db
        self.summary = summary
        self.on_file = on_file
        self.queue: queue.Queue[Batch | None] = queue.Queue(maxsize=4)
        self.error: BaseException | None = None

    def run(self) -> None:
        while (batch := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.write(batch)
                except BaseException as exc:  # handed to the reading thread, which raises it
                    self.error = exc

    def write(self, batch: Batch) -> None:
        db = self.db
        known = known_hashes(db, [h for h, _ in batch.read])
        changed = [p for _, p in batch.read if p is not None]
        old_hash: dict[str, str] = {}
        for chunk in chunks(changed):
            marks = ",".join("?" * len(chunk))
            old_hash.update(
                db.execute(f"SELECT path, hash FROM files WHERE path IN ({marks})", chunk)
            )
        conn = db.conn
        with conn:
            if batch.images:
                conn.executemany(_INSERT_IMAGE, batch.images)
            if batch.files:
                conn.executemany(_UPSERT_FILE, batch.files)
            if batch.cleared:
                conn.executemany("DELETE FROM scan_errors WHERE path = ?", batch.cleared)
            if batch.absent:
                conn.executemany("UPDATE files SET present = 0 WHERE path = ?", batch.absent)
            if batch.errors:
                conn.executemany(_UPSERT_ERROR, batch.errors)
        summary = self.summary
        seen: set[str] = set()
        for i, (content, path) in enumerate(batch.read):
            if path is not None:
                status = "unchanged" if old_hash.get(path) == content else "changed"
            elif content in known or content in seen:
                status = "moved"
            else:
                status = "new"
            seen.add(content)
            setattr(summary, status, getattr(summary, status) + 1)
            if self.on_file is not None:
                f, im = batch.files[i], batch.images[i]
                self.on_file(FileEvent(f[0], status, f[4], im[2], im[3], f[5], im[4], im[5], f[6]))


def catalogue_pass(
    db: Database,
    root_db: str,
    todo: Sequence[tuple[str, str, str, str, bool, bool]],
    summary: ScanSummary,
    report: ProgressCallback,
    cancel: threading.Event | None,
    on_file: FileCallback | None,
    batch_size: int = 2000,
    batch_seconds: float = 1.0,
    readers: int = 4,
) -> None:
    """Read `todo` items into the db: (os path, path text, folder text, name text, path known
    before, path recorded as bad before)."""
    writer = Writer(db, summary, on_file)
    writer.start()
    stage = Timer()
    total = len(todo)
    batch = Batch()
    last_flush = time.monotonic()
    last_report = 0.0  # the first check reports at once
    scan_id = summary.scan_id
    done = done_bytes = 0

    def hand_over() -> None:
        nonlocal batch, last_flush
        if len(batch):
            writer.queue.put(batch)
            batch = Batch()
        last_flush = time.monotonic()
        if writer.error is not None:
            raise writer.error

    try:
        for (os_path, text, folder, name, was_known, was_bad), got in _inspected(todo, readers):
            done += 1
            if cancel is not None and cancel.is_set():
                raise Cancelled
            if done & 7 == 0:
                now_m = time.monotonic()
                if now_m - last_report > 0.1:
                    last_report = now_m
                    report(Progress("catalogue", done, total, done_bytes, stage.elapsed, name))
                if now_m - last_flush > batch_seconds:
                    hand_over()
            now = time.time()
            if isinstance(got, Exception):
                exc = got
                batch.errors.append((text, root_db, str(exc), None, None, now))
                if isinstance(exc, BadImage):
                    # Keep size and mtime so an unchanged bad file is not retried.
                    try:
                        st = _stat(os_path)
                        batch.errors[-1] = (text, root_db, str(exc), st[0], st[1], now)
                    except OSError:
                        pass
                if was_known:
                    batch.absent.append((text,))  # its old content leaves the views
                if on_file is not None:
                    on_file(FileEvent(text, "error", reason=str(exc)))
            else:
                info = got.info
                size = got.size
                done_bytes += size
                batch.images.append(
                    (
                        got.hash,
                        size,
                        info.width,
                        info.height,
                        info.format,
                        info.frames,
                        now,
                        info.taken,
                        info.taken_offset,
                    )
                )
                batch.files.append(
                    (text, root_db, folder, name, got.hash, size, got.mtime_ns, scan_id, now, now)
                )
                batch.read.append((got.hash, text if was_known else None))
                if was_bad:
                    batch.cleared.append((text,))
            if len(batch) >= batch_size:
                hand_over()
        hand_over()
    finally:
        # Commit what was read even when cancelled: the next scan does not read it again.
        if len(batch):
            writer.queue.put(batch)
        writer.queue.put(None)
        writer.join()
        summary.bytes += done_bytes
    if writer.error is not None:
        raise writer.error
    report(Progress("catalogue", done, total, done_bytes, stage.elapsed))


_CHUNK = 16  # files per read-ahead task: amortises the executor's per-task cost


def _inspect_chunk(paths: list[str]) -> list[Inspected | BadImage | FileChanged]:
    out: list[Inspected | BadImage | FileChanged] = []
    for path in paths:
        try:
            out.append(inspect_file(path))
        except (BadImage, FileChanged) as exc:
            out.append(exc)
        except Exception as exc:  # a parser bug on one hostile file must not stop the scan
            out.append(BadImage(f"cannot read the image header: {exc!r}"))
    return out


def _inspected(
    todo: Sequence[tuple[str, str, str, str, bool, bool]], readers: int
) -> Iterator[tuple[tuple[str, str, str, str, bool, bool], Inspected | BadImage | FileChanged]]:
    """(item, what inspect_file gave or raised) for each item, in order.

    With readers > 1, files are read ahead in small chunks by that many threads: file reads
    release the GIL, so on a disk or network share several requests are in flight at once
    (see BENCHMARKS.md, cold page cache). At most readers * 2 chunks are read ahead.
    """
    if readers <= 1:
        for item in todo:
            yield item, _inspect_chunk([item[0]])[0]
        return
    pool = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="scan-read")
    chunks = (todo[i : i + _CHUNK] for i in range(0, len(todo), _CHUNK))
    window: deque[tuple[Sequence[Any], Future[Any]]] = deque()
    try:
        for chunk in chunks:
            window.append((chunk, pool.submit(_inspect_chunk, [c[0] for c in chunk])))
            if len(window) >= readers * 2:
                break
        while window:
            chunk, future = window.popleft()
            following = next(chunks, None)
            if following is not None:
                window.append((following, pool.submit(_inspect_chunk, [c[0] for c in following])))
            yield from zip(chunk, future.result(), strict=True)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _stat(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns
