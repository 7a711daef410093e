"""Pass 3 of a scan: pixel hashes of new content, decoded in a thread pool, and pixel identity.

Decoding is the slow part of identity (a full decode per image), so it runs after the catalogue
pass, only over content that has no pixel hash yet, in threads (Pillow releases the GIL while it
decodes), and reports its own progress stage. When new content has the same pixels as known
content (a tool rewrote only EXIF/XMP), the known content's rating, vectors and perceptual hash
are carried over, never overwriting anything.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

import sqlite_utils

from anagnorisis_tui.core.base import fsnames, ratings
from anagnorisis_tui.core.base.progress import Progress, ProgressCallback, Timer, check
from anagnorisis_tui.core.catalogue.imageinfo import BadImage, decode_pixel_hash
from anagnorisis_tui.core.catalogue.scan_types import ScanSummary, chunks, prefix_range


def pixel_pass(
    db: sqlite_utils.Database,
    root_db: str | None,
    summary: ScanSummary,
    report: ProgressCallback,
    cancel: threading.Event | None,
    *,
    workers: int | None = None,
) -> None:
    """Pixel-hash every present content under root_db (None: all) that has none yet."""
    # Driven from the pixel_hash index (IS NULL): a no-change rescan finds nothing to do
    # without touching the files table.
    scope, params = "", []
    if root_db is not None:
        lo, hi = prefix_range(root_db)
        scope, params = " AND f.path >= ? AND f.path < ?", [lo, hi]
    jobs = [
        (content, path)
        for content, path in db.execute(
            "SELECT i.hash, (SELECT min(f.path) FROM files f WHERE f.hash = i.hash "
            f"AND f.present = 1{scope}) FROM images i WHERE i.pixel_hash IS NULL",
            params,
        )
        if path is not None
    ]
    if not jobs:
        return
    stage = Timer()
    total = len(jobs)
    workers = workers or max(1, min(4, os.cpu_count() or 1))
    done = 0
    results: list[tuple[str, str]] = []
    failures: list[tuple[str, str]] = []
    donors: dict[str, tuple[str | None, ...]] = {}  # pixel hash -> donor contents, this pass

    def write() -> None:
        _store_pixels(db, results, failures, summary, donors)
        results.clear()
        failures.clear()

    last_write = time.monotonic()
    # Several files per task: per-future overhead is comparable to decoding a thumbnail-sized
    # JPEG. Few enough that a cancel still stops within a moment.
    per_task = 8
    tasks = [jobs[i : i + per_task] for i in range(0, total, per_task)]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pixels") as pool:
        running: set[Future] = set()
        queue = iter(tasks)
        try:
            while True:
                while len(running) < workers * 2:
                    task = next(queue, None)
                    if task is None:
                        break
                    running.add(pool.submit(_decode_many, task))
                if not running:
                    break
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    for content, value, reason in future.result():
                        done += 1
                        if reason is not None:
                            failures.append((content, reason))
                        elif value is not None:
                            results.append((content, value))
                report(Progress("pixels", done, total, elapsed=stage.elapsed))
                if time.monotonic() - last_write > 1.0 or len(results) >= 1000:
                    write()
                    last_write = time.monotonic()
                check(cancel)
        finally:
            for future in running:
                future.cancel()
            write()


def _decode_many(task: list[tuple[str, str]]) -> list[tuple[str, str | None, str | None]]:
    """(content, pixel hash or None if the file changed, failure reason or None) per job."""
    out: list[tuple[str, str | None, str | None]] = []
    for content, path in task:
        try:
            out.append((content, decode_pixel_hash(fsnames.to_os(path), content), None))
        except BadImage as exc:
            out.append((content, None, str(exc)))
        except Exception as exc:  # a decoder crash must not stop the scan
            out.append((content, None, f"cannot decode the pixels: {exc!r}"))
    return out


def _store_pixels(
    db: sqlite_utils.Database,
    results: list[tuple[str, str]],
    failures: list[tuple[str, str]],
    summary: ScanSummary,
    donors: dict[str, tuple[str | None, ...]],
) -> None:
    if not results and not failures:
        return
    now = time.time()
    with db.conn:
        db.conn.executemany(
            "UPDATE images SET pixel_hash = ? WHERE hash = ?", [(v, h) for h, v in results]
        )
        for content, reason in failures:
            # Undecodable content leaves the catalogue; each of its paths is a recorded error
            # (with size and mtime, so it is not retried until the file changes).
            db.execute(
                "INSERT OR REPLACE INTO scan_errors(path, root, reason, size, mtime_ns, at) "
                "SELECT path, root, ?, size, mtime_ns, ? FROM files WHERE hash = ?",
                [reason, now, content],
            )
            db.execute("DELETE FROM files WHERE hash = ?", [content])
    summary.pixel_hashed += len(results)
    if not results:
        return
    pixels_of = dict(results)
    matched: list[str] = []
    for chunk in chunks(list(pixels_of)):
        marks = ",".join("?" * len(chunk))
        matched += [
            r[0]
            for r in db.execute(
                f"SELECT n.hash FROM images n WHERE n.hash IN ({marks}) AND EXISTS "
                "(SELECT 1 FROM images o WHERE o.pixel_hash = n.pixel_hash AND o.hash != n.hash)",
                list(chunk),
            )
        ]
    for content in matched:
        rated, with_vectors, with_phash = _donors(db, pixels_of[content], donors)
        if rated and rated != content:
            ratings.carry_rating(db, rated, content, reason="pixels")
        if (with_vectors and with_vectors != content) or (with_phash and with_phash != content):
            carry_content(db, with_vectors, with_phash, content)
    summary.pixel_matched += len(matched)


def _donors(
    db: sqlite_utils.Database, pixel: str, cache: dict[str, tuple[str | None, ...]]
) -> tuple[str | None, ...]:
    """Known content with these pixels that has (a rating, vectors, a perceptual hash).

    Looked up once per pixel hash per pass: a library holding thousands of identical renders
    must not cost a quadratic number of twin pairs.
    """
    found = cache.get(pixel)
    if found is None:

        def first(sql: str) -> str | None:
            row = db.execute(sql, [pixel]).fetchone()
            return row[0] if row else None

        found = cache[pixel] = (
            first(
                "SELECT o.hash FROM images o JOIN ratings r ON r.hash = o.hash "
                "WHERE o.pixel_hash = ? LIMIT 1"
            ),
            first(
                "SELECT o.hash FROM images o WHERE o.pixel_hash = ? AND EXISTS "
                "(SELECT 1 FROM vectors v WHERE v.hash = o.hash) LIMIT 1"
            ),
            first(
                "SELECT o.hash FROM images o WHERE o.pixel_hash = ? AND o.phash IS NOT NULL LIMIT 1"
            ),
        )
    return found


def carry_content(
    db: sqlite_utils.Database, vectors_from: str | None, phash_from: str | None, target: str
) -> None:
    """Same pixels, new bytes: give target the vectors and perceptual hash of known content.

    Never overwrites what target already has (the rating goes through ratings.carry_rating).
    """
    with db.conn:
        if vectors_from:
            db.execute(
                "INSERT OR IGNORE INTO vectors(hash, model_id, vector, at) "
                "SELECT ?, model_id, vector, at FROM vectors WHERE hash = ?",
                [target, vectors_from],
            )
        if phash_from:
            db.execute(
                "UPDATE images SET phash = (SELECT phash FROM images WHERE hash = ?) "
                "WHERE hash = ? AND phash IS NULL",
                [phash_from, target],
            )
