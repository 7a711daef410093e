"""Looks remembered: the second look's result (moments.py) per pair of contents.

Comparing two 256-pixel thumbnails costs ~10 ms of CPU; a library meets thousands of such pairs,
and `groups`, `dedupe --trash --dry-run`, `dedupe --trash` and each opening of the app's review
group the same library again. What `moments.compare` returns depends only on the two thumbnails
(keyed by content hash, see core/catalogue/thumbnails.py), the turn applied to the second one and
the `flat` flag, so it is stored per pair of contents (never paths: a move or a rename keeps it),
with the version of the look (`version()`): a changed moments.py, or thumbnails made another way,
matches no stored row and the pair is looked at again.

Only looks made on thumbnails from the cache are remembered (a thumbnail made in memory, with no
cache, is not the JPEG the cache holds), and a pair whose thumbnail could not be read is not
remembered at all: nothing was looked at. Writing is best effort: a catalogue that cannot be
written to (locked past the busy timeout, a full disk) costs the next grouping a look, never this
grouping its result.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.catalogue import thumbnails
from anagnorisis_tui.core.duplicates import moments

Key = tuple[str, str, str, bool]  # (first's content hash, second's, turn of the second, flat)
BATCH = 256  # looks written per transaction


def version() -> str:
    """The look's version: moments.VERSION, the thumbnails' size and quality, and a digest of
    moments.py's source, so an edit of the look that forgot to bump VERSION still re-looks."""
    return f"{moments.VERSION}:{thumbnails.THUMB_SIZE}:{thumbnails.JPEG_QUALITY}:{_digest()}"


@cache
def _digest() -> str:
    try:
        source = Path(moments.__file__).read_bytes()
    except OSError:  # shipped without its source: the constants alone
        source = b""
    return hashlib.sha256(source).hexdigest()[:16]


class Memory:
    """The remembered looks of one grouping: `recall` reads them, `keep` adds a new one,
    `flush` writes what was added (also every BATCH looks)."""

    def __init__(self, db: Database, look_version: str | None = None) -> None:
        self._db = db
        self._version = look_version if look_version is not None else version()
        self._pending: list[tuple[Key, moments.Moment]] = []
        self._writable = True
        self._pruned = False
        self.recalled = 0
        self.kept = 0

    def recall(self, keys: Iterable[Key]) -> dict[Key, moments.Moment]:
        """The remembered looks among `keys` (of this version)."""
        wanted = set(keys)
        firsts = sorted({key[0] for key in wanted})
        out: dict[Key, moments.Moment] = {}
        try:
            for start in range(0, len(firsts), 900):
                chunk = firsts[start : start + 900]
                marks = ",".join("?" * len(chunk))
                for a, b, turn, flat, copy, scene, why, peak, noise, shift in self._db.execute(
                    "SELECT a, b, turn, flat, copy, scene, why, peak, noise, shift FROM looks "
                    f"WHERE version = ? AND a IN ({marks})",
                    [self._version, *chunk],
                ).fetchall():
                    key = (a, b, turn, bool(flat))
                    if key in wanted:
                        out[key] = moments.Moment(
                            copy=bool(copy),
                            why=why,
                            peak=peak,
                            noise=noise,
                            shift=shift,
                            scene=bool(scene),
                        )
        except sqlite3.DatabaseError:  # an unreadable table: look again, never fail grouping
            return {}
        self.recalled += len(out)
        return out

    def keep(self, key: Key, moment: moments.Moment) -> None:
        self._pending.append((key, moment))
        if len(self._pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        if not pending or not self._writable:
            return
        rows = [
            (*key[:3], int(key[3]), self._version, int(m.copy), int(m.scene), m.why)
            + (m.peak, m.noise, m.shift)
            for key, m in pending
        ]
        try:
            with self._db.transaction():
                if not self._pruned:  # rows of another version never match again
                    self._db.execute("DELETE FROM looks WHERE version != ?", [self._version])
                    self._pruned = True
                self._db.conn.executemany(
                    "INSERT OR REPLACE INTO looks(a, b, turn, flat, version, copy, scene, why, "
                    "peak, noise, shift) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
        except sqlite3.Error:  # read-only, locked past the timeout, full: the next run looks
            self._writable = False
            return
        self.kept += len(rows)
