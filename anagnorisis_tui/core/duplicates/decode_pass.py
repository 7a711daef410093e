"""The loop the lazy duplicates passes share (perceptual hashes, renditions): page through the
content that lacks a derived value, decode each in a small thread pool (Pillow releases the GIL
while decoding), and write each page from this thread alone, in its own short transaction, so
what was finished before a cancel is kept.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.core.base.progress import Cancelled, Progress, ProgressCallback, Timer, check

T = TypeVar("T")
# (content hash, path) rows after the given hash, in hash order, at most `limit`: keyset
# pagination, so the writes between pages cannot disturb it.
Page = Callable[[str, int], list[tuple[str, str]]]


@dataclass(frozen=True)
class DecodeSummary:
    done: int
    failed: int
    missing: int  # files gone since the scan: left for the next scan to sort out
    seconds: float
    cancelled: bool = False


@dataclass(frozen=True)
class _Outcome(Generic[T]):
    status: str  # "ok", "error" or "missing"
    value: T | None = None
    reason: str = ""


def _attempt(decode: Callable[[str], T], path: str) -> _Outcome[T]:
    try:
        return _Outcome("ok", decode(fsnames.to_os(path)))
    except FileNotFoundError:
        return _Outcome("missing")
    except Exception as exc:  # any decoder failure: recorded, never stops the pass
        return _Outcome("error", reason=f"{type(exc).__name__}: {exc}"[:300])


def run_decode_pass(
    *,
    stage: str,
    total: int,
    page: Page,
    decode: Callable[[str], T],
    write: Callable[[list[tuple[str, T]], list[tuple[str, str]]], None],
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    batch: int = 64,
    workers: int | None = None,
) -> DecodeSummary:
    """Decode every row `page` yields and hand each page's results to `write` as
    ([(content hash, value)], [(content hash, reason)]). `decode` takes the OS path."""
    timer = Timer()
    done = failed = missing = 0
    cancelled = False
    last = ""
    workers = workers or min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=stage) as pool:
        while not cancelled:
            rows = page(last, batch)
            if not rows:
                break
            last = rows[-1][0]
            futures = [pool.submit(_attempt, decode, path) for _, path in rows]
            good: list[tuple[str, T]] = []
            errors: list[tuple[str, str]] = []
            try:
                for future, (content_hash, path) in zip(futures, rows, strict=True):
                    check(cancel)
                    outcome = future.result()
                    if outcome.status == "ok":
                        good.append((content_hash, outcome.value))  # type: ignore[arg-type]
                    elif outcome.status == "error":
                        errors.append((content_hash, outcome.reason))
                    else:
                        missing += 1
                    if progress:
                        finished = done + failed + missing + len(good) + len(errors)
                        progress(
                            Progress(stage, finished, total, elapsed=timer.elapsed, detail=path)
                        )
            except Cancelled:
                cancelled = True
                for future in futures:
                    future.cancel()
            write(good, errors)
            done += len(good)
            failed += len(errors)
    return DecodeSummary(done, failed, missing, timer.elapsed, cancelled)
