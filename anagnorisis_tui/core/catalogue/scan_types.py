"""Plain data shared by the scan passes (scan.py, catalogue.py, pixels.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.errors import UserError


class ScanError(UserError, ValueError):
    """The scan cannot start (missing root, not a folder); the message says why."""


@dataclass
class ScanSummary:
    root: str = ""
    files: int = 0  # image files present under the root after this scan (not counting bad ones)
    new: int = 0  # new paths with content never seen before
    changed: int = 0  # known paths whose content changed
    unchanged: int = 0  # not reopened (or reopened after a touch, same content)
    moved: int = 0  # new paths whose content was already known: moves, renames, copies
    vanished: int = 0  # known paths no longer there (marked absent, nothing deleted)
    errors: int = 0  # bad files under the root (new ones and unchanged ones not retried)
    links_outside: int = 0  # symbolic links to outside every library root: not followed
    bytes: int = 0  # bytes read in the catalogue pass
    seconds: float = 0.0
    cancelled: bool = False
    pixel_hashed: int = 0  # contents decoded for their pixel hash in this scan
    pixel_matched: int = 0  # new contents whose pixels equal known content (rating carried)
    resumed: bool = False  # the previous scan of this root was interrupted
    scan_id: int = 0
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FileEvent:
    """One file's outcome, for --json output: status new/changed/moved/unchanged/error."""

    path: str  # catalogue text (see fsnames)
    status: str
    hash: str | None = None
    width: int | None = None
    height: int | None = None
    size: int | None = None
    format: str | None = None
    frames: int | None = None
    mtime_ns: int | None = None
    reason: str | None = None


FileCallback = Callable[[FileEvent], None]


def normalise_root(root: str | os.PathLike[str]) -> str:
    """Absolute OS path of a library folder; ScanError if it is missing or not a folder."""
    path = os.path.abspath(os.path.expanduser(os.fspath(root)))
    if not os.path.exists(path):
        raise ScanError(f"library folder not found: {fsnames.display(fsnames.to_db(path))}")
    if not os.path.isdir(path):
        raise ScanError(f"not a folder: {fsnames.display(fsnames.to_db(path))}")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ScanError(f"cannot read the folder: {fsnames.display(fsnames.to_db(path))}")
    return path


def prefix_range(root_db: str) -> tuple[str, str]:
    """[lo, hi) bounds of every path under root_db, for the files primary-key index."""
    base = root_db.rstrip("/")
    return base + "/", base + "0"  # '0' sorts right after '/'


def chunks(items: Sequence, size: int = 900) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def known_hashes(db: Database, hashes: Iterable[str]) -> set[str]:
    wanted = list(set(hashes))
    found: set[str] = set()
    for chunk in chunks(wanted):
        marks = ",".join("?" * len(chunk))
        found.update(
            r[0] for r in db.execute(f"SELECT hash FROM images WHERE hash IN ({marks})", chunk)
        )
    return found
