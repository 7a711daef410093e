"""Pixel identity in the catalogue: store identities, and carry what the user did across rewrites.

When new content has the same pixels as known content (a tool rewrote only EXIF/XMP), the known
content's rating, vectors and perceptual hash are carried over, never overwriting anything. The
identities themselves are computed by the ingest pass (core/catalogue/ingest_pass.py).
"""

from __future__ import annotations

import time

from anagnorisis_tui.core.base import ratings
from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.catalogue.scan_types import ScanSummary, chunks


def store_pixels(
    db: Database,
    results: list[tuple[str, str]],
    failures: list[tuple[str, str]],
    summary: ScanSummary,
    donors: dict[str, tuple[str | None, ...]],
    *,
    retry: set[str] | frozenset[str] = frozenset(),
) -> None:
    """Write pixel identities and undecodable content of one batch, then carry ratings, vectors
    and perceptual hashes to new content whose pixels equal known content's."""
    if not results and not failures:
        return
    now = time.time()
    with db.transaction():
        db.conn.executemany(
            "UPDATE images SET pixel_hash = ? WHERE hash = ?", [(v, h) for h, v in results]
        )
        for content, reason in failures:
            # Undecodable content leaves the catalogue; each of its paths is a recorded error
            # (with size and mtime, so it is not retried until the file changes).
            # Content in `retry` failed for a reason of the moment (memory, the decode budget):
            # recorded without its size, so the next scan looks at it again.
            db.execute(
                "INSERT OR REPLACE INTO scan_errors(path, root, reason, size, mtime_ns, at) "
                "SELECT path, root, ?, CASE WHEN ? THEN NULL ELSE size END, mtime_ns, ? "
                "FROM files WHERE hash = ?",
                [reason, content in retry, now, content],
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
    db: Database, pixel: str, cache: dict[str, tuple[str | None, ...]]
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
    db: Database, vectors_from: str | None, phash_from: str | None, target: str
) -> None:
    """Same pixels, new bytes: give target the vectors and perceptual hash of known content.

    Never overwrites what target already has (the rating goes through ratings.carry_rating).
    """
    with db.transaction():
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


def carry_legacy(db: Database, decoded: list[tuple[str, str]]) -> int:
    """(new content, its decoded-pixel hash): carry from known content whose identity is that
    hash (identities recorded from a full decode, before JPEG identities were decode-free).
    Returns how many new contents matched."""
    matched = 0
    cache: dict[str, tuple[str | None, ...]] = {}
    for content, pixel in decoded:
        if (
            db.execute(
                "SELECT 1 FROM images WHERE pixel_hash = ? AND hash != ? LIMIT 1", [pixel, content]
            ).fetchone()
            is None
        ):
            continue
        matched += 1
        rated, with_vectors, with_phash = _donors(db, pixel, cache)
        if rated and rated != content:
            ratings.carry_rating(db, rated, content, reason="pixels")
        carry_content(db, with_vectors, with_phash, content)
    return matched
