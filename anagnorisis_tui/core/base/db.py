"""The SQLite catalogue: schema, migrations (PRAGMA user_version), WAL, one connection per thread.

Everything that belongs to an image's *content* (ratings, vectors, predictions, perceptual hash)
is keyed by the content hash, never by path, so moves and renames lose nothing. Paths live in
`files` and point at a content hash; a file that vanishes is marked absent, never deleted with
what is keyed by its content.

Single writer: long jobs write in short transactions from one worker thread; readers use their
own connections (WAL lets them read while it writes).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from anagnorisis_tui.core.base import private
from anagnorisis_tui.core.errors import UserError

SCHEMA_VERSION = 4

# 8 KiB pages: 512-d float32 vectors are 2 KiB blobs; with the default 4 KiB page many rows
# spill to overflow pages and the file roughly doubles (see BENCHMARKS.md, vector storage).
PAGE_SIZE = 8192


class DatabaseError(UserError, RuntimeError):
    """The database cannot be opened or used; the message says why and what to do."""


class Database:
    """One open catalogue connection: `conn` is the sqlite3 connection, `execute` runs one
    statement on it, `query` yields rows as dicts. That is all the core needs; a fuller wrapper
    (sqlite-utils) costs every command about 0.2 s of imports, numpy included."""

    __slots__ = ("_depth", "conn")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._depth = 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Commit what is written inside, or roll it back on an error. Nested blocks join the
        outermost one, which alone commits: a write of several steps (an ingest batch's pixel
        identities, perceptual hashes, renditions and vectors) is all there after a kill, or
        none of it is, so the next run redoes exactly the batches that were not finished."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._depth = 1
        try:
            with self.conn:
                yield
        finally:
            self._depth = 0

    def execute(
        self, sql: str, parameters: Sequence[object] | Mapping[str, object] | None = None
    ) -> sqlite3.Cursor:
        if parameters is None:
            return self.conn.execute(sql)
        return self.conn.execute(sql, parameters)

    def query(
        self, sql: str, parameters: Sequence[object] | Mapping[str, object] | None = None
    ) -> Iterator[dict[str, object]]:
        cursor = self.execute(sql, parameters)
        keys = [d[0] for d in cursor.description or ()]
        for row in cursor:
            yield dict(zip(keys, row, strict=True))


_MIGRATION_1 = """
CREATE TABLE images (
    hash TEXT PRIMARY KEY,          -- content hash: xxh3-128 of the file bytes, hex
    pixel_hash TEXT,                -- xxh3-128 of decoded, orientation-normalised pixels
    size INTEGER NOT NULL,
    width INTEGER,                  -- after EXIF orientation
    height INTEGER,
    format TEXT,
    frames INTEGER NOT NULL DEFAULT 1,
    phash INTEGER,                  -- 64-bit perceptual hash (signed), NULL until computed
    first_seen REAL NOT NULL
);
CREATE INDEX images_pixel_hash ON images(pixel_hash);

CREATE TABLE files (
    path TEXT PRIMARY KEY,          -- absolute path; non-UTF-8 bytes kept with surrogateescape
    root TEXT NOT NULL,             -- the library root it was found under
    folder TEXT NOT NULL,           -- parent folder, relative to root ('' at the top)
    name TEXT NOT NULL,
    hash TEXT NOT NULL REFERENCES images(hash),
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    present INTEGER NOT NULL DEFAULT 1,
    scan_id INTEGER NOT NULL DEFAULT 0,
    added REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX files_hash ON files(hash);
CREATE INDEX files_root_folder ON files(root, folder);
CREATE INDEX files_present ON files(present, root);

CREATE TABLE scan_errors (
    path TEXT PRIMARY KEY,
    root TEXT NOT NULL,
    reason TEXT NOT NULL,
    size INTEGER,
    mtime_ns INTEGER,
    at REAL NOT NULL
);

CREATE TABLE scans (
    id INTEGER PRIMARY KEY,
    root TEXT NOT NULL,
    started REAL NOT NULL,
    finished REAL,                  -- NULL: interrupted (the next scan resumes)
    summary TEXT                    -- JSON
);

CREATE TABLE ratings (
    hash TEXT PRIMARY KEY,          -- content hash; no FK so a rating outlives everything
    value REAL NOT NULL CHECK (value >= 0 AND value <= 10),
    updated REAL NOT NULL
);

CREATE TABLE rating_history (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    value REAL,                     -- NULL: the rating was cleared
    at REAL NOT NULL,
    source TEXT NOT NULL DEFAULT 'user'   -- user, import, xmp, carried:<hash>, keeper:<hash>
);
CREATE INDEX rating_history_hash ON rating_history(hash);

CREATE TABLE vectors (
    hash TEXT NOT NULL,
    model_id TEXT NOT NULL,
    vector BLOB NOT NULL,           -- L2-normalised, little-endian, dtype per embed_models
    at REAL NOT NULL,
    PRIMARY KEY (hash, model_id)
);
CREATE INDEX vectors_model ON vectors(model_id);

CREATE TABLE embed_models (
    model_id TEXT PRIMARY KEY,
    dim INTEGER NOT NULL,
    dtype TEXT NOT NULL,            -- 'float16' or 'float32'
    info TEXT                       -- JSON: name, pretrained, weights sha, ...
);

CREATE TABLE embed_errors (
    hash TEXT NOT NULL,
    model_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (hash, model_id)
);

CREATE TABLE evaluators (
    id TEXT PRIMARY KEY,
    embed_model_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    created REAL NOT NULL,
    path TEXT NOT NULL,             -- safetensors/npz file under the data dir
    metrics TEXT,                   -- JSON
    active INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE predictions (
    hash TEXT NOT NULL,
    evaluator_id TEXT NOT NULL,
    value REAL NOT NULL,
    uncertainty REAL,
    at REAL NOT NULL,
    PRIMARY KEY (hash, evaluator_id)
);

CREATE TABLE file_actions (
    id INTEGER PRIMARY KEY,
    batch TEXT NOT NULL,            -- one id per user action, for undo
    action TEXT NOT NULL,           -- 'trash' or 'move'
    source TEXT NOT NULL,
    dest TEXT,
    hash TEXT,
    at REAL NOT NULL,
    undone REAL
);

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT
);
"""

# When a photo was taken (EXIF DateTimeOriginal, see core/catalogue/capture_date.py), per content.
# taken_read = 1 once the file's EXIF was looked at: rows from older catalogues are 0 until a
# scan reads their dates, so "no date in the file" (taken NULL, taken_read 1) is told apart.
_MIGRATION_CAPTURE_DATE = """
ALTER TABLE images ADD COLUMN taken REAL;          -- seconds since the epoch, NULL: none
ALTER TABLE images ADD COLUMN taken_offset INTEGER; -- minutes east of UTC, NULL: not recorded
ALTER TABLE images ADD COLUMN taken_read INTEGER NOT NULL DEFAULT 0;
CREATE INDEX images_taken_unread ON images(taken_read) WHERE taken_read = 0;
"""

# Append new migrations; never edit one that has shipped.
# Duplicate verification renditions (core/duplicates/verify.py), one per content hash.
_MIGRATION_RENDITIONS = """
CREATE TABLE renditions (
    hash TEXT PRIMARY KEY,          -- content hash
    data BLOB NOT NULL,             -- 32 x 32 premultiplied RGBa, 4096 bytes
    width INTEGER NOT NULL,         -- as displayed (EXIF orientation applied)
    height INTEGER NOT NULL
);
"""

# The duplicates' second look remembered per pair of contents (core/duplicates/looks.py): what
# moments.compare said of two 256-pixel thumbnails, so no pair is compared twice.
_MIGRATION_LOOKS = """
CREATE TABLE looks (
    a TEXT NOT NULL,                -- content hash of the first thumbnail compared
    b TEXT NOT NULL,                -- ... of the second
    turn TEXT NOT NULL,             -- '' or the turn applied to the second ('mirrored', ...)
    flat INTEGER NOT NULL,          -- compared as a low-detail pair
    version TEXT NOT NULL,          -- looks.version(): a row of another version never matches
    copy INTEGER NOT NULL,          -- moments.Moment's fields
    scene INTEGER NOT NULL,
    why TEXT NOT NULL,
    peak REAL NOT NULL,
    noise REAL NOT NULL,
    shift REAL NOT NULL,
    PRIMARY KEY (a, b, turn, flat)
) WITHOUT ROWID;
"""

MIGRATIONS: list[str] = [
    _MIGRATION_1,
    _MIGRATION_RENDITIONS,
    _MIGRATION_CAPTURE_DATE,
    _MIGRATION_LOOKS,
]


def connect(path: Path, *, readonly: bool = False) -> Database:
    """Open (creating and migrating if needed) the catalogue. One connection per thread."""
    path = Path(path)
    if readonly:
        if not path.exists():
            raise DatabaseError(f"no catalogue at {path}: scan a library first")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        try:
            private.secure_data_dir(path.parent)
        except private.UnsafePathError as exc:
            raise DatabaseError(str(exc)) from exc
        except OSError as exc:
            raise DatabaseError(
                f"cannot create the data dir {path.parent}: {exc.strerror}; "
                "choose another with --data-dir or ANAGNORISIS_DATA_DIR"
            ) from exc
        new = not path.exists()
        if new:
            # Made 0600 before SQLite opens it, whatever the umask: its -wal and -shm files
            # take the database's mode.
            with contextlib.suppress(FileExistsError, OSError):
                os.close(private.open_private(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
        try:
            conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
            if new:
                conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
            _enable_wal(conn)
        except sqlite3.OperationalError as exc:
            raise DatabaseError(
                f"cannot open the catalogue {path}: {exc}; check that the data dir is "
                "writable or choose another with --data-dir or ANAGNORISIS_DATA_DIR"
            ) from exc
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA synchronous=NORMAL")
    db = Database(conn)
    if not readonly:
        migrate(db)
    return db


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL. Switching needs an exclusive lock and SQLite does not wait for one here
    (the busy timeout is not consulted), so several threads opening a fresh catalogue at once
    would see "database is locked": retry for up to ~10 s."""
    deadline = time.monotonic() + 10
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def schema_version(db: Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def _statements(script: str) -> list[str]:
    """Split a migration script into statements with SQLite's own tokenizer."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def migrate(db: Database) -> None:
    """Bring the schema up to date.

    Several threads or processes may open a fresh catalogue at once (the app's workers, a cron
    scan): the write lock is taken first (BEGIN IMMEDIATE) and the version read again under it,
    so exactly one of them migrates and the others see the result.
    """
    if _check_version(db) == len(MIGRATIONS):
        return
    conn = db.conn
    if conn.in_transaction:
        conn.commit()
    conn.execute("BEGIN IMMEDIATE")
    try:
        for number in range(_check_version(db), len(MIGRATIONS)):
            for statement in _statements(MIGRATIONS[number]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number + 1}")
        conn.execute("COMMIT")
    except BaseException:
        # A full disk may already have ended the transaction: keep the error that says so.
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise


def _check_version(db: Database) -> int:
    version = schema_version(db)
    if version > len(MIGRATIONS):
        raise DatabaseError(
            f"the catalogue has schema version {version}, newer than this program "
            f"({len(MIGRATIONS)}); upgrade anagnorisis-tui"
        )
    return version


def now() -> float:
    return time.time()


def integrity_ok(db: Database) -> bool:
    return bool(db.execute("PRAGMA integrity_check").fetchone()[0] == "ok")
