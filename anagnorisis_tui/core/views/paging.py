"""Paged views of the catalogue: what the grids and `list` show, read page by page from SQLite.

A ViewSpec says which files (present ones under a root/folder scope, narrowed by filters, a text
concept and a semantic search) and in what order; `page` returns one page of ImageEntry rows.
Everything is decided in SQL: a page costs one ordered query over row ids plus one lookup of the
page's rows, never a walk over the library in Python. Search and concept scores come from TEMP
tables (core/views/text_scores.py) that the caller supplies through `scores`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import xxhash

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.views.filters import SQUARE_TOLERANCE, FilterError, Filters, check_sort


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
    rating: float | None = None  # the user's own rating
    score: float | None = None  # search score, else the text-concept score, where one applies
    predicted: float | None = None  # the active evaluator's prediction, where there is one
    concept: float | None = None  # cosine to the text concept, when a concept filter is on
    taken: float | None = None  # EXIF capture time (epoch s), None when the file has none
    taken_offset: int | None = None  # its UTC offset in minutes, when recorded

    @property
    def when(self) -> float:
        """When the photo was taken, else when the file was last modified (epoch seconds)."""
        return self.taken if self.taken is not None else self.mtime_ns / 1e9

    @property
    def effective_rating(self) -> float | None:
        return self.rating if self.rating is not None else self.predicted

    @property
    def os_path(self) -> str:
        """The path to open: `path` is catalogue text (see core/base/fsnames.py)."""
        return fsnames.to_os(self.path)


@dataclass(frozen=True)
class ViewSpec:
    root: str | None = None  # None: every library root
    folder: str | None = None  # relative to root; includes subfolders
    sort: str = "path"  # one of filters.SORT_KEYS
    descending: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # free for UI state; ignored by queries
    filters: Filters = field(default_factory=Filters)
    search: str | None = None  # semantic search text: only embedded images, scored
    search_cutoff: float | None = None  # drop search results scoring below this cosine
    seed: int = 0  # for sort="random": same seed, same order; reshuffle = new seed

    def __post_init__(self) -> None:
        check_sort(self.sort)
        if self.search is not None and not self.search.strip():
            raise FilterError("the search text is empty")
        if self.sort == "score" and self.search is None and self.filters.concept is None:
            raise FilterError("sorting by score needs a search or a text concept")


# Resolve a text (search or concept) to the name of a TEMP table (hash, score).
ScoreTables = Callable[[str], str]

_PREDICTION = (
    "LEFT JOIN predictions p ON p.hash = f.hash AND p.evaluator_id = "
    "(SELECT id FROM evaluators WHERE active = 1 ORDER BY created DESC LIMIT 1)"
)
_EFFECTIVE_RATING = "coalesce(r.value, p.value)"
# Capture time, else the file's mtime: every image has one, so the sort never puts any last.
_TAKEN = "coalesce(i.taken, f.mtime_ns / 1e9)"


def _sort_expr(spec: ViewSpec) -> str:
    return {
        "path": "f.path",
        "name": "f.name COLLATE NOCASE",
        "size": "f.size",
        "mtime": "f.mtime_ns",
        "taken": _TAKEN,
        "resolution": "(i.width * i.height)",
        "proportion": "(CAST(i.width AS REAL) / nullif(i.height, 0))",
        "random": "anag_shuffle(:seed, f.hash)",
        "rating": _EFFECTIVE_RATING,
        "score": "s.score" if spec.search is not None else "c.score",
    }[spec.sort]


def _shuffle(seed: int, content_hash: str) -> int:
    # A seeded 64-bit hash of the content hash: a fresh order per seed that stays put while the
    # seed does (and across rescans and machines). Shifted to stay a positive SQLite INTEGER.
    return xxhash.xxh3_64_intdigest(content_hash.encode(), seed) >> 1


# Sort keys that are never NULL: no "unknown last" term, so SQLite can walk an index.
_NOT_NULL = {"path", "name", "size", "mtime", "random", "taken"}


def _sql(spec: ViewSpec, scores: ScoreTables | None) -> tuple[str, str, dict[str, object]]:
    """(FROM ... JOINs, WHERE, named params) for the spec."""
    flt = spec.filters
    params: dict[str, object] = {"seed": int(spec.seed) & 0xFFFFFFFFFFFFFFFF}
    joins = ["files f"]
    if spec.sort in ("resolution", "proportion", "taken") or any(
        v is not None
        for v in (
            flt.min_megapixels,
            flt.max_megapixels,
            flt.min_ratio,
            flt.max_ratio,
            flt.shape,
            flt.min_taken,
            flt.max_taken,
        )
    ):
        joins.append("JOIN images i ON i.hash = f.hash")
    # "+" keeps SQLite off the (unselective) present index so a path sort can walk the
    # primary key in order and stop after one page.
    where = ["+f.present = 1"]
    if spec.root is not None:
        where.append("f.root = :root")
        params["root"] = spec.root
    if spec.folder:
        where.append("(f.folder = :folder OR f.folder LIKE :folder_like ESCAPE '\\')")
        escaped = spec.folder.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["folder"] = spec.folder
        params["folder_like"] = escaped + "/%"
    needs_rating = spec.sort == "rating" or flt.min_rating is not None or flt.max_rating is not None
    if needs_rating:
        joins += ["LEFT JOIN ratings r ON r.hash = f.hash", _PREDICTION]
    if (spec.search is not None or flt.concept is not None) and scores is None:
        raise FilterError(
            "a search or text concept needs the embedding model (ask lib.views, not paging)"
        )
    if spec.search is not None and scores is not None:
        # Inner join: images without a vector cannot be ranked, so a search leaves them out.
        joins.append(f"JOIN temp.{scores(spec.search)} s ON s.hash = f.hash")
        if spec.search_cutoff is not None:
            where.append("s.score >= :cutoff")
            params["cutoff"] = float(spec.search_cutoff)
    if flt.concept is not None and scores is not None:
        joins.append(f"JOIN temp.{scores(flt.concept.text)} c ON c.hash = f.hash")
        where.append("c.score < :threshold" if flt.concept.exclude else "c.score >= :threshold")
        params["threshold"] = float(flt.concept.threshold)

    def bound(column: str, op: str, key: str, value: object) -> None:
        if value is not None:
            where.append(f"{column} {op} :{key}")
            params[key] = value

    mp = "(i.width * i.height)"
    bound(mp, ">=", "min_px", None if flt.min_megapixels is None else flt.min_megapixels * 1e6)
    bound(mp, "<=", "max_px", None if flt.max_megapixels is None else flt.max_megapixels * 1e6)
    if flt.min_ratio is not None:
        where.append("CAST(i.width AS REAL) >= :min_ratio * i.height")
        params["min_ratio"] = flt.min_ratio
    if flt.max_ratio is not None:
        where.append("CAST(i.width AS REAL) <= :max_ratio * i.height")
        params["max_ratio"] = flt.max_ratio
    if flt.shape is not None:
        where.append(_SHAPE_SQL[flt.shape])
        params["tol"] = SQUARE_TOLERANCE
    bound("f.size", ">=", "min_bytes", flt.min_bytes)
    bound("f.size", "<=", "max_bytes", flt.max_bytes)
    bound(_EFFECTIVE_RATING, ">=", "min_rating", flt.min_rating)
    bound(_EFFECTIVE_RATING, "<=", "max_rating", flt.max_rating)
    bound(_TAKEN, ">=", "min_taken", flt.min_taken)
    bound(_TAKEN, "<=", "max_taken", flt.max_taken)
    return " ".join(joins), " AND ".join(where), params


_SHAPE_SQL = {
    "landscape": "CAST(i.width AS REAL) > :tol * i.height",
    "portrait": "CAST(i.height AS REAL) > :tol * i.width",
    "square": "CAST(i.width AS REAL) <= :tol * i.height AND CAST(i.height AS REAL) <= :tol * i.width",
    "panorama": "i.width >= 2 * i.height",
    "tall": "i.height >= 2 * i.width",
}


def count(db: Database, spec: ViewSpec, *, scores: ScoreTables | None = None) -> int:
    joins, where, params = _sql(spec, scores)
    return int(db.execute(f"SELECT count(*) FROM {joins} WHERE {where}", params).fetchone()[0])


def page(
    db: Database,
    spec: ViewSpec,
    offset: int,
    limit: int,
    *,
    scores: ScoreTables | None = None,
) -> list[ImageEntry]:
    if offset < 0 or limit < 0:
        raise FilterError(f"offset and limit must not be negative ({offset}, {limit})")
    joins, where, params = _sql(spec, scores)
    expr = _sort_expr(spec)
    direction = " DESC" if spec.descending else ""
    # Unknown values (no rating, no size in pixels) sort last in both directions; the path
    # breaks ties so pages never overlap or skip rows.
    if spec.sort == "random":
        db.conn.create_function("anag_shuffle", 2, _shuffle, deterministic=True)
    order = f"{expr}{direction}, f.path"
    if spec.sort not in _NOT_NULL:
        order = f"({expr}) IS NULL, " + order
    paths = [
        row[0]
        for row in db.execute(
            f"SELECT f.path FROM {joins} WHERE {where} ORDER BY {order} LIMIT :limit OFFSET :offset",
            {**params, "limit": int(limit), "offset": int(offset)},
        ).fetchall()
    ]
    if not paths:
        return []
    return _details(db, spec, paths, scores)


def entry(db: Database, path: str) -> ImageEntry | None:
    """The present file at `path` (catalogue text), or None."""
    if not db.execute("SELECT 1 FROM files WHERE path = ? AND present = 1", [path]).fetchone():
        return None
    found = _details(db, ViewSpec(), [path], None)
    return found[0] if found else None


def _details(
    db: Database, spec: ViewSpec, paths: list[str], scores: ScoreTables | None
) -> list[ImageEntry]:
    joins = [
        "files f JOIN images i ON i.hash = f.hash",
        "LEFT JOIN ratings r ON r.hash = f.hash",
        _PREDICTION,
    ]
    search_col = concept_col = "NULL"
    if spec.search is not None and scores is not None:
        joins.append(f"LEFT JOIN temp.{scores(spec.search)} s ON s.hash = f.hash")
        search_col = "s.score"
    if spec.filters.concept is not None and scores is not None:
        joins.append(f"LEFT JOIN temp.{scores(spec.filters.concept.text)} c ON c.hash = f.hash")
        concept_col = "c.score"
    marks = ",".join("?" * len(paths))
    rows = db.execute(
        "SELECT f.path, f.hash, f.name, f.folder, f.root, f.size, i.width, i.height, i.format, "
        f"f.mtime_ns, r.value, coalesce({search_col}, {concept_col}), p.value, {concept_col}, "
        "i.taken, i.taken_offset "
        f"FROM {' '.join(joins)} WHERE f.path IN ({marks})",
        paths,
    ).fetchall()
    by_path = {row[0]: ImageEntry(*row) for row in rows}
    return [by_path[p] for p in paths if p in by_path]
