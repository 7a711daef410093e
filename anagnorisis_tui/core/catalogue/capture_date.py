"""When a photo was taken, from its EXIF: DateTimeOriginal with OffsetTimeOriginal.

Two entry points over what a reader already holds, so no file is opened again for it:
- `from_exif(exif)`: a Pillow `Image.Exif` (`im.getexif()` of an image already opened);
- `from_tiff(data, start, end)`: the raw EXIF (TIFF) block inside bytes already read, e.g. a
  JPEG's APP1 segment or a PNG's eXIf chunk, parsed without Pillow.

DateTimeOriginal (0x9003) is the moment of capture; DateTimeDigitized (0x9004) stands in when it
is absent (scans, some phones). IFD0's DateTime (0x0132) is not used: editors rewrite it. The
result is `CaptureTime(timestamp, offset)`: seconds since the epoch, and the UTC offset in
minutes when the file records one. Without an offset the clock time is read in this machine's
time zone, which is what a camera set to local time meant. Blank, zeroed or impossible dates
give None, and the caller falls back to the file's mtime.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from struct import unpack_from
from typing import Any, NamedTuple

EXIF_IFD = 0x8769
DATE_ORIGINAL, DATE_DIGITIZED = 0x9003, 0x9004
OFFSET_ORIGINAL, OFFSET_DIGITIZED = 0x9011, 0x9012
SUBSEC_ORIGINAL, SUBSEC_DIGITIZED = 0x9291, 0x9292
_WANTED = (
    (DATE_ORIGINAL, OFFSET_ORIGINAL, SUBSEC_ORIGINAL),
    (DATE_DIGITIZED, OFFSET_DIGITIZED, SUBSEC_DIGITIZED),
)
_DATE = re.compile(
    r"^\s*(\d{4})[:\-/.](\d{1,2})[:\-/.](\d{1,2})[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?"
    r"(?:\.(\d+))?\s*(Z|[+-]\d{2}:?\d{2})?\s*$"
)
_OFFSET = re.compile(r"^\s*([+-])(\d{1,2}):?(\d{2})\s*$")
MIN_YEAR, MAX_YEAR = 1826, 2200  # the first photograph; anything later than this is garbage


class CaptureTime(NamedTuple):
    timestamp: float  # seconds since the epoch
    offset: int | None  # minutes east of UTC, None when the file records no offset


def parse(text: Any, offset: Any = None, subsec: Any = None) -> CaptureTime | None:
    """A CaptureTime from EXIF's "YYYY:MM:DD HH:MM:SS" (+ offset "+HH:MM", sub-seconds)."""
    text = _text(text)
    if not text:
        return None
    m = _DATE.match(text)
    if m is None:
        return None
    year, month, day, hour, minute = (int(m.group(k)) for k in range(1, 6))
    second = int(m.group(6) or 0)
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None  # "0000:00:00 00:00:00" and friends
    fraction = m.group(7) or _text(subsec).strip()
    micro = int((fraction + "000000")[:6]) if fraction.isdigit() else 0
    try:
        moment = datetime(year, month, day, hour, minute, min(second, 59), micro)
    except ValueError:
        return None
    minutes = _offset_minutes(m.group(8)) if m.group(8) else _offset_minutes(_text(offset))
    if minutes is None:
        return CaptureTime(_local_timestamp(moment), None)
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    return CaptureTime(aware.timestamp(), minutes)


def _local_timestamp(moment: datetime) -> float:
    try:
        return moment.timestamp()
    except (OverflowError, OSError, ValueError):  # outside the platform's mktime range
        return (moment - datetime(1970, 1, 1)).total_seconds()


def _offset_minutes(text: str | None) -> int | None:
    if not text:
        return None
    if text.strip().upper() == "Z":
        return 0
    m = _OFFSET.match(text)
    if m is None:
        return None
    hours, minutes = int(m.group(2)), int(m.group(3))
    if hours > 14 or minutes >= 60:
        return None
    total = hours * 60 + minutes
    return -total if m.group(1) == "-" else total


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if isinstance(value, tuple | list):  # some writers store ASCII as a one-element array
        value = value[0] if value else ""
    return str(value).replace("\x00", " ").strip()


def from_exif(exif: Mapping[int, Any] | None) -> CaptureTime | None:
    """From a Pillow `Image.Exif` (or a mapping with the Exif IFD under 0x8769)."""
    if not exif:
        return None
    ifd = exif.get(EXIF_IFD)
    if not isinstance(ifd, Mapping):  # a pointer (as read from a file): Pillow follows it
        try:
            ifd = exif.get_ifd(EXIF_IFD) if hasattr(exif, "get_ifd") else None
        except Exception:  # a malformed Exif IFD pointer: Pillow raises from its parser
            return None
    tags: dict[int, Any] = dict(ifd or {})
    for date_tag, offset_tag, subsec_tag in _WANTED:
        found = parse(tags.get(date_tag), tags.get(offset_tag), tags.get(subsec_tag))
        if found is not None:
            return found
    return None


def from_image(image: Any) -> CaptureTime | None:
    """From an opened Pillow image (its EXIF only; no pixels are decoded)."""
    try:
        exif = image.getexif()
    except Exception:  # hostile EXIF must not fail the file: there is simply no date
        return None
    return from_exif(exif)


def from_tiff(data: bytes, start: int, end: int) -> CaptureTime | None:
    """From the TIFF-structured EXIF block data[start:end] ("II*\\0" or "MM\\0*" header)."""
    end = min(end, len(data))
    if end - start < 8:
        return None
    order = data[start : start + 2]
    fmt = "<" if order == b"II" else ">" if order == b"MM" else ""
    if not fmt:
        return None
    try:
        ifd0 = _entries(data, fmt, start, end, start + unpack_from(fmt + "I", data, start + 4)[0])
        pointer = ifd0.get(EXIF_IFD)
        if pointer is None or pointer[0] not in (4, 13):
            return None
        exif_ifd = _entries(data, fmt, start, end, start + _inline_long(data, fmt, pointer))
        values = {tag: _ascii(data, fmt, start, end, e) for tag, e in exif_ifd.items()}
    except (IndexError, ValueError, OverflowError, Exception):  # noqa: BLE001 - hostile bytes
        return None
    for date_tag, offset_tag, subsec_tag in _WANTED:
        found = parse(values.get(date_tag), values.get(offset_tag), values.get(subsec_tag))
        if found is not None:
            return found
    return None


_Entry = tuple[int, int, int]  # (type, count, offset of the entry's value field)


def _entries(data: bytes, fmt: str, start: int, end: int, p: int) -> dict[int, _Entry]:
    if p + 2 > end or p < start:
        return {}
    count = unpack_from(fmt + "H", data, p)[0]
    out: dict[int, _Entry] = {}
    for k in range(min(count, 512)):
        e = p + 2 + 12 * k
        if e + 12 > end:
            break
        tag, kind, n = unpack_from(fmt + "HHI", data, e)
        out.setdefault(tag, (kind, n, e + 8))
    return out


def _inline_long(data: bytes, fmt: str, entry: _Entry) -> int:
    return unpack_from(fmt + "I", data, entry[2])[0]


def _ascii(data: bytes, fmt: str, start: int, end: int, entry: _Entry) -> str | None:
    kind, n, at = entry
    if kind not in (2, 7) or n == 0 or n > 64:  # ASCII (or UNDEFINED, as some writers use)
        return None
    where = at if n <= 4 else start + unpack_from(fmt + "I", data, at)[0]
    if where < start or where + n > end:
        return None
    return data[where : where + n].decode("ascii", "replace")


def describe(timestamp: float, offset: int | None) -> str:
    """ "2024-05-06 07:08:09 +02:00" in the recorded offset, else this machine's local time."""
    if offset is None:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))
    moment = datetime.fromtimestamp(timestamp, timezone(timedelta(minutes=offset)))
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset), 60)
    return f"{moment:%Y-%m-%d %H:%M:%S} {sign}{hours:02d}:{minutes:02d}"
