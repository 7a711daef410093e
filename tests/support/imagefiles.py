"""Small real image files for scan tests, made with Pillow (deterministic)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image


def noise(width: int = 48, height: int = 32, seed: int = 0, mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    arr = (rng.random((height, width, channels)) * 255).astype("uint8")
    return Image.fromarray(arr[..., 0] if channels == 1 else arr, mode)


def jpeg_bytes(seed: int = 0, size: tuple[int, int] = (48, 32), **save: object) -> bytes:
    buf = io.BytesIO()
    noise(*size, seed=seed).save(buf, "JPEG", quality=80, **save)
    return buf.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def save(path: Path, image: Image.Image, fmt: str | None = None, **kw: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, fmt, **kw)
    return path


def with_app_segment(jpeg: bytes, payload: bytes, marker: int = 0xE1) -> bytes:
    """The same JPEG with one more APPn segment after SOI: a metadata-only rewrite."""
    segment = bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload
    return jpeg[:2] + segment + jpeg[2:]


def exif_orientation_jpeg(orientation: int, seed: int = 0, size=(48, 32)) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return jpeg_bytes(seed, size, exif=exif.tobytes())


def tree_snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every entry under root with size and mtime: proves a scan wrote nothing there."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            out[p] = (st.st_size, st.st_mtime_ns)
    return out


def smooth_photo(path: Path, seed: int, size: int = 96) -> None:
    """A JPEG scaled up from 6x6 noise: the same seed at any size is a near-duplicate
    (pHash and CLIP group them), another seed is a different picture."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (6, 6, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC).save(path, quality=90)
