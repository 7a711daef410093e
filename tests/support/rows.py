"""Catalogue rows for tests that need files/images/ratings/predictions without a scan."""

from __future__ import annotations

import os
import time
from pathlib import Path

import xxhash
from PIL import Image, ImageOps

from anagnorisis_tui.core.base.db import Database


def add_file(
    db: Database,
    path: str,
    *,
    root: str = "/lib",
    content_hash: str | None = None,
    size: int = 1000,
    width: int | None = 100,
    height: int | None = 100,
    fmt: str | None = "JPEG",
    mtime_ns: int = 1_000_000_000,
    present: int = 1,
    pixel_hash: str | None = None,
    phash: int | None = None,
) -> str:
    """Insert one file (and its image row unless the hash already has one); return the hash."""
    content_hash = content_hash or xxhash.xxh3_128_hexdigest(path.encode())
    rel = os.path.relpath(path, root)
    folder = os.path.dirname(rel)
    now = time.time()
    with db.conn:
        db.execute(
            "INSERT OR IGNORE INTO images(hash, pixel_hash, size, width, height, format, phash, "
            "first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [content_hash, pixel_hash, size, width, height, fmt, phash, now],
        )
        db.execute(
            "INSERT OR REPLACE INTO files(path, root, folder, name, hash, size, mtime_ns, present, "
            "added, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                path,
                root,
                folder,
                os.path.basename(path),
                content_hash,
                size,
                mtime_ns,
                present,
                now,
                now,
            ],
        )
    return content_hash


def add_real_file(db: Database, path: Path, root: Path) -> str:
    """Catalogue a real image file the way a scan would (content hash, size, oriented dims)."""
    data = path.read_bytes()
    with Image.open(path) as image:
        oriented = ImageOps.exif_transpose(image)
        width, height = oriented.size
        fmt = image.format
    st = path.stat()
    return add_file(
        db,
        str(path),
        root=str(root),
        content_hash=xxhash.xxh3_128_hexdigest(data),
        size=len(data),
        width=width,
        height=height,
        fmt=fmt,
        mtime_ns=st.st_mtime_ns,
    )


def add_prediction(db: Database, content_hash: str, value: float, evaluator="ev1"):
    with db.conn:
        db.execute(
            "INSERT OR IGNORE INTO evaluators(id, embed_model_id, kind, created, path, active) "
            "VALUES (?, 'm', 'ridge', 1, 'x', 1)",
            [evaluator],
        )
        db.execute(
            "INSERT OR REPLACE INTO predictions(hash, evaluator_id, value, at) VALUES (?, ?, ?, 1)",
            [content_hash, evaluator, value],
        )
