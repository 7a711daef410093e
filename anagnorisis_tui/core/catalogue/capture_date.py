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
import struct
import time
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
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
    fast = _canonical(text, offset, subsec)
    if fast is not None:
        return fast
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


_EPOCH_DAYS = date(1970, 1, 1).toordinal()


def _canonical(text: str, offset: Any, subsec: Any) -> CaptureTime | None:
    """The common "YYYY:MM:DD HH:MM:SS" with a "+HH:MM" offset, without datetime objects."""
    if len(text) != 19 or text[4] != ":" or text[7] != ":" or text[13] != ":":
        return None
    minutes = _offset_minutes(_text(offset))
    if minutes is None:
        return None
    try:
        year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
        hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
        days = date(year, month, day).toordinal() - _EPOCH_DAYS
    except ValueError:
        return None
    if not (MIN_YEAR <= year <= MAX_YEAR and hour < 24 and minute < 60 and second < 60):
        return None
    fraction = _text(subsec)
    micro = int((fraction + "000000")[:6]) / 1e6 if fraction.isdigit() else 0.0
    seconds = days * 86400 + hour * 3600 + minute * 60 + second - minutes * 60
    return CaptureTime(seconds + micro, minutes)


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
    structs = _LE if order == b"II" else _BE if order == b"MM" else None
    if structs is None:
        return None
    try:
        pointer = _find(data, structs, start, end, start + structs[2](data, start + 4)[0], _IFD0)
        entry = pointer.get(EXIF_IFD)
        if entry is None or entry[0] not in (4, 13):
            return None
        exif_ifd = start + structs[2](data, entry[2])[0]
        found = _find(data, structs, start, end, exif_ifd, _TAGS)
        if DATE_ORIGINAL not in found and DATE_DIGITIZED not in found:
            return None
        values = {tag: _ascii(data, structs, start, end, e) for tag, e in found.items()}
    except Exception:  # noqa: BLE001 - hostile bytes: no date, never a failed file
        return None
    for date_tag, offset_tag, subsec_tag in _WANTED:
        taken = parse(values.get(date_tag), values.get(offset_tag), values.get(subsec_tag))
        if taken is not None:
            return taken
    return None


# (tag, type-and-count of an entry, a LONG) readers for each byte order, compiled once.
_LE = (
    struct.Struct("<H").unpack_from,
    struct.Struct("<HI").unpack_from,
    struct.Struct("<I").unpack_from,
)
_BE = (
    struct.Struct(">H").unpack_from,
    struct.Struct(">HI").unpack_from,
    struct.Struct(">I").unpack_from,
)
_IFD0 = frozenset({EXIF_IFD})
_TAGS = frozenset(tag for group in _WANTED for tag in group)
_Entry = tuple[int, int, int]  # (type, count, offset of the entry's value field)


def _find(
    data: bytes, structs: tuple[Any, ...], start: int, end: int, p: int, wanted: frozenset[int]
) -> dict[int, _Entry]:
    """The entries of the IFD at `p` whose tags are wanted (the first of each)."""
    if p + 2 > end or p < start:
        return {}
    short, kind_count, _ = structs
    count = min(short(data, p)[0], 512, (end - p - 2) // 12)
    out: dict[int, _Entry] = {}
    for e in range(p + 2, p + 2 + 12 * count, 12):
        tag = short(data, e)[0]
        if tag in wanted and tag not in out:
            kind, n = kind_count(data, e + 2)
            out[tag] = (kind, n, e + 8)
    return out


def _ascii(
    data: bytes, structs: tuple[Any, ...], start: int, end: int, entry: _Entry
) -> str | None:
    kind, n, at = entry
    if kind not in (2, 7) or n == 0 or n > 64:  # ASCII (or UNDEFINED, as some writers use)
        return None
    where = at if n <= 4 else start + structs[2](data, at)[0]
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
