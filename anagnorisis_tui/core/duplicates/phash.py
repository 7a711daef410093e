"""Perceptual hash: a 64-bit DCT hash that needs no model, so duplicates are found without CLIP.

The hash is the classic pHash: decode small (JPEG draft mode decodes at 1/2..1/8 scale, so a
24-megapixel photo costs a fraction of a full decode), apply the EXIF orientation, grey, 32x32,
2-D DCT, keep the 8x8 lowest frequencies and set a bit where a coefficient is above their
median (DC left out). Resizing, recompression, a PNG re-save, brightness changes and an EXIF
rotation keep it within a few bits; a 10% crop moves it more (see BENCHMARKS.md).

Stored in images.phash as a signed 64-bit integer (SQLite INTEGER). Images that cannot be
decoded are recorded in embed_errors under model id "phash" so later passes do not retry them
every time; a rescan that changes the content hash retries naturally.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np
from PIL import Image, ImageOps

from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.base.progress import ProgressCallback
from anagnorisis_tui.core.duplicates.decode_pass import DecodeSummary, run_decode_pass

PHASH_MODEL = "phash"
HASH_SIZE = 8
_SIDE = 32
BITS = HASH_SIZE * HASH_SIZE
DECODE_SIDE = _SIDE * 4  # reduced decodes at least this large keep the hash stable


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return np.asarray(m.astype(np.float64))


_DCT = _dct_matrix(_SIDE)
_WEIGHTS = (1 << np.arange(BITS - 1, -1, -1, dtype=np.uint64)).astype(np.uint64)


def phash_image(image: Image.Image) -> int:
    """The signed 64-bit pHash of a decoded image (orientation already applied)."""
    # Transparent pixels over white, as viewers show them, rather than their hidden colour.
    if image.mode not in ("L", "RGB") and ("A" in image.getbands() or "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(canvas, rgba)
    grey = image.convert("L").resize((_SIDE, _SIDE), Image.Resampling.LANCZOS)
    pixels = np.asarray(grey, dtype=np.float64)
    coeffs = _DCT @ pixels @ _DCT.T
    low = coeffs[:HASH_SIZE, :HASH_SIZE].ravel()
    median = np.median(low[1:])
    bits = (low > median).astype(np.uint64)
    value = int((bits * _WEIGHTS).sum(dtype=np.uint64))
    return value - (1 << 64) if value >= 1 << 63 else value


def phash_file(path: str | os.PathLike[str]) -> int:
    """Decode `path` at reduced size, apply EXIF orientation, return its pHash."""
    with Image.open(path) as image:
        # draft() lets the JPEG decoder scale down by up to 8x while decoding.
        image.draft("L", (DECODE_SIDE, DECODE_SIDE))
        image.load()
        oriented = ImageOps.exif_transpose(image)
        return phash_image(oriented)


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()


def popcount64(x: np.ndarray) -> np.ndarray:
    """Bit counts of a uint64/int64 array (numpy >= 2 has bitwise_count; fall back by bytes)."""
    x = np.ascontiguousarray(x).view(np.uint64)
    if hasattr(np, "bitwise_count"):
        return np.asarray(np.bitwise_count(x).astype(np.int64))
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)
    return np.asarray(table[x.view(np.uint8).reshape(*x.shape, 8)].sum(axis=-1))


PhashSummary = DecodeSummary


def pending(db: Database) -> int:
    return int(
        db.execute(
            "SELECT count(*) FROM images i WHERE i.phash IS NULL "
            "AND EXISTS (SELECT 1 FROM files f WHERE f.hash = i.hash AND f.present = 1) "
            "AND NOT EXISTS (SELECT 1 FROM embed_errors e WHERE e.hash = i.hash AND e.model_id = ?)",
            [PHASH_MODEL],
        ).fetchone()[0]
    )


def compute_missing(
    db: Database,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    batch: int = 64,
    workers: int | None = None,
) -> PhashSummary:
    """Hash every present image that has no pHash yet, writing in short transactions."""

    def page(after: str, limit: int) -> list[tuple[str, str]]:
        return db.execute(
            "SELECT i.hash, (SELECT min(f.path) FROM files f WHERE f.hash = i.hash AND "
            "f.present = 1) FROM images i WHERE i.phash IS NULL AND i.hash > ? AND "
            "EXISTS (SELECT 1 FROM files f WHERE f.hash = i.hash AND f.present = 1) AND "
            "NOT EXISTS (SELECT 1 FROM embed_errors e WHERE e.hash = i.hash AND "
            "e.model_id = ?) ORDER BY i.hash LIMIT ?",
            [after, PHASH_MODEL, limit],
        ).fetchall()

    return run_decode_pass(
        stage="phash",
        total=pending(db),
        page=page,
        decode=phash_file,
        write=lambda good, errors: _write(db, good, errors),
        progress=progress,
        cancel=cancel,
        batch=batch,
        workers=workers,
    )


def _write(db: Database, results: list[tuple[str, int]], errors: list[tuple[str, str]]) -> None:
    at = time.time()
    with db.transaction():
        db.conn.executemany(
            "UPDATE images SET phash = ? WHERE hash = ?", [(v, h) for h, v in results]
        )
        db.conn.executemany(
            "INSERT OR REPLACE INTO embed_errors(hash, model_id, reason, at) VALUES (?, ?, ?, ?)",
            [(h, PHASH_MODEL, reason, at) for h, reason in errors],
        )
