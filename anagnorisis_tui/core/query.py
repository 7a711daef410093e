"""Paged views of the catalogue: what the grids and `list` show, read page by page from SQLite.

A ViewSpec says which files (present ones under a root/folder scope, later narrowed by filters)
and in what order; `page` returns one page of ImageEntry rows without loading the library.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlite_utils

from anagnorisis_tui.core import fsnames


@dataclass(frozen=True)
class ImageEntry:
    path: str
    hash: str
    name: str
    folder: str
    root: str
    size: int
    width: int | None
    height: int | None
    format: str | None
    mtime_ns: int
    rating: float | None = None
    score: float | None = None  # search/filter score where one applies

    @property
    def os_path(self) -> str:
        """The path to open: `path` is catalogue text (see core/fsnames.py)."""
        return fsnames.to_os(self.path)


@dataclass(frozen=True)
class ViewSpec:
    root: str | None = None  # None: every library root
    folder: str | None = None  # relative to root; includes subfolders
    sort: str = "path"
    descending: bool = False
    extra: dict = field(default_factory=dict)  # reserved for filters


_SORTS = {
    "path": "f.path",
    "name": "f.name",
    "size": "f.size",
    "mtime": "f.mtime_ns",
}

_COLUMNS = (
    "f.path, f.hash, f.name, f.folder, f.root, f.size, i.width, i.height, i.format, "
    "f.mtime_ns, r.value"
)


def _where(spec: ViewSpec) -> tuple[str, list[object]]:
    clauses = ["f.present = 1"]
    params: list[object] = []
    if spec.root is not None:
        clauses.append("f.root = ?")
        params.append(spec.root)
    if spec.folder:
        clauses.append("(f.folder = ? OR f.folder LIKE ? ESCAPE '\\')")
        escaped = spec.folder.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params += [spec.folder, escaped + "/%"]
    return " AND ".join(clauses), params


def count(db: sqlite_utils.Database, spec: ViewSpec) -> int:
    where, params = _where(spec)
    return db.execute(f"SELECT count(*) FROM files f WHERE {where}", params).fetchone()[0]


def page(db: sqlite_utils.Database, spec: ViewSpec, offset: int, limit: int) -> list[ImageEntry]:
    if spec.sort not in _SORTS:
        raise ValueError(f"unknown sort key {spec.sort!r}; choose one of {', '.join(_SORTS)}")
    where, params = _where(spec)
    order = _SORTS[spec.sort] + (" DESC" if spec.descending else "")
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM files f JOIN images i ON i.hash = f.hash "
        f"LEFT JOIN ratings r ON r.hash = f.hash WHERE {where} "
        f"ORDER BY {order}, f.path LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    return [ImageEntry(*row) for row in rows]


def entry(db: sqlite_utils.Database, path: str) -> ImageEntry | None:
    """The present file at `path` (catalogue text), or None."""
    row = db.execute(
        f"SELECT {_COLUMNS} FROM files f JOIN images i ON i.hash = f.hash "
        "LEFT JOIN ratings r ON r.hash = f.hash WHERE f.path = ? AND f.present = 1",
        [path],
    ).fetchone()
    return ImageEntry(*row) if row else None
