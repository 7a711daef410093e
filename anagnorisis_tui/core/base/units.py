"""The one grammar for file sizes and proportions, as users type them and as they are shown.

Read: '500k', '2MB', '1.5 GiB', '1234' (bytes; k/M/G decimal, KiB/MiB/GiB binary; rounded to
the nearest byte); '16:9', '16/9', '16x9' or '1.78' for a proportion (width over height).
Shown: `format_size` (one decimal above a kilobyte, decimal units: '1.2 MB'); `size_text` is
the exact form a control is filled with, which reads back to the same number of bytes.
Anything else is a UnitError, whose message says what was expected. The filters, the command
line and the Search screen all read and show sizes and proportions through this module.
"""

from __future__ import annotations

import math
import re

from anagnorisis_tui.core.errors import UserError

SIZE_UNITS: dict[str, int] = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
}
_SIZE = re.compile(r"\s*([-+]?\d+(?:\.\d*)?|[-+]?\.\d+)\s*([a-zA-Z]*)\s*")
_RATIO = re.compile(r"\s*([-+]?[\d.]+)\s*(?:[:/x]\s*([-+]?[\d.]+))?\s*")
_SHOWN = (("kB", 1000), ("MB", 1000**2), ("GB", 1000**3), ("TB", 1000**4))
_EXACT = (("GB", 1000**3), ("MB", 1000**2), ("kB", 1000))


class UnitError(UserError, ValueError):
    """Text that is not a file size or a proportion; the message says what would be."""


def parse_size(text: str) -> int:
    """'2MB', '500k', '1.5 GiB', '1234' -> bytes (rounded to the nearest byte)."""
    match = _SIZE.fullmatch(str(text))
    if not match or match.group(2).lower() not in SIZE_UNITS:
        raise UnitError(f"not a file size: {str(text).strip()!r} (try 500k, 2MB or 1.5GiB)")
    value = float(match.group(1)) * SIZE_UNITS[match.group(2).lower()]
    if value < 0:
        raise UnitError(f"a file size cannot be negative: {str(text).strip()!r}")
    return round(value)


def format_size(size: int | None) -> str:
    """Bytes as shown: '512 B', '1.2 kB', '45.0 MB' ('' for no size)."""
    if size is None:
        return ""
    if size < 1000:
        return f"{size} B"
    # The largest unit that shows it below 1000 once rounded (999,960 B is 1.0 MB, not 1000 kB).
    unit, factor = next(((u, f) for u, f in _SHOWN if round(size / f, 1) < 1000), _SHOWN[-1])
    return f"{size / factor:,.1f} {unit}"


def size_text(size: int | None) -> str:
    """A size as typed into a control: exact, so `parse_size` reads back the same bytes."""
    if size is None:
        return ""
    for unit, factor in _EXACT:
        if size >= factor and (size * 10) % factor == 0:
            return f"{size / factor:g}{unit}"
    return str(size)


def parse_ratio(text: str) -> float:
    """'16:9', '16/9', '16x9', '1.78' -> width / height (above 0)."""
    match = _RATIO.fullmatch(str(text))
    try:
        if not match:
            raise ValueError
        value = float(match.group(1))
        if match.group(2) is not None:
            value /= float(match.group(2))
    except (ValueError, ZeroDivisionError):
        raise UnitError(f"not a proportion: {str(text).strip()!r} (try 16:9, 3/4 or 1.5)") from None
    if not math.isfinite(value) or value <= 0:
        raise UnitError(f"a proportion must be above 0: {str(text).strip()!r}")
    return value
