"""A synthetic 100,000-image catalogue for the terminal-app benchmarks (rows only, no files).

Rows look like a real scan's (nested folders, content hashes, sizes, resolutions) so the grid's
SQL does real work; thumbnails for what is on screen are placed in the cache by `warm_thumbnails`
(the grid never needs the originals when the cache is warm).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from PIL import Image

from anagnorisis_tui.core.base import db as dbmod
from anagnorisis_tui.core.catalogue import thumbnails

ROOT = "/bench/Pictures"
PER_FOLDER = 250


def build(data_dir: Path, images: int) -> Path:
    """The catalogue at data_dir/library.db with `images` rows (reused when it already has them)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "library.db"
    db = dbmod.connect(path)
    have = db.execute("SELECT count(*) FROM files").fetchone()[0]
    if have == images:
        db.conn.close()
        return path
    db.conn.close()
    path.unlink()
    for extra in ("-wal", "-shm"):
        Path(str(path) + extra).unlink(missing_ok=True)
    db = dbmod.connect(path)
    now = time.time()
    rows_images = []
    rows_files = []
    for i in range(images):
        content_hash = f"{i:032x}"
        folder = f"{2000 + i // 20000}/{(i // PER_FOLDER) % 80:02d}"
        name = f"IMG_{i:06d}.jpg"
        rows_images.append((content_hash, 3_500_000 + i, 4000, 3000, "JPEG", now))
        rows_files.append(
            (
                f"{ROOT}/{folder}/{name}",
                ROOT,
                folder,
                name,
                content_hash,
                3_500_000 + i,
                i,
                now,
                now,
            )
        )
    with db.conn:
        db.conn.executemany(
            "INSERT INTO images(hash, size, width, height, format, first_seen) "
            "VALUES (?,?,?,?,?,?)",
            rows_images,
        )
        db.conn.executemany(
            "INSERT INTO files(path, root, folder, name, hash, size, mtime_ns, added, updated) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            rows_files,
        )
    db.execute("ANALYZE")
    db.conn.close()
    return path


def warm_thumbnails(data_dir: Path, first: int, count: int) -> None:
    """Cached thumbnails for rows first..first+count (copies of a few real thumbnails)."""
    cache = thumbnails.cache_dir(data_dir)
    sources = []
    for k in range(8):
        image = Image.linear_gradient("L").resize((256, 192)).convert("RGB")
        tint = Image.new("RGB", image.size, ((k * 67) % 256, (k * 131) % 256, (k * 29) % 256))
        src = data_dir / f"thumb-source-{k}.jpg"
        Image.blend(image, tint, 0.6).save(src, "JPEG", quality=85)
        sources.append(src)
    for i in range(first, first + count):
        target = thumbnails.thumbnail_path(cache, f"{i:032x}")
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sources[i % len(sources)], target)
