"""Progress reports and cancellation shared by every long-running core job.

Core jobs take `progress: ProgressCallback | None` and `cancel: threading.Event | None`; they call
`progress(Progress(...))` as often as they like (callers throttle/coalesce) and check `cancel`
between units of work, returning what they finished so far with `cancelled=True` in their result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Progress:
    stage: str  # e.g. "scan", "pixels", "embed", "index", "train", "thumbnails"
    done: int
    total: int | None = None  # None while unknown (e.g. still walking the tree)
    bytes_done: int = 0
    elapsed: float = 0.0
    detail: str = ""  # the current file or step, plain text
    done_before: int = 0  # units done by an earlier run this one resumes (not in the rate)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Progress:
        """The progress `to_json` gave (another process's); unknown keys are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)

    @property
    def rate(self) -> float:
        return (self.done - self.done_before) / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the average rate so far, None while unknown."""
        if not self.total or self.done <= self.done_before or self.elapsed <= 0:
            return None
        return max(0.0, (self.total - self.done) / self.rate)


ProgressCallback = Callable[[Progress], None]


class Cancelled(Exception):
    """Raised inside a job when its cancel event is set (caught by the job's own wrapper)."""


def check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled


class Timer:
    def __init__(self) -> None:
        self.start = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
