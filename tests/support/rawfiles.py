"""RAW (DNG) files made at test time from an array, with or without an embedded JPEG preview.

pidng writes the sensor data (a Bayer mosaic, 12 bits) in IFD0; `with_preview` chains a second
IFD after it holding a JPEG (NewSubfileType 1, compression 7), as cameras and converters store
their preview, which LibRaw finds and `extract_thumb` returns.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
from PIL import Image


def mosaic(width: int, height: int, seed: int) -> np.ndarray:
    """A 12-bit Bayer mosaic of a smooth scene with a bright disc, varied by `seed`."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    cx, cy = rng.uniform(0.3, 0.7) * width, rng.uniform(0.3, 0.7) * height
    disc = ((x - cx) ** 2 + (y - cy) ** 2) < (min(width, height) / 4) ** 2
    scene = (x * 1500 // width) + (y * 1200 // height) + disc * 1800
    noise = rng.integers(0, 40, size=(height, width))
    return np.clip(scene + noise, 0, 4095).astype(np.uint16)


def dng_bytes(
    width: int = 256,
    height: int = 192,
    *,
    seed: int = 0,
    orientation: int = 1,
    preview: Image.Image | None = None,
    date: str | None = None,
) -> bytes:
    """A DNG of `mosaic(width, height, seed)`; with `preview`, that JPEG embedded; with `date`
    ("YYYY:MM:DD HH:MM:SS"), an Exif IFD holding it as DateTimeOriginal."""
    from pidng.core import RAW2DNG, DNGTags, Tag
    from pidng.defs import (
        CalibrationIlluminant,
        CFAPattern,
        DNGVersion,
        PhotometricInterpretation,
    )

    tags = DNGTags()
    tags.set(Tag.ImageWidth, width)
    tags.set(Tag.ImageLength, height)
    tags.set(Tag.TileWidth, width)
    tags.set(Tag.TileLength, height)
    tags.set(Tag.Orientation, orientation)
    tags.set(Tag.PhotometricInterpretation, PhotometricInterpretation.Color_Filter_Array)
    tags.set(Tag.SamplesPerPixel, 1)
    tags.set(Tag.BitsPerSample, 12)
    tags.set(Tag.CFARepeatPatternDim, [2, 2])
    tags.set(Tag.CFAPattern, CFAPattern.BGGR)
    tags.set(Tag.BlackLevel, 0)
    tags.set(Tag.WhiteLevel, 4095)
    identity = [[1, 1], [0, 1], [0, 1], [0, 1], [1, 1], [0, 1], [0, 1], [0, 1], [1, 1]]
    tags.set(Tag.ColorMatrix1, identity)
    tags.set(Tag.CalibrationIlluminant1, CalibrationIlluminant.D65)
    tags.set(Tag.AsShotNeutral, [[1, 1], [1, 1], [1, 1]])
    tags.set(Tag.Make, "Test")
    tags.set(Tag.Model, "Array")
    tags.set(Tag.DNGVersion, DNGVersion.V1_4)
    tags.set(Tag.DNGBackwardVersion, DNGVersion.V1_2)
    writer = RAW2DNG()
    writer.options(tags, path="", compress=False)
    data = bytes(writer.convert(mosaic(width, height, seed)))
    if preview is not None:
        out = io.BytesIO()
        preview.convert("RGB").save(out, "JPEG", quality=90)
        data = _chain_ifd(data, _preview_ifd(out.getvalue(), preview.size))
    if date is not None:
        data = _with_date(data, date)
    return data


def write_dng(path: Path, **kw: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dng_bytes(**kw))  # type: ignore[arg-type]
    return path


def preview_of(width: int, height: int, seed: int) -> Image.Image:
    """A picture that looks like what `mosaic(width, height, seed)` shows (for the preview)."""
    grey = (mosaic(width, height, seed) >> 4).astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")


def _next_ifd_at(data: bytes) -> int:
    """Offset of the 'next IFD' pointer of the last IFD in the chain."""
    at = struct.unpack_from("<I", data, 4)[0]
    while True:
        count = struct.unpack_from("<H", data, at)[0]
        pointer = at + 2 + 12 * count
        following = struct.unpack_from("<I", data, pointer)[0]
        if following == 0:
            return pointer
        at = following


def _chain_ifd(data: bytes, build: object) -> bytes:
    start = len(data) + (len(data) & 1)
    block = build(start)  # type: ignore[operator]
    out = bytearray(data) + b"\0" * (start - len(data))
    struct.pack_into("<I", out, _next_ifd_at(data), start)
    return bytes(out + block)


def _ifd(entries: list[tuple[int, int, int, int | bytes]], start: int) -> bytes:
    """An IFD at `start` (little-endian), values over 4 bytes placed after it."""
    table = bytearray(struct.pack("<H", len(entries)))
    extra = bytearray()
    after = start + 2 + 12 * len(entries) + 4
    for tag, kind, count, value in sorted(entries, key=lambda e: e[0]):
        if isinstance(value, bytes):
            if len(value) <= 4:
                table += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\0")
            else:
                table += struct.pack("<HHII", tag, kind, count, after + len(extra))
                extra += value + (b"\0" if len(value) & 1 else b"")
        elif kind == 3:
            table += struct.pack("<HHIHH", tag, kind, count, value, 0)
        else:
            table += struct.pack("<HHII", tag, kind, count, value)
    return bytes(table + struct.pack("<I", 0) + extra)


def _preview_ifd(jpeg: bytes, size: tuple[int, int]):
    def build(start: int) -> bytes:
        entries: list[tuple[int, int, int, int | bytes]] = [
            (0xFE, 4, 1, 1),  # NewSubfileType: a reduced-resolution copy
            (0x100, 4, 1, size[0]),
            (0x101, 4, 1, size[1]),
            (0x102, 3, 3, struct.pack("<HHH", 8, 8, 8)),
            (0x103, 3, 1, 7),  # JPEG
            (0x106, 3, 1, 6),  # YCbCr
            (0x111, 4, 1, 0),  # StripOffsets: patched below
            (0x115, 3, 1, 3),
            (0x116, 4, 1, size[1]),
            (0x117, 4, 1, len(jpeg)),
        ]
        length = len(_ifd(entries, start))
        entries[6] = (0x111, 4, 1, start + length)
        return _ifd(entries, start) + jpeg

    return build


def _with_date(data: bytes, date: str) -> bytes:
    """Add an Exif IFD with DateTimeOriginal, pointed at from IFD0 (rewritten at the end)."""
    ifd0 = struct.unpack_from("<I", data, 4)[0]
    count = struct.unpack_from("<H", data, ifd0)[0]
    entries = [struct.unpack_from("<HHI4s", data, ifd0 + 2 + 12 * k) for k in range(count)]
    following = struct.unpack_from("<I", data, ifd0 + 2 + 12 * count)[0]
    text = date.encode() + b"\0"
    start = len(data) + (len(data) & 1)
    exif = _ifd([(0x9003, 2, len(text), text)], start)
    new0_at = start + len(exif) + (len(exif) & 1)
    table = bytearray(struct.pack("<H", count + 1))
    rows = [(tag, kind, n, raw) for tag, kind, n, raw in entries]
    rows.append((0x8769, 4, 1, struct.pack("<I", start)))
    for tag, kind, n, raw in sorted(rows, key=lambda r: r[0]):
        table += struct.pack("<HHI", tag, kind, n) + raw
    table += struct.pack("<I", following)
    out = bytearray(data) + b"\0" * (start - len(data)) + exif
    out += b"\0" * (new0_at - len(out))
    struct.pack_into("<I", out, 4, new0_at)
    return bytes(out + table)
