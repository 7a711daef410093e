"""Incremental library scan: walk, read what is new or changed, then hash pixels of new content.

Passes, each reported as its own progress stage:
1. walk: list image files with size and mtime (os.scandir + stat), compared against every
   known path under the root loaded in one query. Unchanged (path, size, mtime_ns) files are
   never reopened; an unchanged bad file is not retried. Known paths not seen are marked
   present=0 (they leave the views; nothing keyed by their content is touched).
2. catalogue: read each new or changed file once: content hash (xxh3-128) and header info.
   A new path whose content is already known (move, rename, copy) reuses everything keyed by
   content. Rows are written in short batched transactions by this (the single writer) thread.
3. pixels: decode new content in a thread pool (Pillow releases the GIL) for the pixel hash.
   New content whose pixels equal known content (a metadata-only rewrite) gets that content's
   rating, vectors and perceptual hash, so nothing the user did is lost.

Every bad file goes to scan_errors with its reason; one bad file never stops a scan. A scan
killed at any point leaves a consistent database (WAL, batched transactions) and the next scan
carries on from what was committed. Nothing is ever written inside the library folder.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field

import sqlite_utils

from anagnorisis_tui.core import fsnames, ratings
from anagnorisis_tui.core.imageinfo import BadImage, FileChanged, decode_pixel_hash, inspect_file
from anagnorisis_tui.core.progress import Cancelled, Progress, ProgressCallback, Timer, check
from anagnorisis_tui.core.walk import Found, Problem, walk


class ScanError(ValueError):
    """The scan cannot start (missing root, not a folder); the message says why."""


@dataclass
class ScanSummary:
    root: str = ""
    files: int = 0  # image files present under the root after this scan (not counting bad ones)
    new: int = 0  # new paths with content never seen before
    changed: int = 0  # known paths whose content changed
    unchanged: int = 0  # not reopened (or reopened after a touch, same content)
    moved: int = 0  # new paths whose content was already known: moves, renames, copies
    vanished: int = 0  # known paths no longer there (marked absent, nothing deleted)
    errors: int = 0  # bad files under the root (new ones and unchanged ones not retried)
    bytes: int = 0  # bytes read in the catalogue pass
    seconds: float = 0.0
    cancelled: bool = False
    pixel_hashed: int = 0  # contents decoded for their pixel hash in this scan
    pixel_matched: int = 0  # new contents whose pixels equal known content (rating carried)
    resumed: bool = False  # the previous scan of this root was interrupted
    scan_id: int = 0
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FileEvent:
    """One file's outcome, for --json output: status new/changed/moved/unchanged/error."""

    path: str  # catalogue text (see fsnames)
    status: str
    hash: str | None = None
    width: int | None = None
    height: int | None = None
    size: int | None = None
    format: str | None = None
    frames: int | None = None
    mtime_ns: int | None = None
    reason: str | None = None


FileCallback = Callable[[FileEvent], None]


def normalise_root(root: str | os.PathLike[str]) -> str:
    """Absolute OS path of a library folder; ScanError if it is missing or not a folder."""
    path = os.path.abspath(os.path.expanduser(os.fspath(root)))
    if not os.path.exists(path):
        raise ScanError(f"library folder not found: {fsnames.display(fsnames.to_db(path))}")
    if not os.path.isdir(path):
        raise ScanError(f"not a folder: {fsnames.display(fsnames.to_db(path))}")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ScanError(f"cannot read the folder: {fsnames.display(fsnames.to_db(path))}")
    return path


def _prefix_range(root_db: str) -> tuple[str, str]:
    """[lo, hi) bounds of every path under root_db, for the files primary-key index."""
    base = root_db.rstrip("/")
    return base + "/", base + "0"  # '0' sorts right after '/'


class _Writer:
    """Buffers rows and writes them in one short transaction per batch."""

    def __init__(self, db: sqlite_utils.Database, batch_size: int, max_seconds: float) -> None:
        self.db = db
        self.batch_size = batch_size
        self.max_seconds = max_seconds
        self.images: list[tuple] = []
        self.files: list[tuple] = []
        self.errors: list[tuple] = []
        self.cleared: list[tuple[str]] = []
        self.absent: list[tuple[str]] = []
        self.last = time.monotonic()

    def pending(self) -> int:
        return len(self.files) + len(self.errors)

    def maybe_flush(self) -> None:
        if self.pending() >= self.batch_size or (
            self.pending() and time.monotonic() - self.last > self.max_seconds
        ):
            self.flush()

    def flush(self) -> None:
        conn = self.db.conn
        with conn:
            if self.images:
                conn.executemany(
                    "INSERT OR IGNORE INTO images(hash, size, width, height, format, frames, "
                    "first_seen) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    self.images,
                )
            if self.files:
                conn.executemany(
                    "INSERT INTO files(path, root, folder, name, hash, size, mtime_ns, present, "
                    "scan_id, added, updated) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) "
                    "ON CONFLICT(path) DO UPDATE SET root=excluded.root, folder=excluded.folder, "
                    "name=excluded.name, hash=excluded.hash, size=excluded.size, "
                    "mtime_ns=excluded.mtime_ns, present=1, scan_id=excluded.scan_id, "
                    "updated=excluded.updated",
                    self.files,
                )
            if self.absent:
                conn.executemany("UPDATE files SET present = 0 WHERE path = ?", self.absent)
            if self.cleared:
                conn.executemany("DELETE FROM scan_errors WHERE path = ?", self.cleared)
            if self.errors:
                conn.executemany(
                    "INSERT OR REPLACE INTO scan_errors(path, root, reason, size, mtime_ns, at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    self.errors,
                )
        self.images.clear()
        self.files.clear()
        self.errors.clear()
        self.cleared.clear()
        self.absent.clear()
        self.last = time.monotonic()


def _chunks(items: Sequence, size: int = 900) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _known_hashes(db: sqlite_utils.Database, hashes: Iterable[str]) -> set[str]:
    wanted = list(set(hashes))
    found: set[str] = set()
    for chunk in _chunks(wanted):
        marks = ",".join("?" * len(chunk))
        found.update(
            r[0] for r in db.execute(f"SELECT hash FROM images WHERE hash IN ({marks})", chunk)
        )
    return found


def scan(
    db: sqlite_utils.Database,
    root: str | os.PathLike[str],
    *,
    excludes: Sequence[str] = (),
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    on_file: FileCallback | None = None,
    batch_size: int = 2000,
    batch_seconds: float = 1.0,
    workers: int | None = None,
    pixels: bool = True,
) -> ScanSummary:
    """Scan one library root into the catalogue; returns what happened (see ScanSummary)."""
    root_os = normalise_root(root)
    root_db = fsnames.to_db(root_os)
    timer = Timer()
    summary = ScanSummary(root=root_db)
    report = progress or (lambda _p: None)

    with db.conn:
        row = db.execute(
            "SELECT finished FROM scans WHERE root = ? ORDER BY id DESC LIMIT 1", [root_db]
        ).fetchone()
        summary.resumed = row is not None and row[0] is None
        cur = db.conn.execute(
            "INSERT INTO scans(root, started) VALUES (?, ?)", [root_db, time.time()]
        )
        summary.scan_id = scan_id = int(cur.lastrowid or 0)

    try:
        todo = _walk_and_compare(db, root_os, root_db, excludes, summary, report, cancel, on_file)
        stage = Timer()
        _catalogue(db, root_db, todo, summary, report, cancel, on_file, batch_size, batch_seconds)
        summary.stage_seconds["catalogue"] = round(stage.elapsed, 3)
        if pixels:
            stage = Timer()
            pixel_pass(db, root_db, summary, report, cancel, workers=workers)
            summary.stage_seconds["pixels"] = round(stage.elapsed, 3)
    except Cancelled:
        summary.cancelled = True
    lo, hi = _prefix_range(root_db)
    summary.files = db.execute(
        "SELECT count(*) FROM files WHERE path >= ? AND path < ? AND present = 1", [lo, hi]
    ).fetchone()[0]
    summary.errors = db.execute(
        "SELECT count(*) FROM scan_errors WHERE path >= ? AND path < ?", [lo, hi]
    ).fetchone()[0]
    summary.seconds = round(timer.elapsed, 3)
    with db.conn:
        db.execute(
            "UPDATE scans SET finished = ?, summary = ? WHERE id = ?",
            [None if summary.cancelled else time.time(), json.dumps(summary.to_dict()), scan_id],
        )
    if on_file is not None and not summary.cancelled:
        _emit_unchanged(db, root_db, scan_id, on_file)
    return summary


def _walk_and_compare(
    db: sqlite_utils.Database,
    root_os: str,
    root_db: str,
    excludes: Sequence[str],
    summary: ScanSummary,
    report: ProgressCallback,
    cancel: threading.Event | None,
    on_file: FileCallback | None,
) -> list[tuple[Found, str, str | None]]:
    """Walk the tree; return (found, path text, old hash) for files to read; mark the rest."""
    stage = Timer()
    lo, hi = _prefix_range(root_db)
    # One query each: every known path and bad path under the root, compared in memory.
    known = {
        path: (size, mtime, present, root)
        for path, size, mtime, present, root in db.execute(
            "SELECT path, size, mtime_ns, present, root FROM files WHERE path >= ? AND path < ?",
            [lo, hi],
        )
    }
    bad = {
        path: (size, mtime, reason)
        for path, size, mtime, reason in db.execute(
            "SELECT path, size, mtime_ns, reason FROM scan_errors WHERE path >= ? AND path < ?",
            [lo, hi],
        )
    }
    todo: list[tuple[Found, str, str | None]] = []
    seen: set[str] = set()
    revive: list[tuple] = []  # unchanged but marked absent, or filed under another root
    problems: list[tuple] = []
    now = time.time()
    count = 0
    for item in walk(root_os, excludes):
        if type(item) is Problem:
            text = fsnames.to_db(item.path)
            seen.add(text)
            problems.append((text, root_db, item.reason, None, None, now))
            if on_file is not None:
                on_file(FileEvent(text, "error", reason=item.reason))
            continue
        found: Found = item  # type: ignore[assignment]
        text = fsnames.to_db(found.path)
        seen.add(text)
        count += 1
        if count % 2048 == 0:
            check(cancel)
            report(Progress("walk", count, None, elapsed=stage.elapsed, detail=found.name))
        old = known.get(text)
        if old is not None and old[0] == found.size and old[1] == found.mtime_ns:
            summary.unchanged += 1
            if not old[2] or old[3] != root_db:
                revive.append((root_db, fsnames.to_db(found.folder), summary.scan_id, text))
            continue
        was_bad = bad.get(text)
        if was_bad is not None and was_bad[:2] == (found.size, found.mtime_ns):
            # An unchanged bad file: not retried, still counted in errors.
            if on_file is not None:
                on_file(FileEvent(text, "error", size=found.size, reason=was_bad[2]))
            continue
        todo.append((found, text, None if old is None else "?"))
    check(cancel)
    report(Progress("walk", count, count, elapsed=stage.elapsed))

    vanished = [(now, p) for p, v in known.items() if v[2] and p not in seen]
    stale_errors = [(p,) for p in bad if p not in seen]
    with db.conn:
        if vanished:
            db.conn.executemany(
                "UPDATE files SET present = 0, updated = ? WHERE path = ?", vanished
            )
        if stale_errors:
            db.conn.executemany("DELETE FROM scan_errors WHERE path = ?", stale_errors)
        if revive:
            db.conn.executemany(
                "UPDATE files SET present = 1, root = ?, folder = ?, scan_id = ? WHERE path = ?",
                revive,
            )
        if problems:
            db.conn.executemany(
                "INSERT OR REPLACE INTO scan_errors(path, root, reason, size, mtime_ns, at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                problems,
            )
            # A path that is now a problem (e.g. became a broken link) is no longer present.
            db.conn.executemany(
                "UPDATE files SET present = 0 WHERE path = ?", [(p[0],) for p in problems]
            )
    summary.vanished = len(vanished)
    summary.stage_seconds["walk"] = round(stage.elapsed, 3)
    return todo


def _catalogue(
    db: sqlite_utils.Database,
    root_db: str,
    todo: list[tuple[Found, str, str | None]],
    summary: ScanSummary,
    report: ProgressCallback,
    cancel: threading.Event | None,
    on_file: FileCallback | None,
    batch_size: int,
    batch_seconds: float,
) -> None:
    total = len(todo)
    writer = _Writer(db, batch_size, batch_seconds)
    stage = Timer()
    last_report = 0.0
    # Read files waiting for the batch write; classified (new/moved/changed) just before it.
    pending: list[tuple[str, str | None, FileEvent]] = []  # (hash, path, event) to classify

    def flush() -> None:
        hashes = [h for h, _, _ in pending]
        known = _known_hashes(db, hashes) if hashes else set()
        old_hash: dict[str, str] = {}
        changed_paths = [p for _, p, _ in pending if p is not None]
        for chunk in _chunks(changed_paths):
            marks = ",".join("?" * len(chunk))
            old_hash.update(
                db.execute(f"SELECT path, hash FROM files WHERE path IN ({marks})", chunk)
            )
        fresh: set[str] = set()
        for content, changed_path, event in pending:
            if changed_path is not None:
                status = "unchanged" if old_hash.get(changed_path) == content else "changed"
            elif content in known or content in fresh:
                status = "moved"
            else:
                status = "new"
            fresh.add(content)
            setattr(summary, status, getattr(summary, status) + 1)
            if on_file is not None:
                on_file(FileEvent(**{**asdict(event), "status": status}))
        pending.clear()
        writer.flush()

    done = 0
    done_bytes = 0
    for found, text, old in todo:
        if done % 64 == 0:
            check(cancel)
            if stage.elapsed - last_report > 0.1:
                last_report = stage.elapsed
                report(
                    Progress(
                        "catalogue",
                        done,
                        total,
                        bytes_done=done_bytes,
                        elapsed=stage.elapsed,
                        detail=found.name,
                    )
                )
        done += 1
        done_bytes += found.size
        now = time.time()
        try:
            got = inspect_file(found.path)
        except (BadImage, FileChanged) as exc:
            writer.errors.append((text, root_db, str(exc), found.size, found.mtime_ns, now))
            if old is not None:
                writer.absent.append((text,))  # its old content leaves the views
            if on_file is not None:
                on_file(FileEvent(text, "error", size=found.size, reason=str(exc)))
            if len(writer.errors) >= batch_size:
                flush()
            continue
        summary.bytes += got.size
        info = got.info
        writer.images.append(
            (got.hash, got.size, info.width, info.height, info.format, info.frames, now)
        )
        writer.files.append(
            (
                text,
                root_db,
                fsnames.to_db(found.folder),
                fsnames.to_db(found.name),
                got.hash,
                got.size,
                got.mtime_ns,
                summary.scan_id,
                now,
                now,
            )
        )
        writer.cleared.append((text,))
        pending.append(
            (
                got.hash,
                text if old is not None else None,
                FileEvent(
                    text,
                    "new",
                    got.hash,
                    info.width,
                    info.height,
                    got.size,
                    info.format,
                    info.frames,
                    got.mtime_ns,
                ),
            )
        )
        if writer.pending() >= batch_size or time.monotonic() - writer.last > batch_seconds:
            flush()
    flush()
    report(Progress("catalogue", done, total, bytes_done=done_bytes, elapsed=stage.elapsed))


def _emit_unchanged(
    db: sqlite_utils.Database, root_db: str, scan_id: int, on_file: FileCallback
) -> None:
    lo, hi = _prefix_range(root_db)
    for row in db.execute(
        "SELECT f.path, f.hash, i.width, i.height, f.size, i.format, i.frames, f.mtime_ns "
        "FROM files f JOIN images i ON i.hash = f.hash "
        "WHERE f.path >= ? AND f.path < ? AND f.present = 1 AND f.scan_id != ? ORDER BY f.path",
        [lo, hi, scan_id],
    ):
        on_file(FileEvent(row[0], "unchanged", *row[1:]))


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
    params: list[object] = []
    where = "f.present = 1 AND i.pixel_hash IS NULL"
    if root_db is not None:
        lo, hi = _prefix_range(root_db)
        where += " AND f.path >= ? AND f.path < ?"
        params = [lo, hi]
    jobs = db.execute(
        f"SELECT i.hash, min(f.path) FROM images i JOIN files f ON f.hash = i.hash "
        f"WHERE {where} GROUP BY i.hash",
        params,
    ).fetchall()
    if not jobs:
        return
    stage = Timer()
    total = len(jobs)
    workers = workers or max(1, min(4, os.cpu_count() or 1))
    done = 0
    results: list[tuple[str, str]] = []
    failures: list[tuple[str, str]] = []

    def write() -> None:
        _store_pixels(db, results, failures, summary)
        results.clear()
        failures.clear()

    last_write = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pixels") as pool:
        running: dict[Future, str] = {}
        queue = iter(jobs)
        try:
            while True:
                # Keep a small window in flight so a cancel stops within a few decodes.
                while len(running) < workers * 2:
                    job = next(queue, None)
                    if job is None:
                        break
                    content, path = job
                    running[pool.submit(decode_pixel_hash, fsnames.to_os(path), content)] = content
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    content = running.pop(future)
                    done += 1
                    try:
                        value = future.result()
                    except BadImage as exc:
                        failures.append((content, str(exc)))
                    except Exception as exc:  # a decoder crash must not stop the scan
                        failures.append((content, f"cannot decode the pixels: {exc!r}"))
                    else:
                        if value is not None:
                            results.append((content, value))
                report(Progress("pixels", done, total, elapsed=stage.elapsed))
                if time.monotonic() - last_write > 1.0 or len(results) >= 500:
                    write()
                    last_write = time.monotonic()
                check(cancel)
        finally:
            for future in running:
                future.cancel()
            write()


def _store_pixels(
    db: sqlite_utils.Database,
    results: list[tuple[str, str]],
    failures: list[tuple[str, str]],
    summary: ScanSummary,
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
    twins: list[tuple[str, str]] = []
    for chunk in _chunks([h for h, _ in results]):
        marks = ",".join("?" * len(chunk))
        twins += db.execute(
            f"SELECT n.hash, o.hash FROM images n JOIN images o "
            f"ON o.pixel_hash = n.pixel_hash AND o.hash != n.hash WHERE n.hash IN ({marks})",
            list(chunk),
        ).fetchall()
    matched: set[str] = set()
    for new, old in twins:
        matched.add(new)
        carry_content(db, old, new)
    summary.pixel_matched += len(matched)


def carry_content(db: sqlite_utils.Database, source: str, target: str) -> None:
    """Same pixels, new bytes: give target the rating, vectors and perceptual hash of source.

    Never overwrites what target already has.
    """
    ratings.carry_rating(db, source, target, reason="pixels")
    with db.conn:
        db.execute(
            "INSERT OR IGNORE INTO vectors(hash, model_id, vector, at) "
            "SELECT ?, model_id, vector, at FROM vectors WHERE hash = ?",
            [target, source],
        )
        db.execute(
            "UPDATE images SET phash = (SELECT phash FROM images WHERE hash = ?) "
            "WHERE hash = ? AND phash IS NULL",
            [source, target],
        )


def folder_counts(db: sqlite_utils.Database, root_db: str) -> list[tuple[str, int]]:
    """(folder, present images in it and its subfolders), every ancestor included, sorted."""
    counts: dict[str, int] = {"": 0}
    for folder, n in db.execute(
        "SELECT folder, count(*) FROM files WHERE root = ? AND present = 1 GROUP BY folder",
        [root_db],
    ):
        counts[""] += n
        if folder:
            parts = folder.split("/")
            for depth in range(1, len(parts) + 1):
                key = "/".join(parts[:depth])
                counts[key] = counts.get(key, 0) + n
    return sorted(counts.items())


def scan_errors(db: sqlite_utils.Database, root_db: str | None = None) -> list[tuple[str, str]]:
    if root_db is None:
        rows = db.execute("SELECT path, reason FROM scan_errors ORDER BY path")
    else:
        lo, hi = _prefix_range(root_db)
        rows = db.execute(
            "SELECT path, reason FROM scan_errors WHERE path >= ? AND path < ? ORDER BY path",
            [lo, hi],
        )
    return [(p, r) for p, r in rows]
