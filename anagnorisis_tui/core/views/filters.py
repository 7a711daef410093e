"""Filter values for the paged views: what a ViewSpec may narrow by, validated on construction.

Every value is checked when a `Filters` is made, so nonsense (a negative size, a minimum above
its maximum, an unknown shape) fails at once with a message that names the value, instead of
returning an empty view that leaves the user guessing.

Rules for images that lack what a filter needs (documented in README "Filters and duplicates"):
- unknown width/height (undecodable or not yet measured): dropped by the resolution, proportion
  and shape filters, sorted last by the resolution and proportion sorts;
- no rating and no prediction: dropped by a rating range, sorted last (never dropped) by the
  rating sort in either direction;
- no vector for the active model: dropped by the text-concept filter in both modes (keep and
  exclude) and by a semantic search, since neither can be decided for them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields

from anagnorisis_tui.core.base.units import SIZE_UNITS, UnitError, parse_ratio
from anagnorisis_tui.core.base.units import format_size as format_bytes
from anagnorisis_tui.core.base.units import parse_size as parse_bytes
from anagnorisis_tui.core.errors import UserError

# Sizes and proportions are read and shown by core/base/units.py, under the names the command
# line has always imported from here.
__all__ = ["SIZE_UNITS", "UnitError", "format_bytes", "parse_bytes", "parse_ratio"]

# Shapes as ranges of width/height. Square allows 5% either way so 1000x1020 still counts.
SQUARE_TOLERANCE = 1.05
SHAPES = ("landscape", "portrait", "square", "panorama", "tall")

SORT_KEYS = (
    "path",
    "name",
    "size",
    "mtime",
    "taken",
    "resolution",
    "proportion",
    "random",
    "rating",
    "score",
)

DEFAULT_CONCEPT_THRESHOLD = 0.25


class FilterError(UserError, ValueError):
    """A filter value that makes no sense; the message says which and why."""


@dataclass(frozen=True)
class Concept:
    """Keep (or, with exclude=True, drop) images whose cosine to `text` is >= threshold."""

    text: str
    threshold: float = DEFAULT_CONCEPT_THRESHOLD
    exclude: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise FilterError("a text concept needs some text, e.g. 'screenshot'")
        _finite("concept threshold", self.threshold)
        if not -1.0 <= self.threshold <= 1.0:
            raise FilterError(
                f"concept threshold is a cosine similarity from -1 to 1, not {self.threshold}"
            )


@dataclass(frozen=True)
class Filters:
    min_megapixels: float | None = None
    max_megapixels: float | None = None
    min_ratio: float | None = None  # width / height
    max_ratio: float | None = None
    shape: str | None = None  # one of SHAPES
    min_bytes: int | None = None
    max_bytes: int | None = None
    min_rating: float | None = None  # the user's rating, else the model's prediction
    max_rating: float | None = None
    concept: Concept | None = None
    # When taken (EXIF capture date, else the file's mtime), seconds since the epoch, inclusive.
    min_taken: float | None = None
    max_taken: float | None = None

    def __post_init__(self) -> None:
        _range("megapixels", self.min_megapixels, self.max_megapixels, low=0.0)
        _range("proportion (width/height)", self.min_ratio, self.max_ratio, low=0.0, strict=True)
        _range("file size", self.min_bytes, self.max_bytes, low=0, integer=True)
        _range("rating", self.min_rating, self.max_rating, low=0.0, high=10.0)
        _range("date taken", self.min_taken, self.max_taken, low=-1e11)
        if self.shape is not None and self.shape not in SHAPES:
            raise FilterError(f"unknown shape {self.shape!r}; choose one of {', '.join(SHAPES)}")
        if self.concept is not None and not isinstance(self.concept, Concept):
            raise FilterError("concept must be a Concept(text, threshold, exclude)")

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))

    def describe(self) -> list[str]:
        """Short human descriptions of the active filters, for status lines and --json."""
        out = []
        if self.min_megapixels is not None or self.max_megapixels is not None:
            out.append(f"megapixels {_span(self.min_megapixels, self.max_megapixels)}")
        if self.min_ratio is not None or self.max_ratio is not None:
            out.append(f"proportion {_span(self.min_ratio, self.max_ratio)}")
        if self.shape:
            out.append(self.shape)
        if self.min_bytes is not None or self.max_bytes is not None:
            lo = format_bytes(self.min_bytes) if self.min_bytes is not None else None
            hi = format_bytes(self.max_bytes) if self.max_bytes is not None else None
            out.append(f"size {_span(lo, hi)}")
        if self.min_rating is not None or self.max_rating is not None:
            out.append(f"rating {_span(self.min_rating, self.max_rating)}")
        if self.min_taken is not None or self.max_taken is not None:
            lo = format_day(self.min_taken) if self.min_taken is not None else None
            hi = format_day(self.max_taken) if self.max_taken is not None else None
            out.append(f"taken {_span(lo, hi)}")
        if self.concept:
            verb = "without" if self.concept.exclude else "with"
            out.append(f"{verb} {self.concept.text!r} (>= {self.concept.threshold:g})")
        return out


def check_sort(key: str) -> str:
    if key not in SORT_KEYS:
        raise FilterError(f"unknown sort key {key!r}; choose one of {', '.join(SORT_KEYS)}")
    return key


def _finite(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FilterError(f"{name} must be a number, not {value!r}")
    if not math.isfinite(value):
        raise FilterError(f"{name} must be a finite number, not {value}")
    return float(value)


def _range(
    name: str,
    lo: float | None,
    hi: float | None,
    *,
    low: float,
    high: float | None = None,
    strict: bool = False,
    integer: bool = False,
) -> None:
    for label, value in (("minimum", lo), ("maximum", hi)):
        if value is None:
            continue
        if integer and (isinstance(value, bool) or not isinstance(value, int)):
            raise FilterError(f"{label} {name} must be a whole number of bytes, not {value!r}")
        number = _finite(f"{label} {name}", value)
        if number < low or (strict and number == low):
            raise FilterError(
                f"{label} {name} must be {'above' if strict else 'at least'} {low:g}, not {value}"
            )
        if high is not None and number > high:
            raise FilterError(f"{label} {name} must be at most {high:g}, not {value}")
    if lo is not None and hi is not None and lo > hi:
        raise FilterError(f"minimum {name} ({lo}) is above the maximum ({hi})")


def _span(lo: object, hi: object) -> str:
    if lo is not None and hi is not None:
        return f"{lo}..{hi}"
    return f">= {lo}" if lo is not None else f"<= {hi}"


# File size units people type: k/M/G are decimal, KiB/MiB/GiB binary (shared with the UI).
_DATE_TEXT = re.compile(
    r"\s*(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?)?)?\s*"
)


def parse_date(text: str, *, end: bool = False) -> float:
    """'2024', '2024-05', '2024-05-06', '2024-05-06 14:30' in local time -> epoch seconds.

    With end=True the last second of what the text names (the year, month, day or minute), so
    `--taken-to 2024-05` includes all of May.
    """
    import calendar
    from datetime import datetime, timedelta

    match = _DATE_TEXT.fullmatch(str(text))
    if not match:
        raise FilterError(f"not a date: {text!r} (try 2024, 2024-05 or 2024-05-06)")
    year = int(match.group(1))
    month, day, hour, minute, second = (
        int(g) if g is not None else None for g in match.groups()[1:]
    )
    try:
        start = datetime(year, month or 1, day or 1, hour or 0, minute or 0, second or 0)
    except ValueError as exc:
        raise FilterError(f"not a date: {text!r} ({exc})") from None
    if not end:
        return start.timestamp()
    if month is None:
        stop = start.replace(year=year + 1)
    elif day is None:
        stop = start + timedelta(days=calendar.monthrange(year, month)[1])
    elif hour is None:
        stop = start + timedelta(days=1)
    elif second is None:
        stop = start + timedelta(minutes=1)
    else:
        stop = start + timedelta(seconds=1)
    return stop.timestamp() - 1e-6


def format_day(timestamp: float) -> str:
    import time

    return time.strftime("%Y-%m-%d", time.localtime(timestamp))
