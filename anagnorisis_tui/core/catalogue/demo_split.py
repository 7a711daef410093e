"""The demo library out of the user's catalogue: what older versions mixed in is moved out.

The demo lives apart, in a data dir of its own under the user's (`paths.demo_dir`: its own
catalogue, thumbnails, index and model exports, its pictures in `library/`), so no view,
search, group, training, queue or command on the user's library sees it. Versions before kept
the demo's pictures in `<data dir>/demo-library/` and scanned them into the user's catalogue,
where its images showed in search results and duplicate groups and its ratings trained the
user's model.

`separate` (run once when a user's catalogue is first opened, by core/library.py) moves that
out, and changes nothing else:
- the ratings given to demo images (and their history) go to the demo's own catalogue, so the
  demo keeps them; content that is also one of the user's own files stays the user's;
- every row about the demo's files and their content leaves the user's catalogue: files, scans,
  scan errors, vectors, predictions, renditions, the images themselves, a saved root;
- evaluators trained after the first demo rating learnt from the demo: they are retired (kept
  on disk, inactive, their predictions dropped), so the Train screen asks for a new training;
- the search index (a cache) is dropped and rebuilt from the user's own vectors on next use;
- the demo's pictures move to their new folder (they are the app's, never the user's).
A kill part-way leaves either nothing done or the demo's ratings copied twice (harmless: the
copy keeps what the demo catalogue already has); the next open finishes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from anagnorisis_tui.core.base import db as dbmod
from anagnorisis_tui.core.base import fsnames, paths
from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.catalogue import roots
from anagnorisis_tui.core.catalogue.scan_types import chunks, prefix_range

# Tables keyed by content hash whose rows about demo-only content leave the user's catalogue.
_BY_HASH = ("vectors", "embed_errors", "predictions", "renditions", "ratings", "rating_history")


def _legacy_roots(data_dir: Path) -> list[str]:
    """The old demo folder as the catalogue may have stored it (absolute and resolved)."""
    legacy = paths.legacy_demo_library_dir(data_dir)
    found = {os.path.abspath(legacy), os.path.realpath(legacy)}
    return sorted(fsnames.to_db(p) for p in found)


def mixed_in(db: Database, data_dir: Path) -> bool:
    """Whether this catalogue holds files of the old demo folder (one indexed look-up)."""
    for root in _legacy_roots(data_dir):
        lo, hi = prefix_range(root)
        if db.execute(
            "SELECT 1 FROM files WHERE path >= ? AND path < ? LIMIT 1", [lo, hi]
        ).fetchone():
            return True
    return False


def separate(db: Database, data_dir: Path) -> int:
    """Move the demo out of the user's catalogue of `data_dir` (see the module); returns how
    many demo files it held (0: nothing to do, nothing changed)."""
    _move_pictures(data_dir)
    if not mixed_in(db, data_dir):
        return 0
    demo_paths: list[str] = []
    for root in _legacy_roots(data_dir):
        lo, hi = prefix_range(root)
        demo_paths += [
            r[0]
            for r in db.execute("SELECT path FROM files WHERE path >= ? AND path < ?", [lo, hi])
        ]
    demo_hashes = _demo_only_hashes(db, demo_paths)
    _copy_ratings(db, data_dir, demo_hashes)
    with db.transaction():
        first_rating = _first_rating(db, demo_hashes)
        for batch in chunks(demo_paths):
            marks = ",".join("?" * len(batch))
            db.execute(f"DELETE FROM files WHERE path IN ({marks})", list(batch))
        for root in _legacy_roots(data_dir):
            lo, hi = prefix_range(root)
            db.execute("DELETE FROM scans WHERE root = ?", [root])
            db.execute("DELETE FROM scan_errors WHERE path >= ? AND path < ?", [lo, hi])
        for batch in chunks(sorted(demo_hashes)):
            marks = ",".join("?" * len(batch))
            for table in _BY_HASH:
                db.execute(f"DELETE FROM {table} WHERE hash IN ({marks})", list(batch))
            db.execute(f"DELETE FROM images WHERE hash IN ({marks})", list(batch))
        if first_rating is not None:
            _retire_evaluators(db, first_rating)
        saved = roots.stored(db)
        legacy = set(_legacy_roots(data_dir))
        if saved and any(fsnames.to_db(r) in legacy for r in saved):
            roots.save(db, [r for r in saved if fsnames.to_db(r) not in legacy])
    shutil.rmtree(paths.index_dir(data_dir), ignore_errors=True)  # rebuilt without the demo
    return len(demo_paths)


def _demo_only_hashes(db: Database, demo_paths: list[str]) -> set[str]:
    """Content of the demo's files that no other file of the catalogue holds."""
    hashes: set[str] = set()
    for batch in chunks(demo_paths):
        marks = ",".join("?" * len(batch))
        hashes.update(
            r[0] for r in db.execute(f"SELECT hash FROM files WHERE path IN ({marks})", list(batch))
        )
    demo = set(demo_paths)
    shared: set[str] = set()
    for batch in chunks(sorted(hashes)):
        marks = ",".join("?" * len(batch))
        for path, content in db.execute(
            f"SELECT path, hash FROM files WHERE hash IN ({marks})", list(batch)
        ):
            if path not in demo:
                shared.add(content)
    return hashes - shared


def _first_rating(db: Database, hashes: set[str]) -> float | None:
    first: float | None = None
    for batch in chunks(sorted(hashes)):
        marks = ",".join("?" * len(batch))
        row = db.execute(
            f"SELECT min(at) FROM rating_history WHERE hash IN ({marks})", list(batch)
        ).fetchone()
        rated = db.execute(
            f"SELECT min(updated) FROM ratings WHERE hash IN ({marks})", list(batch)
        ).fetchone()
        for value in (row[0] if row else None, rated[0] if rated else None):
            if value is not None and (first is None or value < first):
                first = float(value)
    return first


def _retire_evaluators(db: Database, since: float) -> None:
    trained = [r[0] for r in db.execute("SELECT id FROM evaluators WHERE created >= ?", [since])]
    for evaluator in trained:
        db.execute("UPDATE evaluators SET active = 0 WHERE id = ?", [evaluator])
        db.execute("DELETE FROM predictions WHERE evaluator_id = ?", [evaluator])


def _copy_ratings(db: Database, data_dir: Path, hashes: set[str]) -> None:
    """The demo's ratings and their history into the demo's own catalogue (what it has wins)."""
    ratings: list[tuple[object, ...]] = []
    history: list[tuple[object, ...]] = []
    for batch in chunks(sorted(hashes)):
        marks = ",".join("?" * len(batch))
        ratings += db.execute(
            f"SELECT hash, value, updated FROM ratings WHERE hash IN ({marks})", list(batch)
        ).fetchall()
        history += db.execute(
            f"SELECT hash, value, at, source FROM rating_history WHERE hash IN ({marks})",
            list(batch),
        ).fetchall()
    if not ratings and not history:
        return
    demo = dbmod.connect(paths.database_path(paths.demo_dir(data_dir)))
    try:
        with demo.transaction():
            demo.conn.executemany(
                "INSERT INTO ratings(hash, value, updated) VALUES (?, ?, ?) "
                "ON CONFLICT(hash) DO NOTHING",
                ratings,
            )
            known = {
                tuple(r) for r in demo.execute("SELECT hash, value, at, source FROM rating_history")
            }
            demo.conn.executemany(
                "INSERT INTO rating_history(hash, value, at, source) VALUES (?, ?, ?, ?)",
                [row for row in history if tuple(row) not in known],
            )
    finally:
        demo.conn.close()


def _move_pictures(data_dir: Path) -> None:
    """The old demo folder to the demo's own data dir (left where it is if that exists)."""
    old = paths.legacy_demo_library_dir(data_dir)
    new = paths.demo_library_dir(data_dir)
    if not old.is_dir() or new.exists():
        return
    try:
        new.parent.mkdir(parents=True, exist_ok=True)
        os.replace(old, new)
    except OSError:
        pass  # e.g. a read-only data dir: the demo is made again in its new place when asked
