"""Ratings in and out: CSV, JSON (and JSON Lines) files, and XMP sidecars.

Export writes every current rating (also those whose image is gone: they are keyed by content).
Import checks every row first; broken rows are reported with their line number and skipped, the
good rows land together in one transaction, and each change is appended to the rating history
(source 'import' or 'xmp'), so an import never loses an earlier value.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.core.base import private as private_files
from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.base.progress import Cancelled, Progress, ProgressCallback, Timer, check
from anagnorisis_tui.core.base.ratings import RatingError, parse_rating
from anagnorisis_tui.core.errors import UserError
from anagnorisis_tui.core.evaluator import xmp

FORMATS = ("csv", "json", "jsonl")
HASH_RE = re.compile(r"^[0-9a-f]{32}$")
JSON_FORMAT = "anagnorisis-tui-ratings"


class RatingIOError(UserError, ValueError):
    """A whole file cannot be used (unreadable, wrong format); nothing was changed."""


@dataclass
class ImportReport:
    rows: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    kept_existing: int = 0
    not_in_library: int = 0  # landed, keyed by content, for an image not (yet) scanned
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    cancelled: bool = False


@dataclass
class SidecarReport:
    files: int = 0
    written: int = 0
    unchanged: int = 0
    kept: list[tuple[str, str]] = field(default_factory=list)  # another app's stars, kept
    imported: int = 0
    no_rating: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (catalogue path, reason)
    cancelled: bool = False


def detect_format(path: Path, fmt: str | None = None) -> str:
    fmt = (fmt or Path(path).suffix.lstrip(".")).lower()
    fmt = {"ndjson": "jsonl"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise RatingIOError(
            f"cannot tell the format of {path}: name it .csv, .json or .jsonl, or pass --format"
        )
    return fmt


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def export_rows(db: Database) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT r.hash, r.value, r.updated, (SELECT f.path FROM files f WHERE f.hash = r.hash "
        "ORDER BY f.present DESC, f.path LIMIT 1) FROM ratings r ORDER BY r.hash"
    ).fetchall()
    return [{"hash": h, "path": p or "", "rating": v, "updated": _iso(u)} for h, v, u, p in rows]


def export_file(db: Database, path: Path, fmt: str | None = None, *, private: bool = False) -> int:
    """Write every rating to path (atomically); returns the number of ratings written."""
    fmt = detect_format(path, fmt)
    rows = export_rows(db)
    buf = io.StringIO()
    if fmt == "csv":
        writer = csv.DictWriter(buf, fieldnames=["hash", "path", "rating", "updated"])
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    elif fmt == "json":
        doc = {"format": JSON_FORMAT, "version": 1, "exported": _iso(time.time()), "ratings": []}
        head = json.dumps(doc, ensure_ascii=False, indent=1)[: -len("[]\n}")]
        body = ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in rows)
        buf.write(head + "[\n" + body + ("\n " if rows else "") + "]\n}\n")
    else:
        for row in rows:
            buf.write(json.dumps(row, ensure_ascii=False))
            buf.write("\n")
    try:
        # A fresh temporary and a rename: never through a link planted at FILE or beside it.
        private_files.write_atomic(Path(path), buf.getvalue().encode("utf-8"), private=private)
    except private_files.UnsafePathError as exc:
        raise RatingIOError(f"cannot write {path}: {exc}") from exc
    except OSError as exc:
        raise RatingIOError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return len(rows)


# -- import ------------------------------------------------------------------------------------
def _records(text: str, fmt: str) -> Iterator[tuple[int, object]]:
    """(line number, record or an error message string) for each row of the file."""
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        names = {n.strip().lower() for n in reader.fieldnames or [] if n}
        if "rating" not in names and "value" not in names:
            raise RatingIOError("the CSV header needs a 'rating' column and 'hash' or 'path'")
        if not names & {"hash", "path"}:
            raise RatingIOError("the CSV header needs a 'hash' or a 'path' column")
        for row in reader:
            clean = {(k or "").strip().lower(): v for k, v in row.items() if k is not None}
            if None in row:
                yield reader.line_num, "more fields than the header"
            else:
                yield reader.line_num, clean
    elif fmt == "jsonl":
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, f"not valid JSON ({exc.msg})"
    else:
        yield from _json_records(text)


def _json_records(text: str) -> Iterator[tuple[int, object]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RatingIOError(f"not valid JSON at line {exc.lineno}: {exc.msg}") from exc
    if isinstance(doc, dict):
        if not isinstance(doc.get("ratings"), list):
            raise RatingIOError("a JSON ratings file is a list, or an object with a 'ratings' list")
        start = re.search(r'"ratings"\s*:\s*\[', text)
        pos = start.end() if start else 0
    elif isinstance(doc, list):
        pos = text.index("[") + 1
    else:
        raise RatingIOError("a JSON ratings file is a list, or an object with a 'ratings' list")
    decoder = json.JSONDecoder()
    items = doc["ratings"] if isinstance(doc, dict) else doc
    for item in items:
        # Find where each element starts, for its line number (the text parsed cleanly above).
        while text[pos] in " \t\r\n,":
            pos += 1
        line = text.count("\n", 0, pos) + 1
        _, pos = decoder.raw_decode(text, pos)
        yield line, item


def _check_record(db: Database, record: object) -> tuple[str, float, bool] | str:
    """(hash, rating, known image) or the reason the row is broken."""
    if isinstance(record, str):
        return record
    if not isinstance(record, dict):
        return "expected an object with hash/path and rating"
    raw = record.get("rating", record.get("value"))
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return "no rating"
    try:
        value = parse_rating(raw.strip() if isinstance(raw, str) else raw)
    except RatingError as exc:
        return str(exc)
    content = str(record.get("hash") or "").strip().lower()
    path = str(record.get("path") or "").strip()
    if content:
        if not HASH_RE.match(content):
            return f"hash {content[:40]!r} is not a content hash (32 hex digits)"
        known = db.execute("SELECT 1 FROM images WHERE hash = ?", [content]).fetchone()
        return content, value, known is not None
    if not path:
        return "no hash and no path"
    found = hash_for_path(db, path)
    if found is None:
        return f"path not in the library: {path}"
    return found, value, True


def import_file(
    db: Database,
    path: Path,
    fmt: str | None = None,
    *,
    keep_existing: bool = False,
    source: str = "import",
) -> ImportReport:
    fmt = detect_format(path, fmt)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise RatingIOError(f"no such file: {path}") from None
    except UnicodeDecodeError:
        raise RatingIOError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise RatingIOError(f"cannot read {path}: {exc.strerror}") from exc
    report = ImportReport()
    good: dict[str, float] = {}
    for line, record in _records(text, fmt):
        report.rows += 1
        checked = _check_record(db, record)
        if isinstance(checked, str):
            report.errors.append((line, checked))
            continue
        content, value, known = checked
        report.not_in_library += 0 if known else 1
        good[content] = value  # a later row for the same image wins
    _apply(db, good, report, keep_existing=keep_existing, source=source)
    return report


def _apply(
    db: Database,
    values: dict[str, float],
    report: ImportReport,
    *,
    keep_existing: bool,
    source: str,
) -> None:
    existing = dict(db.execute("SELECT hash, value FROM ratings").fetchall())
    at = time.time()
    writes = []
    for content, value in values.items():
        old = existing.get(content)
        if old is None:
            report.added += 1
        elif abs(old - value) < 1e-9:
            report.unchanged += 1
            continue
        elif keep_existing:
            report.kept_existing += 1
            continue
        else:
            report.changed += 1
        writes.append((content, value))
    with db.transaction():
        db.conn.executemany(
            "INSERT INTO ratings(hash, value, updated) VALUES (?, ?, ?) ON CONFLICT(hash) "
            "DO UPDATE SET value=excluded.value, updated=excluded.updated",
            [(h, v, at) for h, v in writes],
        )
        db.conn.executemany(
            "INSERT INTO rating_history(hash, value, at, source) VALUES (?, ?, ?, ?)",
            [(h, v, at, source) for h, v in writes],
        )


# -- XMP sidecars ------------------------------------------------------------------------------
def _present_files(db: Database, rated_only: bool) -> list[tuple[str, str, float | None]]:
    join = "JOIN" if rated_only else "LEFT JOIN"
    return db.execute(
        f"SELECT f.path, f.hash, r.value FROM files f {join} ratings r ON r.hash = f.hash "
        "WHERE f.present = 1 ORDER BY f.path"
    ).fetchall()


def export_sidecars(
    db: Database,
    *,
    overwrite: bool = False,
    private: bool = False,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> SidecarReport:
    """Write xmp:Rating for every rated image present in the library (explicit command only)."""
    files = _present_files(db, rated_only=True)
    report, timer = SidecarReport(files=len(files)), Timer()
    shared = xmp.SharedNames()
    try:
        for done, (path, _, value) in enumerate(files, 1):
            check(cancel)
            assert value is not None  # rated_only
            try:
                _, changed = xmp.write_rating(
                    Path(fsnames.to_os(path)),
                    value,
                    overwrite=overwrite,
                    shared=shared,
                    private=private,
                )
            except xmp.XmpKept as exc:
                report.kept.append((path, str(exc)))
                continue
            except xmp.XmpError as exc:
                report.errors.append((path, str(exc)))
                continue
            if changed:
                report.written += 1
            else:
                report.unchanged += 1
            if progress:
                progress(Progress("xmp", done, len(files), elapsed=timer.elapsed, detail=path))
    except Cancelled:
        report.cancelled = True
    return report


def import_sidecars(
    db: Database,
    *,
    keep_existing: bool = False,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> tuple[SidecarReport, ImportReport]:
    """Read xmp:Rating from the sidecars of every present image; ratings land in one go."""
    files = _present_files(db, rated_only=False)
    report, timer = SidecarReport(files=len(files)), Timer()
    found: dict[str, float] = {}
    shared = xmp.SharedNames()
    try:
        for done, (path, content, _) in enumerate(files, 1):
            check(cancel)
            try:
                sidecar = xmp.find_sidecar(Path(fsnames.to_os(path)), shared)
                value = xmp.read_rating(sidecar) if sidecar is not None else None
            except (xmp.XmpError, ValueError, OverflowError, OSError) as exc:
                # One bad sidecar is one bad row: reported by file, the others still land.
                report.errors.append((path, str(exc)))
                continue
            if sidecar is not None:
                if value is None:
                    report.no_rating += 1
                else:
                    found[content] = value
                    report.imported += 1
            if progress:
                progress(Progress("xmp", done, len(files), elapsed=timer.elapsed, detail=path))
    except Cancelled:
        report.cancelled = True
    ratings_report = ImportReport(rows=len(found), cancelled=report.cancelled)
    if not report.cancelled:
        _apply(db, found, ratings_report, keep_existing=keep_existing, source="xmp")
    return report, ratings_report


def hash_for_path(db: Database, path: str | os.PathLike[str]) -> str | None:
    """The content hash of a present library file at path (as given, absolute, or resolved)."""
    raw = os.fspath(path)
    tries = [raw, os.path.abspath(os.path.expanduser(raw))]
    with contextlib.suppress(OSError, ValueError):
        tries.append(os.path.realpath(os.path.expanduser(raw)))
    for candidate in dict.fromkeys(fsnames.to_db(t) for t in tries):
        row = db.execute(
            "SELECT hash FROM files WHERE path = ? AND present = 1", [candidate]
        ).fetchone()
        if row:
            return str(row[0])
    return None
