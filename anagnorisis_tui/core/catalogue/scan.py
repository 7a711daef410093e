"""Incremental library scan: walk, read what is new or changed, then hash pixels of new content.

Passes, each reported as its own progress stage:
1. walk: list image files with size and mtime (os.scandir + stat), compared against every
   known path under the root loaded in one query. Unchanged (path, size, mtime_ns) files are
   never reopened; an unchanged bad file is not retried. Known paths not seen are marked
   present=0 (they leave the views; nothing keyed by their content is touched).
2. catalogue (record_pass.py): read each new or changed file once, a few files ahead in reader
   threads: content hash (xxh3-128) and header info, capture date included. A new path whose
   content is already known (move, rename, copy) reuses everything keyed by content. One
   writer thread commits short batched transactions (the single writer for the pass).
   Content catalogued before capture dates were read gets them in a "dates" stage
   (dates_pass.py).
3. ingest (ingest_pass.py): one read and at most one decode of each new content
   for its pixel identity and whatever else is asked for (perceptual hash, thumbnail, vector).
   New content whose pixels equal known content (a metadata-only rewrite) gets that content's
   rating, vectors and perceptual hash, so nothing the user did is lost.

Every bad file goes to scan_errors with its reason; one bad file never stops a scan. A scan
killed at any point leaves a consistent database (WAL, batched transactions) and the next scan
carries on from what was committed. Nothing is ever written inside the library folder.

`scan` is `start` (pass 1) then `carry_on` (the rest, then `finish`). Pass 1 and `has_work`
import no decoder and no numpy, so a caller can walk in its own process and hand the rest to
another (`Walked.to_payload`) only when there is something to read or derive; with nothing,
`finish` closes the scan where it is (cli/scan_cmd.py does this).
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.base.progress import Cancelled, Progress, ProgressCallback, Timer, check
from anagnorisis_tui.core.catalogue import pending
from anagnorisis_tui.core.catalogue.scan_types import (
    FileCallback,
    FileEvent,
    ScanError,
    ScanOptions,
    ScanSummary,
    normalise_root,
    prefix_range,
)
from anagnorisis_tui.core.catalogue.walk import OUTSIDE, Problem, walk_folders

if TYPE_CHECKING:  # the passes after the walk import the decoders: only when they run
    pass

__all__ = [
    "FileEvent",
    "ScanError",
    "ScanOptions",
    "ScanSummary",
    "Walked",
    "normalise_root",
    "scan",
]

_PRESENT, _HERE = 1, 2  # the state bits _load_known gives each known path
_PRESENT_HERE = _PRESENT | _HERE
_REPORT_EVERY = 2048  # files between walk progress reports (and cancel checks)

# A file the catalogue pass reads: (os path, path text, folder text, name text, path known
# before, path recorded as bad before).
Todo = tuple[str, str, str, str, bool, bool]


@dataclasses.dataclass
class Walked:
    """A scan that has walked its root: what the later passes carry on with. Plain data
    (`to_payload`), so they can run in another process (core/work/tasks.py)."""

    root_db: str
    summary: ScanSummary
    todo: list[Todo]
    elapsed: float = 0.0  # seconds spent before the handover, counted in summary.seconds
    timer: Timer = dataclasses.field(default_factory=Timer, repr=False)

    @property
    def seconds(self) -> float:
        return self.elapsed + self.timer.elapsed

    def to_payload(self) -> dict[str, Any]:
        # The path text is sent only where it differs from the OS path (names not UTF-8).
        todo = [[p, None if t == p else t, f, n, k, b] for p, t, f, n, k, b in self.todo]
        return {
            "root_db": self.root_db,
            "summary": self.summary.to_dict(),
            "todo": todo,
            "elapsed": self.seconds,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Walked:
        todo = [(p, p if t is None else t, f, n, k, b) for p, t, f, n, k, b in payload["todo"]]
        return cls(
            payload["root_db"],
            ScanSummary.from_json(payload["summary"]),
            todo,
            elapsed=float(payload["elapsed"]),
        )


def scan(
    db: Database,
    root: str | os.PathLike[str],
    options: ScanOptions | None = None,
    *,
    excludes: Sequence[str] = (),
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ScanSummary:
    """Scan one library root into the catalogue; returns what happened (see ScanSummary).

    With `options.pixels`, new content gets its pixel identity and `options.products`
    (default: nothing more); the ingest pass's own summary is the result's `ingest`. The same
    as `start` then `carry_on`."""
    options = options or ScanOptions()
    walked = start(
        db,
        root,
        excludes=excludes,
        progress=progress,
        cancel=cancel,
        on_file=options.on_file,
        links_into=options.links_into,
        follow_links_outside=options.follow_links_outside,
    )
    return carry_on(db, walked, options, progress=progress, cancel=cancel)


def start(
    db: Database,
    root: str | os.PathLike[str],
    *,
    excludes: Sequence[str] = (),
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    on_file: FileCallback | None = None,
    links_into: Sequence[str] = (),
    follow_links_outside: bool = False,
) -> Walked:
    """Record the scan, walk the root and compare it with the catalogue (pass 1).

    Symbolic links are followed only into the root or the other folders of `links_into`
    (the library's roots), unless `follow_links_outside` (see walk.py)."""
    timer = Timer()
    root_os = normalise_root(root)
    root_db = fsnames.to_db(root_os)
    summary = ScanSummary(root=root_db)
    report = progress or (lambda _p: None)

    with db.transaction():
        row = db.execute(
            "SELECT finished FROM scans WHERE root = ? ORDER BY id DESC LIMIT 1", [root_db]
        ).fetchone()
        summary.resumed = row is not None and row[0] is None
        cur = db.conn.execute(
            "INSERT INTO scans(root, started) VALUES (?, ?)", [root_db, time.time()]
        )
        summary.scan_id = int(cur.lastrowid or 0)
    walked = Walked(root_db, summary, [], timer=timer)
    try:
        stage = Timer()
        walked.todo = _walk_and_compare(
            db,
            root_os,
            root_db,
            excludes,
            summary,
            report,
            cancel,
            on_file,
            inside=[fsnames.to_os(r) for r in links_into],
            follow_outside=follow_links_outside,
        )
        summary.stage_seconds["walk"] = round(stage.elapsed, 3)
    except Cancelled:
        summary.cancelled = True
    return walked


def has_work(db: Database, walked: Walked, *, phash: bool, model_id: str | None = None) -> bool:
    """Whether `carry_on` would read or derive anything (with a perceptual hash wanted when
    `phash`, a vector when `model_id`); False for a cancelled walk."""
    if walked.summary.cancelled:
        return False
    return bool(
        walked.todo
        or pending.dates_rows(db, walked.root_db, limit=1)
        or pending.ingest_rows(db, walked.root_db, phash=phash, model_id=model_id, limit=1)
    )


def carry_on(
    db: Database,
    walked: Walked,
    options: ScanOptions | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ScanSummary:
    """The passes after the walk (catalogue, dates, ingest), then `finish` (see `scan`)."""
    options = options or ScanOptions()
    on_file = options.on_file
    from anagnorisis_tui.core.catalogue.dates_pass import dates_pass
    from anagnorisis_tui.core.catalogue.ingest_derive import Products
    from anagnorisis_tui.core.catalogue.ingest_pass import ingest_pass
    from anagnorisis_tui.core.catalogue.record_pass import catalogue_pass

    summary, root_db = walked.summary, walked.root_db
    report = progress or (lambda _p: None)
    try:
        if summary.cancelled:
            raise Cancelled
        stage = Timer()
        catalogue_pass(
            db,
            root_db,
            walked.todo,
            summary,
            report,
            cancel,
            on_file,
            options.batch_size,
            options.batch_seconds,
        )
        summary.stage_seconds["catalogue"] = round(stage.elapsed, 3)
        stage = Timer()
        if dates_pass(db, root_db, report, cancel):
            summary.stage_seconds["dates"] = round(stage.elapsed, 3)
        if options.pixels:
            stage = Timer()
            wanted = options.products or Products(phash=False)
            summary.ingest = ingest_pass(
                db, root_db, wanted, scan_summary=summary, progress=report, cancel=cancel
            )
            summary.stage_seconds["ingest"] = round(stage.elapsed, 3)
            check(cancel)
    except Cancelled:
        summary.cancelled = True
    return finish(db, walked, on_file=on_file)


def finish(db: Database, walked: Walked, *, on_file: FileCallback | None = None) -> ScanSummary:
    """Count what the root holds, close the scan's record, then report the unchanged files."""
    summary, root_db = walked.summary, walked.root_db
    lo, hi = prefix_range(root_db)
    # Every present file under the root carries its label now (the walk relabels what it sees),
    # so the (present, root) index answers without touching the rows.
    summary.files = db.execute(
        "SELECT count(*) FROM files WHERE present = 1 AND root = ?", [root_db]
    ).fetchone()[0]
    summary.errors = db.execute(
        "SELECT count(*) FROM scan_errors WHERE path >= ? AND path < ?", [lo, hi]
    ).fetchone()[0]
    summary.seconds = round(walked.seconds, 3)
    with db.transaction():
        db.execute(
            "UPDATE scans SET finished = ?, summary = ? WHERE id = ?",
            [
                None if summary.cancelled else time.time(),
                json.dumps(summary.to_dict()),
                summary.scan_id,
            ],
        )
    if on_file is not None and not summary.cancelled:
        _emit_unchanged(db, root_db, summary.scan_id, on_file)
    return summary


def _walk_and_compare(
    db: Database,
    root_os: str,
    root_db: str,
    excludes: Sequence[str],
    summary: ScanSummary,
    report: ProgressCallback,
    cancel: threading.Event | None,
    on_file: FileCallback | None,
    *,
    inside: Sequence[str] = (),
    follow_outside: bool = False,
) -> list[Todo]:
    """Walk; mark vanished and revived paths; return the files to read (see catalogue_pass)."""
    stage = Timer()
    lo, hi = prefix_range(root_db)
    # Every known and bad path under the root, loaded at once and compared in memory. (Loading
    # in a thread beside the walk was measured slower: the two fight over the GIL.)
    known, bad = _load_known(db, root_db, lo, hi)
    # Paths never seen need no stat here: the reader takes size and mtime from the open file.
    # With a catalogue to compare against, everything is stat'ed (most paths are known).
    stat_files = bool(known or bad)
    to_db = fsnames.to_db

    todo: list[Todo] = []
    # Seen paths are popped from known and bad: what is left at the end was not seen.
    revive: list[tuple[Any, ...]] = []  # unchanged but marked absent, or filed under another root
    problems: list[tuple[Any, ...]] = []
    now = time.time()
    count = unchanged = 0
    next_report = _REPORT_EVERY
    name = ""
    pop, present_here = known.pop, _PRESENT_HERE  # locals: this loop runs once per file
    for folder_os, items in walk_folders(
        root_os, excludes, stat_files=stat_files, inside=inside, follow_outside=follow_outside
    ):
        folder = folder_os if folder_os.isascii() else to_db(folder_os)
        for item in items:
            if type(item) is Problem:
                text = to_db(item.path)
                known.pop(text, None)
                bad.pop(text, None)
                problems.append((text, root_db, item.reason, None, None, now))
                summary.links_outside += item.reason == OUTSIDE
                if on_file is not None:
                    on_file(FileEvent(text, "error", reason=item.reason))
                continue
            path, name, size, mtime = item  # type: ignore[misc]
            count += 1
            text = path if path.isascii() else to_db(path)
            old = pop(text, None)
            if old is not None and old[1] == mtime and old[2] == size:
                unchanged += 1
                if old[3] != present_here:  # was absent, or filed under another root
                    revive.append((root_db, folder, summary.scan_id, text))
                continue
            was_bad = bad.pop(text, None)
            if was_bad is not None and was_bad[0] == size and was_bad[1] == mtime:
                # An unchanged bad file: not retried, still counted in errors.
                if on_file is not None:
                    on_file(FileEvent(text, "error", size=size, reason=was_bad[2]))
                continue
            todo.append((path, text, folder, to_db(name), old is not None, was_bad is not None))
        if count >= next_report:
            next_report = count + _REPORT_EVERY
            check(cancel)
            report(Progress("walk", count, None, elapsed=stage.elapsed, detail=name))
    summary.unchanged += unchanged
    check(cancel)
    report(Progress("walk", count, count, elapsed=stage.elapsed))

    vanished = [(now, p) for p, v in known.items() if v[3] & _PRESENT]
    stale_errors = [(p,) for p in bad]
    with db.transaction():
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
    return todo


def _load_known(
    db: Database, root_db: str, lo: str, hi: str
) -> tuple[dict[str, tuple[str, int, int, int]], dict[str, tuple[int | None, int | None, str]]]:
    """({path: (path, mtime, size, state)}, {bad path: (size, mtime, why)}); state has bit
    _PRESENT when the file is present and _HERE when it is filed under this root.

    The rows are kept as SQLite returns them and the two flags come as one column: the sqlite3
    module's cost is per value, and this is one row per file of the library. '+path' makes
    SQLite scan the table instead of walking the primary-key index and looking every row up
    again: twice as fast when (as usual) most rows are under this root.
    """
    rows = db.execute(
        "SELECT path, mtime_ns, size, present + 2 * (root = ?) FROM files "
        "WHERE +path >= ? AND +path < ?",
        [root_db, lo, hi],
    ).fetchall()
    known = {row[0]: row for row in rows}
    bad = {
        path: (size, mtime, reason)
        for path, size, mtime, reason in db.execute(
            "SELECT path, size, mtime_ns, reason FROM scan_errors WHERE path >= ? AND path < ?",
            [lo, hi],
        )
    }
    return known, bad


def _emit_unchanged(db: Database, root_db: str, scan_id: int, on_file: FileCallback) -> None:
    lo, hi = prefix_range(root_db)
    for row in db.execute(
        "SELECT f.path, f.hash, i.width, i.height, f.size, i.format, i.frames, f.mtime_ns "
        "FROM files f JOIN images i ON i.hash = f.hash "
        "WHERE f.path >= ? AND f.path < ? AND f.present = 1 AND f.scan_id != ? ORDER BY f.path",
        [lo, hi, scan_id],
    ):
        on_file(FileEvent(row[0], "unchanged", *row[1:]))


def folder_counts(db: Database, root_db: str) -> list[tuple[str, int]]:
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


def scan_errors(db: Database, root_db: str | None = None) -> list[tuple[str, str]]:
    if root_db is None:
        rows = db.execute("SELECT path, reason FROM scan_errors ORDER BY path")
    else:
        lo, hi = prefix_range(root_db)
        rows = db.execute(
            "SELECT path, reason FROM scan_errors WHERE path >= ? AND path < ? ORDER BY path",
            [lo, hi],
        )
    return [(p, r) for p, r in rows]
