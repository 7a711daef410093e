"""Helpers for the app tests: small real JPEGs and a catalogue of them (imported by tests)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from PIL import Image

from anagnorisis_tui.core.library import Library


def make_images(root: Path, names: list[str], size: tuple[int, int] = (96, 64)) -> list[Path]:
    """Real, distinct JPEGs (a colour gradient each) at root/<name>."""
    out = []
    for i, name in enumerate(names):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        image = Image.linear_gradient("L").resize(size).convert("RGB")
        tint = Image.new("RGB", size, ((i * 67) % 256, (i * 131) % 256, (i * 29) % 256))
        Image.blend(image, tint, 0.6).save(path, "JPEG", quality=80)
        out.append(path)
    return out


def catalogue(library: Library, root: Path, paths: list[Path]) -> None:
    """Record files as a scan would (used where the test is about the UI, not the scan)."""
    db = library.db
    now = time.time()
    with db.conn:
        for path in paths:
            data = path.read_bytes()
            content_hash = hashlib.blake2b(data, digest_size=16).hexdigest()
            with Image.open(path) as im:
                width, height, fmt = im.width, im.height, im.format
            rel = path.parent.relative_to(root).as_posix()
            db.execute(
                "INSERT OR REPLACE INTO images(hash, size, width, height, format, first_seen) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [content_hash, len(data), width, height, fmt, now],
            )
            db.execute(
                "INSERT OR REPLACE INTO files(path, root, folder, name, hash, size, mtime_ns, "
                "added, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    str(path),
                    str(root),
                    "" if rel == "." else rel,
                    path.name,
                    content_hash,
                    len(data),
                    path.stat().st_mtime_ns,
                    now,
                    now,
                ],
            )
