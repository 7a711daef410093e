"""The verification renditions (core/duplicates/verify.py) in SQLite, and the lazy pass that
makes the missing ones.

Table `renditions` (one row per content hash): `data` is verify.rendition()'s 4 KiB, `width`
and `height` the picture as displayed. Ingest stores a rendition from its one decode; content
catalogued before that gets one here, from one decode that also gives a missing perceptual
hash. A picture that cannot be decoded is recorded in embed_errors under model id
"rendition" so later passes do not retry it every time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from PIL import Image, ImageOps

from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.base.progress import ProgressCallback
from anagnorisis_tui.core.duplicates import verify
from anagnorisis_tui.core.duplicates.decode_pass import DecodeSummary, run_decode_pass
from anagnorisis_tui.core.duplicates.phash import phash_image

RENDITION_MODEL = "rendition"
# Decoded at least this large (JPEG draft mode scales down while decoding): both the 32-pixel
# rendition and the 32-pixel pHash input are resampled from it.
DECODE_SIDE = 256


RenditionSummary = DecodeSummary


def store(db: Database, rows: Iterable[tuple[str, bytes, int, int]]) -> None:
    """(content hash, rendition bytes, width, height) rows, replacing older ones."""
    with db.transaction():
        db.conn.executemany(
            "INSERT OR REPLACE INTO renditions(hash, data, width, height) VALUES (?, ?, ?, ?)",
            list(rows),
        )


def load(db: Database, hashes: list[str]) -> dict[str, verify.Rendition]:
    out: dict[str, verify.Rendition] = {}
    for start in range(0, len(hashes), 900):
        chunk = hashes[start : start + 900]
        marks = ",".join("?" * len(chunk))
        for h, data, w, hgt in db.execute(
            f"SELECT hash, data, width, height FROM renditions WHERE hash IN ({marks})", chunk
        ).fetchall():
            if len(data) == verify.RENDITION_BYTES:
                out[h] = verify.from_bytes(data, w, hgt)
    return out


def decode_for_duplicates(path: str) -> tuple[bytes, int, int, int]:
    """(rendition, width, height, pHash) from one reduced decode with EXIF orientation."""
    with Image.open(path) as image:
        full_w, full_h = image.size  # draft() below may shrink the decode
        image.draft("RGB", (DECODE_SIDE, DECODE_SIDE))
        image.load()
        decoded = image.size
        oriented = ImageOps.exif_transpose(image)
        turned = oriented.size != decoded
        width, height = (full_h, full_w) if turned else (full_w, full_h)
        return verify.rendition(oriented), width, height, phash_image(oriented)


_PENDING = (
    "FROM images i WHERE NOT EXISTS (SELECT 1 FROM renditions r WHERE r.hash = i.hash) "
    "AND EXISTS (SELECT 1 FROM files f WHERE f.hash = i.hash AND f.present = 1) "
    "AND NOT EXISTS (SELECT 1 FROM embed_errors e WHERE e.hash = i.hash AND e.model_id = ?)"
)


def pending(db: Database) -> int:
    return int(db.execute(f"SELECT count(*) {_PENDING}", [RENDITION_MODEL]).fetchone()[0])


def compute_missing(
    db: Database,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    batch: int = 64,
    workers: int | None = None,
) -> RenditionSummary:
    """A rendition (and a pHash where missing) for every present image that lacks one."""

    def page(after: str, limit: int) -> list[tuple[str, str]]:
        return db.execute(
            "SELECT i.hash, (SELECT min(f.path) FROM files f WHERE f.hash = i.hash AND "
            f"f.present = 1) {_PENDING} AND i.hash > ? ORDER BY i.hash LIMIT ?",
            [RENDITION_MODEL, after, limit],
        ).fetchall()

    def write(
        good: list[tuple[str, tuple[bytes, int, int, int]]], errors: list[tuple[str, str]]
    ) -> None:
        store(db, [(h, data, w, hgt) for h, (data, w, hgt, _code) in good])
        at = time.time()
        with db.transaction():
            db.conn.executemany(
                "UPDATE images SET phash = ? WHERE hash = ? AND phash IS NULL",
                [(code, h) for h, (_data, _w, _hgt, code) in good],
            )
            db.conn.executemany(
                "INSERT OR REPLACE INTO embed_errors(hash, model_id, reason, at) "
                "VALUES (?, ?, ?, ?)",
                [(h, RENDITION_MODEL, reason, at) for h, reason in errors],
            )

    return run_decode_pass(
        stage="renditions",
        total=pending(db),
        page=page,
        decode=decode_for_duplicates,
        write=write,
        progress=progress,
        cancel=cancel,
        batch=batch,
        workers=workers,
    )
