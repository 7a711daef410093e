"""The shot a file records: when it was taken (sub-seconds included), with which exposure, in
which burst. Where both files of a pair say, this is evidence of the moment however alike the
pixels: a different capture time, exposure or burst means another shot (a burst frame, a
bracket), the same time and settings support a copy or an edit.

Read from the file's header (EXIF, embedded XMP), no pixels decoded, only for the few pairs the
renditions verified as copies.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from fractions import Fraction

from PIL import Image

from anagnorisis_tui.core.catalogue import capture_date

EXIF_IFD = 0x8769
EXPOSURE_TIME, F_NUMBER, ISO, EXPOSURE_BIAS = 0x829A, 0x829D, 0x8827, 0x9204
# Burst ids: Google Camera's XMP, Apple's (in XMP written by exporters), a generic one.
_BURST = re.compile(rb"(?:GCamera:BurstID|apple-fi:BurstUUID|BurstUUID)\s*=\s*\"([^\"]{1,80})\"")
SAME_TIME = 0.0005  # seconds: clocks written with sub-seconds agree exactly for one shot


@dataclass(frozen=True)
class Shot:
    taken: float | None = None  # seconds since the epoch, sub-seconds included
    exposure: tuple[str, ...] | None = None  # exposure time, f-number, ISO, bias, as text
    burst: str | None = None

    @property
    def known(self) -> bool:
        return self.taken is not None or self.exposure is not None or self.burst is not None


def _value(raw: object) -> str | None:
    if raw is None:
        return None
    with contextlib.suppress(Exception):
        if isinstance(raw, tuple) and len(raw) == 2:
            return str(Fraction(int(raw[0]), int(raw[1])))
        return str(Fraction(str(raw)).limit_denominator(100000))
    return str(raw)


def read(path: str) -> Shot:
    """The shot an image file records (OS path); an unreadable file records nothing."""
    try:
        with Image.open(path) as image:
            # Pillow's getexif() decodes a whole PNG to look for an eXIf chunk after the pixels:
            # only what the header holds is read here (a PNG's EXIF is nearly always before).
            if image.format == "PNG" and "exif" not in image.info:
                exif = Image.Exif()
            else:
                exif = image.getexif()
            taken = capture_date.from_exif(exif)
            ifd: dict[int, object] = {}
            with contextlib.suppress(Exception):  # a malformed sub-IFD records nothing
                ifd = dict(exif.get_ifd(EXIF_IFD))
            xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp") or b""
    except Exception:  # unreadable now: no evidence either way
        return Shot()
    settings = tuple(
        _value(ifd.get(tag)) or "" for tag in (EXPOSURE_TIME, F_NUMBER, ISO, EXPOSURE_BIAS)
    )
    exposure = settings if any(settings) else None
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8", "replace")
    found = _BURST.search(xmp) if isinstance(xmp, bytes | bytearray) else None
    burst = found.group(1).decode("utf-8", "replace") if found else None
    return Shot(taken.timestamp if taken else None, exposure, burst)


def other_moment(a: Shot, b: Shot) -> str:
    """Why the two shots are different moments, in words, or "" when their metadata does not
    say so (one of them records nothing, or what both record agrees)."""
    if a.taken is not None and b.taken is not None and abs(a.taken - b.taken) > SAME_TIME:
        gap = abs(a.taken - b.taken)
        return f"taken {gap:.2f} s apart" if gap < 60 else f"taken {gap / 60:.0f} min apart"
    if a.exposure is not None and b.exposure is not None:
        pairs = [(x, y) for x, y in zip(a.exposure, b.exposure, strict=True) if x and y]
        if any(x != y for x, y in pairs):
            return "other exposure settings (a bracket)"
    if a.burst is not None and b.burst is not None and a.burst != b.burst:
        return "other bursts"
    return ""
