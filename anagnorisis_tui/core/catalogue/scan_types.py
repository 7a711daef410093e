"""Plain data shared by the scan passes (scan.py, catalogue.py, pixels.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.errors import UserError

if TYPE_CHECKING:  # the decoders: only where the ingest pass runs
    from anagnorisis_tui.core.catalogue.ingest_derive import Products


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
    # The ingest pass's own summary; None when it did not run (no pixels asked, cancelled
    # before it). Not part of to_dict: the command line prints the scan's counts.
    ingest: IngestSummary | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "ingest"}
        out["stage_seconds"] = dict(self.stage_seconds)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScanSummary:
        """The summary `to_dict` gave (from another process); unknown keys are ignored."""
        known = {f.name for f in fields(cls)} - {"ingest"}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class IngestSummary:
    """What the ingest pass (core/catalogue/ingest_pass.py) did."""

    total: int = 0
    identified: int = 0
    phashed: int = 0
    thumbnails: int = 0
    embedded: int = 0
    failed: int = 0  # content that cannot be decoded (recorded)
    missing: int = 0  # file gone or changed since the catalogue pass: the next scan sees it
    model_id: str | None = None
    model_error: str | None = None  # the model could not be loaded: no vectors this pass
    seconds: float = 0.0
    cancelled: bool = False
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IngestSummary:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class ScanOptions:
    """How a scan runs beyond its root, progress and cancel (core/catalogue/scan.py)."""

    on_file: FileCallback | None = None  # each file's outcome (the command line's --json)
    # What the ingest pass derives from each new content's one decode besides its pixel
    # identity (perceptual hash, thumbnail, vector); None: the identity only.
    products: Products | None = None
    pixels: bool = True  # run the ingest pass at all
    batch_size: int = 2000  # files per catalogue transaction, at most...
    batch_seconds: float = 1.0  # ...or this many seconds of reading
    # Symbolic links are followed only into the root or these folders (the library's roots),
    # unless follow_links_outside (walk.py).
    links_into: Sequence[str] = ()
    follow_links_outside: bool = False


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

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileEvent:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


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


def chunks(items: Sequence[Any], size: int = 900) -> Iterable[Sequence[Any]]:
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
