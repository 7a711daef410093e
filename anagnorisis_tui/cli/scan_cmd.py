"""`anagnorisis-tui scan [LIBRARY] [--json] [--quiet]`: bring the catalogue up to date.

On a terminal a live progress line goes to stderr; `--json` prints one JSON object per file on
stdout, then a summary object (for cron and scripts); `--quiet` prints nothing but errors.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.core.base.progress import Progress, format_eta

if TYPE_CHECKING:
    from anagnorisis_tui.core.base.config import Settings
    from anagnorisis_tui.core.catalogue.scan_types import FileEvent, ScanSummary


def register(sub: argparse._SubParsersAction, common: Callable[..., None]) -> None:
    parser = sub.add_parser(
        "scan",
        help="scan LIBRARY (default: the saved library) into the catalogue",
        description="Walk LIBRARY and record every image's content hash, size, resolution and "
        "format. Unchanged files are not reread; moved or renamed files keep their ratings. "
        "Nothing is written inside LIBRARY.",
    )
    common(parser)
    parser.add_argument("library", nargs="?", metavar="LIBRARY", help="image folder")
    out = parser.add_mutually_exclusive_group()
    out.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per file (path, hash, width, height, size, format, status) "
        "and a final summary object",
    )
    out.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    parser.set_defaults(func=run)


class ProgressLine:
    """One self-overwriting status line on a terminal, at most ~8 updates a second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.last = 0.0
        self.width = 0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if now - self.last < 0.12 and p.done != p.total:
            return
        self.last = now
        if p.stage == "walk":
            text = f"listing  {p.done:,} image files found"
        elif p.stage in ("download", "prepare"):  # a model's first use
            from anagnorisis_tui.core.semantic import model_progress

            text = model_progress.text(p)
        else:
            total = f"/{p.total:,}" if p.total else ""
            size = f"  {p.bytes_done / 1e6:,.1f} MB" if p.bytes_done else ""
            mbps = (
                f" {p.bytes_done / 1e6 / p.elapsed:,.1f} MB/s"
                if p.bytes_done and p.elapsed > 0
                else ""
            )
            label = "reading" if p.stage == "catalogue" else p.stage
            text = (
                f"{label}  {p.done:,}{total} files{size}  {p.rate:,.0f} files/s{mbps}  "
                f"ETA {format_eta(p.eta)}"
            )
        if p.detail and p.stage not in ("download", "prepare"):
            text += "  " + fsnames.display(p.detail)[:40]
        try:
            # A terminal that reports no size (0 columns: a fresh pty, some serial consoles)
            # gets the usual width, not a 10-character line.
            columns = os.get_terminal_size(self.stream.fileno()).columns or 100
        except OSError:
            columns = 100
        text = text[: max(10, columns - 1)]
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)

    def clear(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


def _json_line(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def file_record(event: FileEvent) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type": "error" if event.status == "error" else "file",
        "path": event.path,
    }
    if event.status == "error":
        record["reason"] = event.reason
    else:
        record.update(
            hash=event.hash,
            width=event.width,
            height=event.height,
            size=event.size,
            format=event.format,
            frames=event.frames,
            mtime_ns=event.mtime_ns,
            status=event.status,
        )
    os_path = fsnames.to_os(event.path)
    if os_path != event.path:  # not valid UTF-8: give the exact bytes too
        record["path_bytes_hex"] = os.fsencode(os_path).hex()
    return record


def summary_lines(summary: ScanSummary) -> list[str]:
    s = summary
    lines = [
        f"{fsnames.display(s.root)}: {s.files:,} images"
        f" ({s.new:,} new, {s.moved:,} moved or copied, {s.changed:,} changed,"
        f" {s.unchanged:,} unchanged, {s.vanished:,} gone)",
        f"read {s.bytes / 1e6:,.1f} MB in {s.seconds:.1f} s"
        + (f"; {s.pixel_matched:,} rewritten files kept their rating" if s.pixel_matched else ""),
    ]
    if s.errors:
        lines.append(
            f"{s.errors:,} files could not be read (see `anagnorisis-tui errors` or --json)"
        )
    if s.links_outside:
        lines.append(
            f"{s.links_outside:,} symbolic links lead outside the library: skipped "
            "([library] follow_links_outside = true follows them)"
        )
    if s.cancelled:
        lines.append("scan interrupted: run it again to finish (what was read is kept)")
    return lines


def run_scan(settings: Settings, library: str | None, *, mode: str = "text") -> int:
    """Scan and report in `mode` text/json/quiet, as the app scans (core/work/scan_run.py):
    the walk here, what is left to read or derive in a child process started only when there
    is some, so a scan that finds nothing new or changed loads no decoder and starts no second
    interpreter."""
    from anagnorisis_tui.core.work.scan_run import ScanRun

    cancel = threading.Event()
    line = ProgressLine(sys.stderr) if mode == "text" and sys.stderr.isatty() else None

    def on_file(event: FileEvent) -> None:
        _json_line(file_record(event))

    def stop(_signum: int, _frame: object) -> None:
        cancel.set()

    if settings.demo and library is None:  # `scan --demo`: the demo's pictures, made first
        from anagnorisis_tui.core.demo.generate import demo_root, make_demo

        library = str(make_demo(demo_root(settings)))
    old_int = signal.signal(signal.SIGINT, stop)
    old_term = signal.signal(signal.SIGTERM, stop)
    try:
        result = ScanRun(settings, library, files=mode == "json").run(
            progress=line, cancel=cancel, on_file=on_file
        )
    except Exception as exc:
        raise command_error(exc, settings) from None
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
        if line is not None:
            line.clear()
    assert result is not None  # only kill() gives None, and nothing here kills it
    summary = result.scan
    if mode == "json":
        _json_line({"type": "summary", **summary.to_dict()})
    elif mode == "text":
        for text in summary_lines(summary):
            print(text)
    return 130 if summary.cancelled else 0


def command_error(exc: Exception, settings: Settings) -> Exception:
    """The CommandError a user reads for what the scan raised, here or in the child task
    (TaskFailed)."""
    import sqlite3

    from anagnorisis_tui.cli import CommandError
    from anagnorisis_tui.core.work.runner import TaskFailed

    if isinstance(exc, sqlite3.OperationalError):
        kind = "OperationalError"
    elif isinstance(exc, TaskFailed):
        kind = exc.kind
    else:
        return exc
    if kind == "OperationalError":
        return CommandError(
            f"cannot write the catalogue in {settings.data_dir}: {exc}; check that the data dir "
            "is writable or choose another with --data-dir or ANAGNORISIS_DATA_DIR"
        )
    return CommandError(str(exc))


def run(args: argparse.Namespace) -> int:
    from anagnorisis_tui.cli import settings_from_args

    settings = settings_from_args(args)
    mode = "json" if args.json else "quiet" if args.quiet else "text"
    return run_scan(settings, args.library, mode=mode)
