"""Content identity: a fast 128-bit hash of the file bytes, and a hash of the decoded pixels.

Content hash: xxh3-128 of the bytes. It is not cryptographic and does not need to be (the
catalogue names the user's own files; nobody is forging collisions against themselves), and it
runs at memory speed, so hashing costs next to nothing beside reading the file. bench/bench_scan.py
measures it beside blake2b-128, md5 and sha1 on the same bytes (BENCHMARKS.md).

Pixel hash: xxh3-128 of the decoded, EXIF-orientation-normalised pixels, with the mode and size
in the hash, so a tool that rewrites only metadata (EXIF/XMP) yields a new content hash but the
same pixel hash, and the catalogue can carry the rating across.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

import xxhash
from PIL import Image

CHUNK = 1 << 20  # streamed reads: 1 MiB keeps memory flat and syscalls few

# Modes whose raw bytes depend on an encoder's arbitrary choices (palette order, bit packing):
# decoded to a canonical mode first so equal pixels give equal bytes.
_CANONICAL = {"1": "L", "P": "RGBA", "PA": "RGBA", "La": "LA", "RGBa": "RGBA"}


def content_hash_bytes(data: bytes | memoryview) -> str:
    return xxhash.xxh3_128_hexdigest(data)


def content_hash_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """(hash, bytes read) of a file, streamed in CHUNK-sized reads."""
    hasher = xxhash.xxh3_128()
    total = 0
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(CHUNK):
            hasher.update(chunk)
            total += len(chunk)
    return hasher.hexdigest(), total


# EXIF orientation -> the transpose that makes the image upright (as ImageOps.exif_transpose).
ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def canonical_pixels(image: Image.Image) -> Image.Image:
    """The first frame, EXIF orientation applied, in a canonical mode (decodes the image)."""
    image.load()
    method = ORIENTATION_TRANSPOSE.get(image.getexif().get(0x0112, 1))
    # No copy when upright: ImageOps.exif_transpose would duplicate every pixel.
    upright = image.transpose(method) if method is not None else image
    if upright.mode in _CANONICAL:
        target = _CANONICAL[upright.mode]
        if upright.mode == "P" and "transparency" not in upright.info:
            target = "RGB"
        upright = upright.convert(target)
    return upright


def pixel_hash(image: Image.Image) -> str:
    """xxh3-128 of mode, size and the canonical pixel bytes of the first frame."""
    return hash_canonical(canonical_pixels(image))


def hash_canonical(pixels: Image.Image) -> str:
    """pixel_hash of an image that canonical_pixels already gave."""
    hasher = xxhash.xxh3_128()
    hasher.update(f"{pixels.mode}:{pixels.width}x{pixels.height}:".encode())
    hasher.update(pixels.tobytes())
    return hasher.hexdigest()


def _hashlib(name: str) -> Callable[[bytes], str]:
    def run(data: bytes) -> str:
        return hashlib.new(name, data).hexdigest()

    return run


# Candidates the benchmark compares on the same bytes (all 128 bits or more).
CANDIDATES: dict[str, Callable[[bytes], str]] = {
    "xxh3_128": content_hash_bytes,
    "blake2b-128": lambda data: hashlib.blake2b(data, digest_size=16).hexdigest(),
    "md5": _hashlib("md5"),
    "sha1": _hashlib("sha1"),
}
