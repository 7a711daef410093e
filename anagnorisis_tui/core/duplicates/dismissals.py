"""Decisions remembered: "these are not duplicates".

A dismissal is stored per pair of contents (content hashes, never paths), so the group it was
made on never comes back: not after a rescan, nor when its files are moved or renamed, nor when
another copy of one of them turns up (grouping drops a dismissed pair before it is verified).
Each decision keeps the contents it was made on, so `groups --dismissed` lists it and one
command takes it back.

The tables live beside the catalogue's and are created on first use (a catalogue opened read-only
and never written to simply has none).
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from itertools import combinations

from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.errors import UserError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dismissals (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    hashes TEXT NOT NULL            -- JSON list of the content hashes, the keeper first
);
CREATE TABLE IF NOT EXISTS dismissed_pairs (
    a TEXT NOT NULL,                -- content hashes, a < b
    b TEXT NOT NULL,
    dismissal INTEGER NOT NULL,
    PRIMARY KEY (a, b, dismissal)
);
"""


class DismissalError(UserError, ValueError):
    """A decision that cannot be taken back (unknown id)."""


@dataclass(frozen=True)
class Dismissal:
    id: int
    at: float
    hashes: tuple[str, ...]
    paths: tuple[str, ...]  # a present file of each content ("" for one no longer present)


def _ensure(db: Database) -> None:
    with db.transaction():
        db.conn.executescript(_SCHEMA)


def _exists(db: Database) -> bool:
    row = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dismissed_pairs'"
    ).fetchone()
    return row is not None


def dismiss(db: Database, hashes: list[str]) -> int:
    """Remember that these contents are not duplicates of one another; the decision's id."""
    unique = list(dict.fromkeys(hashes))
    if not unique:
        raise DismissalError("a decision needs pictures")
    # One content at several paths (identical bytes) is remembered as the pair (h, h).
    repeated = [(h, h) for h in unique if hashes.count(h) > 1]
    pairs_of = list(combinations(unique, 2)) + repeated or [(unique[0], unique[0])]
    _ensure(db)
    with db.transaction():
        cursor = db.execute(
            "INSERT INTO dismissals(at, hashes) VALUES (?, ?)", [time.time(), json.dumps(unique)]
        )
        decision = int(cursor.lastrowid or 0)
        db.conn.executemany(
            "INSERT OR IGNORE INTO dismissed_pairs(a, b, dismissal) VALUES (?, ?, ?)",
            [(min(a, b), max(a, b), decision) for a, b in pairs_of],
        )
    return decision


def pairs(db: Database) -> set[tuple[str, str]]:
    """Every dismissed pair of contents, (a, b) with a <= b ((h, h): one content's files)."""
    try:
        if not _exists(db):
            return set()
        return {(a, b) for a, b in db.execute("SELECT a, b FROM dismissed_pairs").fetchall()}
    except sqlite3.DatabaseError:  # an unreadable table must not stop grouping
        return set()


def listed(db: Database) -> list[Dismissal]:
    """Every decision, newest first, with a present file of each of its contents."""
    if not _exists(db):
        return []
    out = []
    for decision, at, text in db.execute(
        "SELECT id, at, hashes FROM dismissals ORDER BY at DESC, id DESC"
    ).fetchall():
        hashes = tuple(json.loads(text))
        paths = tuple(
            (
                db.execute(
                    "SELECT min(path) FROM files WHERE hash = ? AND present = 1", [h]
                ).fetchone()
                or ("",)
            )[0]
            or ""
            for h in hashes
        )
        out.append(Dismissal(int(decision), float(at), hashes, paths))
    return out


def take_back(db: Database, decision: int) -> Dismissal:
    """Forget one decision: its pictures may be grouped again."""
    found = [d for d in listed(db) if d.id == decision]
    if not found:
        raise DismissalError(f"no dismissal {decision} (see `groups --dismissed`)")
    with db.transaction():
        db.execute("DELETE FROM dismissed_pairs WHERE dismissal = ?", [decision])
        db.execute("DELETE FROM dismissals WHERE id = ?", [decision])
    return found[0]
