"""The verification renditions (core/duplicates/verify.py) in SQLite, and the lazy pass that
makes the missing ones.

Table `renditions` (one row per content hash): `data` is verify.rendition()'s 4 KiB, `width`
and `height` the picture as displayed. Ingest stores a rendition from its one decode; content
catalogued before that gets one here, from one decode that also gives a missing perceptual
hash. A picture that cannot be decoded is recorded in embed_errors under model id
"rendition" so later passes do not retry it every time.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image, ImageOps

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.base.progress import Cancelled, Progress, ProgressCallback, Timer, check
from anagnorisis_tui.core.duplicates import verify
from anagnorisis_tui.core.duplicates.phash import phash_image

RENDITION_MODEL = "rendition"
# Decoded at least this large (JPEG draft mode scales down while decoding): both the 32-pixel
# rendition and the 32-pixel pHash input are resampled from it.
DECODE_SIDE = 256


@dataclass(frozen=True)
class RenditionSummary:
    done: int
    failed: int
    missing: int  # files gone since the scan
    seconds: float
    cancelled: bool = False


def store(db: Database, rows: Iterable[tuple[str, bytes, int, int]]) -> None:
    """(content hash, rendition bytes, width, height) rows, replacing older ones."""
    with db.conn:
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
    return db.execute(f"SELECT count(*) {_PENDING}", [RENDITION_MODEL]).fetchone()[0]


def _one(path: str) -> tuple[str, object]:
    try:
        return "ok", decode_for_duplicates(fsnames.to_os(path))
    except FileNotFoundError:
        return "missing", None
    except Exception as exc:  # any decoder failure: recorded, never stops the pass
        return "error", f"{type(exc).__name__}: {exc}"[:300]


def compute_missing(
    db: Database,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    batch: int = 64,
    workers: int | None = None,
) -> RenditionSummary:
    """A rendition (and a pHash where missing) for every present image that lacks one.

    Decoding runs in a small thread pool (Pillow releases the GIL while decoding); this thread
    alone writes, in short transactions, so what was finished before a cancel is kept."""
    timer = Timer()
    total = pending(db)
    done = failed = missing = 0
    cancelled = False
    last = ""
    workers = workers or min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rendition") as pool:
        while not cancelled:
            rows = db.execute(
                "SELECT i.hash, (SELECT min(f.path) FROM files f WHERE f.hash = i.hash AND "
                f"f.present = 1) {_PENDING} AND i.hash > ? ORDER BY i.hash LIMIT ?",
                [RENDITION_MODEL, last, batch],
            ).fetchall()
            if not rows:
                break
            last = rows[-1][0]
            futures = [pool.submit(_one, path) for _, path in rows]
            good: list[tuple[str, bytes, int, int]] = []
            hashes: list[tuple[int, str]] = []
            errors: list[tuple[str, str]] = []
            try:
                for future, (content_hash, path) in zip(futures, rows, strict=True):
                    check(cancel)
                    status, value = future.result()
                    if status == "ok":
                        data, w, h, code = value  # type: ignore[misc]
                        good.append((content_hash, data, w, h))
                        hashes.append((code, content_hash))
                    elif status == "error":
                        errors.append((content_hash, str(value)))
                    else:
                        missing += 1
                    if progress:
                        finished = done + failed + missing + len(good) + len(errors)
                        progress(
                            Progress(
                                "renditions", finished, total, elapsed=timer.elapsed, detail=path
                            )
                        )
            except Cancelled:
                cancelled = True
                for future in futures:
                    future.cancel()
            store(db, good)
            at = time.time()
            with db.conn:
                db.conn.executemany(
                    "UPDATE images SET phash = ? WHERE hash = ? AND phash IS NULL", hashes
                )
                db.conn.executemany(
                    "INSERT OR REPLACE INTO embed_errors(hash, model_id, reason, at) "
                    "VALUES (?, ?, ?, ?)",
                    [(h, RENDITION_MODEL, reason, at) for h, reason in errors],
                )
            done += len(good)
            failed += len(errors)
    return RenditionSummary(done, failed, missing, timer.elapsed, cancelled)
