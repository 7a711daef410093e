"""What a file is, read cheaply: content hash, size, width/height (EXIF orientation applied),
format and frame count, without decoding the pixels.

JPEG and PNG (nearly every photo) are parsed here from the bytes already read for the hash:
Pillow's open costs ~3x reading a small file, which would halve a first scan. Everything else
goes through Pillow's lazy open (header only). tests/unit/test_imageinfo.py checks the fast path
against Pillow on real images.

Bad input raises BadImage with a reason a user can act on; the scanner records it and moves on.
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from struct import unpack_from
from typing import NamedTuple

import xxhash
from PIL import Image, UnidentifiedImageError

from anagnorisis_tui.core.base import formats
from anagnorisis_tui.core.base.hashing import CHUNK
from anagnorisis_tui.core.catalogue import capture_date

# Decompression-bomb policy: refuse anything whose header declares more pixels than Pillow's own
# hard limit (~179 MP: a 16-bit RGBA decode of that is ~1.4 GB). Real photos, even 100 MP
# medium-format and stitched panoramas of that size, pass; a 64k x 64k PNG of zeros does not.
MAX_PIXELS = 2 * 89_478_485
Image.MAX_IMAGE_PIXELS = MAX_PIXELS // 2  # Pillow refuses above 2x this
# Pillow also *warns* between 1x and 2x; we check sizes ourselves and give a reason instead.
# A process-wide filter, because warnings.catch_warnings is not safe across decoder threads.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

# Files up to this size are read whole (one read); larger ones are streamed in CHUNKs.
WHOLE_READ_LIMIT = 64 << 20
HEAD_BYTES = 1 << 20  # header bytes kept from a streamed file for the fast parsers

EXTENSIONS = set(formats.EXTENSIONS)  # HEIC/HEIF and AVIF included (core/base/formats.py)
# The capture date is read with the header (core/catalogue/capture_date.py); bench/bench_capture_dates.py
# turns it off to measure what it costs.
READ_CAPTURE_DATES = True

_PNG_SIG = b"\x89PNG\r\n\x1a\n"
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


class BadImage(Exception):
    """A file that is not a usable image; str(exc) is the reason recorded for the user."""


class FileChanged(Exception):
    """The file changed or vanished while being read; the next scan will look again."""


# NamedTuples, not dataclasses: one is built per file read and frozen dataclasses cost ~1 us each.
class ImageInfo(NamedTuple):
    width: int  # as displayed: EXIF orientation applied
    height: int
    format: str
    frames: int = 1
    orientation: int = 1
    taken: float | None = None  # capture time from EXIF, seconds since the epoch
    taken_offset: int | None = None  # its UTC offset in minutes, when the file records one


class Inspected(NamedTuple):
    hash: str
    size: int
    mtime_ns: int
    info: ImageInfo


def _exif_orientation(data: bytes, start: int, end: int) -> int:
    """Orientation tag (1..8) from a TIFF/EXIF block data[start:end]; 1 when absent or odd."""
    end = min(end, len(data))
    if end - start < 8:
        return 1
    order = data[start : start + 2]
    if order == b"II":
        fmt = "<"
    elif order == b"MM":
        fmt = ">"
    else:
        return 1
    p = start + unpack_from(fmt + "I", data, start + 4)[0]
    if p + 2 > end:
        return 1
    count = unpack_from(fmt + "H", data, p)[0]
    p += 2
    for k in range(min(count, 1024)):
        e = p + 12 * k
        if e + 12 > end:
            break
        tag, kind = unpack_from(fmt + "HH", data, e)
        if tag == 0x0112:
            if kind == 3:
                value = unpack_from(fmt + "H", data, e + 8)[0]
            elif kind == 4:
                value = unpack_from(fmt + "I", data, e + 8)[0]
            else:
                return 1
            return value if 1 <= value <= 8 else 1
    return 1


def _oriented(
    width: int,
    height: int,
    fmt: str,
    frames: int,
    orientation: int,
    taken: capture_date.CaptureTime | None = None,
) -> ImageInfo:
    if width <= 0 or height <= 0:
        raise BadImage(f"{fmt} header declares an empty image ({width}x{height})")
    if width * height > MAX_PIXELS:
        raise BadImage(
            f"too large: {width}x{height} = {width * height / 1e6:.0f} megapixels, over the "
            f"{MAX_PIXELS / 1e6:.0f} MP limit (possible decompression bomb); not decoded"
        )
    if orientation >= 5:
        width, height = height, width
    if taken is None:
        return ImageInfo(width, height, fmt, frames, orientation)
    return ImageInfo(width, height, fmt, frames, orientation, taken.timestamp, taken.offset)


def parse_jpeg(data: bytes, *, need_scan: bool = True) -> tuple[ImageInfo, int] | None:
    """(info, offset after the first SOS header) from a JPEG's markers; None if unsure.

    need_scan=False stops at the frame header (offset then -1): enough when the caller already
    knows the file is complete. EXIF (APP1) comes before the frame header in every JPEG/EXIF
    file, which is what Pillow reads too.
    """
    n = len(data)
    i = 2
    orientation = 0
    taken: capture_date.CaptureTime | None = None
    size: tuple[int, int] | None = None
    while i + 4 <= n:
        fill, marker, length = unpack_from(">BBH", data, i)
        if fill != 0xFF:
            return None  # garbage between segments: let Pillow decide
        if marker == 0xFF:  # fill byte before the marker
            i += 1
            continue
        if marker == 0xD8 or marker == 0x01 or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        if marker == 0xD9:
            raise BadImage("JPEG ends before any image data")
        if length < 2:
            return None
        body = i + 4
        if marker == 0xE1:
            if not orientation and data[body : body + 6] == b"Exif\x00\x00":
                orientation = _exif_orientation(data, body + 6, i + 2 + length)
                if READ_CAPTURE_DATES:
                    taken = capture_date.from_tiff(data, body + 6, i + 2 + length)
        elif marker in _SOF:
            if size is None:
                if body + 5 > n:
                    return None
                height, width = unpack_from(">HH", data, body + 1)
                if height == 0:  # height given later by a DNL marker: rare, leave it to Pillow
                    return None
                size = (width, height)
                if not need_scan:
                    return _oriented(width, height, "JPEG", 1, orientation or 1, taken), -1
        elif marker == 0xDA:
            if size is None:
                return None
            return _oriented(size[0], size[1], "JPEG", 1, orientation or 1, taken), i + 2 + length
        i += 2 + length
    return None


def parse_png(data: bytes) -> ImageInfo | None:
    """Info from a PNG's chunks up to the first IDAT; None if unsure."""
    n = len(data)
    p = 8
    size: tuple[int, int] | None = None
    frames = 1
    orientation = 1
    taken: capture_date.CaptureTime | None = None
    while p + 8 <= n:
        length, kind = unpack_from(">I4s", data, p)
        body = p + 8
        if kind == b"IHDR":
            if body + 8 > n:
                return None
            size = unpack_from(">II", data, body)
        elif kind == b"acTL" and body + 4 <= n:
            frames = max(1, unpack_from(">I", data, body)[0])
        elif kind == b"eXIf":
            orientation = _exif_orientation(data, body, body + length)
            if READ_CAPTURE_DATES:
                taken = capture_date.from_tiff(data, body, body + length)
        elif kind in (b"tEXt", b"zTXt", b"iTXt") and data[body : body + 16] == b"Raw profile type":
            return None  # ImageMagick-style EXIF in text: Pillow knows how to read it
        elif kind == b"IDAT":
            if size is None:
                return None
            return _oriented(size[0], size[1], "PNG", frames, orientation, taken)
        p = body + length + 4
    return None


def _pil_info(source: str | io.BytesIO) -> ImageInfo:
    try:
        with Image.open(source) as im:
            # A RAW file's picture is its sensor's (its preview may be smaller).
            width, height = getattr(im, "sensor_size", None) or im.size
            fmt = im.format or "unknown"
            if width * height > MAX_PIXELS:
                return _oriented(width, height, fmt, 1, 1)  # raises with the reason
            exif = im.getexif()
            orientation = exif.get(0x0112, 1)
            taken = capture_date.from_exif(exif) if READ_CAPTURE_DATES else None
            frames = int(getattr(im, "n_frames", 1) or 1)
    except UnidentifiedImageError:
        raise BadImage("not an image, or a format this program cannot read") from None
    except Image.DecompressionBombError as exc:
        raise BadImage(f"too large (possible decompression bomb): {exc}") from None
    except BadImage:
        raise
    except Exception as exc:  # any plugin error on hostile bytes is this file's problem only
        raise BadImage(f"cannot read the image header: {exc}") from None
    if not isinstance(orientation, int) or not 1 <= orientation <= 8:
        orientation = 1
    return _oriented(width, height, fmt, frames, orientation, taken)


def os_error_reason(exc: OSError) -> str:
    import errno

    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno == errno.EACCES or exc.errno == errno.EPERM:
        return "permission denied: cannot read the file"
    if exc.errno == errno.EISDIR:
        return "is a folder"
    return f"cannot read the file: {exc.strerror or exc}"


def inspect_file(path: str) -> Inspected:
    """Read a file once: content hash, and info from its header. Raises BadImage/FileChanged.

    `path` is an OS path string (surrogateescape). The file's size and mtime are taken from the
    open descriptor before and after the read, so a file rewritten meanwhile is noticed.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise FileChanged("deleted while the scan ran") from None
    except OSError as exc:
        raise BadImage(os_error_reason(exc)) from None
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise BadImage("not a regular file")
        size = before.st_size
        if size == 0:
            raise BadImage("empty file (0 bytes)")
        last_eoi = -1  # offset of the last JPEG end-of-image marker seen (streamed files)
        if size <= WHOLE_READ_LIMIT:
            data = os.read(fd, size + 1)
            while len(data) < size:  # network file systems may return short reads
                more = os.read(fd, size + 1 - len(data))
                if not more:
                    break
                data += more
            if len(data) != size:
                raise FileChanged("changed size while being read")
            content = xxhash.xxh3_128_hexdigest(data)
            head, whole = data, True
        else:
            hasher = xxhash.xxh3_128()
            head = b""
            total = 0
            prev_tail = b""
            while chunk := os.read(fd, CHUNK):
                hasher.update(chunk)
                if total < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - total]
                found = (prev_tail + chunk).rfind(b"\xff\xd9")
                if found >= 0:
                    last_eoi = total - len(prev_tail) + found
                total += len(chunk)
                prev_tail = chunk[-1:]
            if total != size:
                raise FileChanged("changed size while being read")
            content = hasher.hexdigest()
            data, whole = head, False
        after = os.fstat(fd)
        if after.st_size != size or after.st_mtime_ns != before.st_mtime_ns:
            raise FileChanged("changed while being read")
    except OSError as exc:
        raise BadImage(os_error_reason(exc)) from None
    finally:
        os.close(fd)

    info: ImageInfo | None = None
    if data[:3] == b"\xff\xd8\xff":
        # Nearly every complete JPEG ends with its EOI marker: then the frame header suffices.
        ends_with_eoi = whole and data.endswith(b"\xff\xd9")
        parsed = parse_jpeg(data, need_scan=not ends_with_eoi)
        if parsed is not None:
            info, scan_from = parsed
            # An EOI before the scan data belongs to an embedded thumbnail, not the image.
            if ends_with_eoi:
                ended = True
            elif whole:
                ended = data.find(b"\xff\xd9", scan_from) >= 0
            else:
                ended = last_eoi >= scan_from
            if not ended:
                raise BadImage("truncated JPEG: the file ends before the end-of-image marker")
    elif data[:8] == _PNG_SIG:
        if whole and data.rfind(b"IEND") < 0:
            raise BadImage("truncated PNG: the file ends before the IEND chunk")
        info = parse_png(data)
    if info is None:
        info = _pil_info(io.BytesIO(data) if whole else path)
    return Inspected(content, size, before.st_mtime_ns, info)


def decode_pixel_hash(path: str, expected_hash: str) -> str | None:
    """Pixel hash of the file if its bytes still hash to expected_hash, else None (changed).

    Decodes the whole image (Pillow releases the GIL while decoding, so threads overlap).
    Raises BadImage when the pixels cannot be decoded.
    """
    from anagnorisis_tui.core.base.hashing import content_hash_bytes, pixel_hash

    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise BadImage(os_error_reason(exc)) from None
    if content_hash_bytes(data) != expected_hash:
        return None
    try:
        with Image.open(io.BytesIO(data)) as im:
            return pixel_hash(im)
    except Image.DecompressionBombError as exc:
        raise BadImage(f"too large (possible decompression bomb): {exc}") from None
    except MemoryError:
        raise BadImage("not enough memory to decode the pixels") from None
    except Exception as exc:  # decoders raise many types on hostile bytes
        message = str(exc)
        if "truncated" in message:
            raise BadImage(f"truncated image: {message}") from None
        raise BadImage(f"cannot decode the pixels: {message}") from None
