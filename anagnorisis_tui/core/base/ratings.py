"""Ratings 0–10 keyed by content hash, with a history that is only ever appended to."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.errors import UserError

MIN_RATING = 0.0
MAX_RATING = 10.0


class RatingError(UserError, ValueError):
    """A rating that cannot be stored; the message says why."""


@dataclass(frozen=True)
class Rating:
    hash: str
    value: float
    updated: float


def parse_rating(value: object) -> float:
    """A rating from user input: a number 0–10 (decimals allowed for imports)."""
    if isinstance(value, bool):
        raise RatingError(f"a rating must be a number from 0 to 10, not {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise RatingError(f"a rating must be a number from 0 to 10, not {value!r}") from None
    if math.isnan(number) or not MIN_RATING <= number <= MAX_RATING:
        raise RatingError(f"a rating must be from 0 to 10, not {value}")
    return number


def set_rating(db: Database, content_hash: str, value: object, *, source: str = "user") -> float:
    number = parse_rating(value)
    at = time.time()
    with db.transaction():
        db.execute(
            "INSERT INTO ratings(hash, value, updated) VALUES (?, ?, ?) "
            "ON CONFLICT(hash) DO UPDATE SET value=excluded.value, updated=excluded.updated",
            [content_hash, number, at],
        )
        db.execute(
            "INSERT INTO rating_history(hash, value, at, source) VALUES (?, ?, ?, ?)",
            [content_hash, number, at, source],
        )
    return number


def clear_rating(db: Database, content_hash: str, *, source: str = "user") -> None:
    """Remove the current rating; the history keeps every earlier value."""
    at = time.time()
    with db.transaction():
        db.execute("DELETE FROM ratings WHERE hash = ?", [content_hash])
        db.execute(
            "INSERT INTO rating_history(hash, value, at, source) VALUES (?, NULL, ?, ?)",
            [content_hash, at, source],
        )


def get_rating(db: Database, content_hash: str) -> Rating | None:
    row = db.execute(
        "SELECT hash, value, updated FROM ratings WHERE hash = ?", [content_hash]
    ).fetchone()
    return Rating(*row) if row else None


def histogram(db: Database) -> list[int]:
    """How many images are rated 0, 1, ..., 10 now (a rating rounded to the nearest whole one,
    halves to even, as the evaluator's histograms round)."""
    counts = [0] * 11
    for (value,) in db.execute("SELECT value FROM ratings"):
        counts[min(10, max(0, round(value)))] += 1
    return counts


def history(db: Database, content_hash: str) -> list[tuple[float | None, float, str]]:
    return [
        (value, at, source)
        for value, at, source in db.execute(
            "SELECT value, at, source FROM rating_history WHERE hash = ? ORDER BY id",
            [content_hash],
        ).fetchall()
    ]


def carry_rating(db: Database, from_hash: str, to_hash: str, *, reason: str = "carried") -> bool:
    """Copy a rating to another content hash that has none (same pixels, or a group keeper)."""
    source = get_rating(db, from_hash)
    if source is None or get_rating(db, to_hash) is not None:
        return False
    set_rating(db, to_hash, source.value, source=f"{reason}:{from_hash}")
    return True
