"""Scan stage "dates": capture dates for content catalogued before they were read.

New and changed files get their capture date in the catalogue pass, from the header bytes it
reads anyway. Content catalogued by an older version (`images.taken_read = 0`) is not read
again by later scans, since its files are unchanged; this stage reads just its EXIF once (a
JPEG's first segments, else Pillow's header-only open) and marks it read. A catalogue without
such rows costs one indexed query.
"""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.base.progress import Progress, ProgressCallback, Timer, check
from anagnorisis_tui.core.catalogue import capture_date, pending
from anagnorisis_tui.core.catalogue.imageinfo import parse_jpeg

HEAD = 256 << 10  # EXIF lives in a JPEG's first 64 KiB; a little more for odd writers
BATCH = 500


def read_capture_date(path: str) -> capture_date.CaptureTime | None:
    """The capture date of the file at `path` (OS path), reading as little of it as it can.

    Raises OSError when the file cannot be read.
    """
    with open(path, "rb") as f:
        head = f.read(HEAD)
    if head[:3] == b"\xff\xd8\xff":
        try:
            parsed = parse_jpeg(head, need_scan=False)
        except Exception:  # noqa: BLE001 - a damaged header: try Pillow below
            parsed = None
        if parsed is not None:
            info = parsed[0]
            if info.taken is None:
                return None
            return capture_date.CaptureTime(info.taken, info.taken_offset)
    try:
        with Image.open(io.BytesIO(head) if len(head) < HEAD else path) as im:
            return capture_date.from_image(im)
    except Exception:  # noqa: BLE001 - unreadable now: no date, the file is marked read
        return None


def dates_pass(
    db: Database,
    root_db: str,
    report: ProgressCallback,
    cancel: threading.Event | None,
    *,
    readers: int = 4,
) -> int:
    """Read the capture dates still unread under `root_db`; returns how many were read."""
    todo = pending.dates_rows(db, root_db)
    if not todo:
        return 0
    timer = Timer()

    def one(item: tuple[str, str]) -> tuple[float | None, int | None, int, str] | None:
        content, path = item
        try:
            found = read_capture_date(fsnames.to_os(path))
        except OSError:
            return None  # vanished or unreadable: left for the next scan
        if found is None:
            return (None, None, 1, content)
        return (found.timestamp, found.offset, 1, content)

    done = 0
    with ThreadPoolExecutor(max_workers=readers, thread_name_prefix="scan-dates") as pool:
        for start in range(0, len(todo), BATCH):
            check(cancel)
            rows = [r for r in pool.map(one, todo[start : start + BATCH]) if r is not None]
            with db.transaction():
                db.conn.executemany(
                    "UPDATE images SET taken = ?, taken_offset = ?, taken_read = ? WHERE hash = ?",
                    rows,
                )
            done += len(rows)
            report(
                Progress("dates", min(start + BATCH, len(todo)), len(todo), elapsed=timer.elapsed)
            )
    return done
