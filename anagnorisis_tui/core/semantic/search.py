"""Semantic search: a small query language, query vectors, and ranked hits from the index.

Query language (whitespace-separated; quotes group words):

    beach sunset            one text term: adjacent plain words form one phrase
    dog +cat                two positive terms ("+" starts a new term)
    -people                 a negative term: pushes matching images down
    2:golden  0.5:"blue sky"   a weighted term (weight > 0; "-2:people" is a weighted negative)
    ./holiday/a.jpg  ~/b.png   an image as a term ("more like this"): a path that starts with
                            /, ./, ../ or ~/, or that ends in an image extension

The query vector is the weighted sum of the terms' unit vectors (negatives subtracted); an
image's score is its cosine with that vector. Only this module and Library know about terms.
"""

from __future__ import annotations

import os
import re
import shlex
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.errors import UserError
from anagnorisis_tui.core.semantic import index, vectors

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".heic")
_WEIGHT = re.compile(r"^(?P<sign>[-+]?)(?:(?P<w>\d+(?:\.\d+)?|\.\d+):)?(?P<body>.*)$", re.S)


class QueryError(UserError, ValueError):
    """A query that cannot be run; the message says why, for the user."""


class NoVector(QueryError, LookupError):
    """The image has no vector for the model yet (embedding has not reached it)."""


@dataclass(frozen=True)
class Term:
    kind: str  # "text" or "image"
    value: str  # the text, or the image's absolute path
    weight: float  # negative for negative terms


@dataclass(frozen=True)
class SearchHit:
    hash: str
    path: str  # catalogue text of one present copy (fsnames.to_os() to open it)
    score: float


def _is_path(token: str) -> bool:
    return token.startswith(("/", "./", "../", "~/")) or token.lower().endswith(IMAGE_EXTS)


def parse(query: str, *, cwd: str | os.PathLike[str] | None = None) -> list[Term]:
    """Terms of a query; raises QueryError for an empty query, only negative terms, a bad
    weight, or an image path that does not exist."""
    if not query or not query.strip():
        raise QueryError("empty query: type some words, e.g. `dog on a beach`")
    try:
        tokens = shlex.split(query, posix=True)
    except ValueError:
        tokens = query.replace('"', " ").split()  # an unmatched quote: search the words anyway
    terms: list[Term] = []
    phrase: list[str] = []

    def close_phrase() -> None:
        if phrase:
            terms.append(Term("text", " ".join(phrase), 1.0))
            phrase.clear()

    for token in tokens:
        m = _WEIGHT.match(token)
        assert m is not None
        sign, weight_text, body = m["sign"], m["w"], m["body"].strip()
        if not sign and not weight_text and not _is_path(body):
            phrase.append(body)
            continue
        close_phrase()
        if not body:
            continue  # a lone "-" or "2:"
        weight = float(weight_text) if weight_text else 1.0
        if weight <= 0:
            raise QueryError(f"weight must be above 0 in {token!r}")
        weight = -weight if sign == "-" else weight
        if _is_path(body):
            path = Path(os.path.expanduser(body))
            if not path.is_absolute():
                path = Path(cwd or os.getcwd()) / path
            if not path.is_file():
                raise QueryError(f"image {body} does not exist")
            terms.append(Term("image", os.path.abspath(path), weight))
        else:
            terms.append(Term("text", body, weight))
    close_phrase()
    if not terms:
        raise QueryError("empty query: type some words, e.g. `dog on a beach`")
    if not any(t.weight > 0 for t in terms):
        raise QueryError(
            "the query has only negative terms; add what you want to see, e.g. `beach -people`"
        )
    return terms


def needs_exact(terms: list[Term]) -> bool:
    """True when a query must be scored exactly, not through the index: any text term.

    A text vector sits across CLIP's modality gap from every image vector, where an index
    tuned on image-like queries finds few of the true best (BENCHMARKS.md: 0-3 of 10 at
    100,000); exact search over the memory-mapped matrix is fast enough at any library size a
    NAS holds. Image-only queries ("more like this") stay near the data and may use the index.
    """
    return any(t.kind == "text" for t in terms)


def combine(term_vectors: list[tuple[float, np.ndarray]]) -> np.ndarray:
    """Weighted sum of unit vectors, normalised (scores are cosines with it)."""
    total = sum(w * vectors.normalise(v[None])[0] for w, v in term_vectors)
    norm = float(np.linalg.norm(total))
    if norm < 1e-6:
        raise QueryError("the positive and negative terms cancel out; change the weights")
    return np.asarray((total / norm).astype(np.float32))


class Searcher:
    """Ranked (hash, score) for one model: index snapshot + exact delta, cached per process.

    Thread-safe; reopens the snapshot when a new build is published and reloads the exact part
    when vectors were added (checked by the vectors table's max rowid: one cheap query).
    """

    def __init__(self, data_dir: Path, model_id: str) -> None:
        self.data_dir = Path(data_dir)
        self.model_id = model_id
        self._lock = threading.Lock()
        self._snapshot: index.Snapshot | None = None
        self._pointer_mtime: float | None = None
        self._seen_rowid = -1
        self._delta: tuple[list[str], np.ndarray] = ([], np.zeros((0, 0), np.float32))

    def _refresh(self, db: Database, dim: int) -> None:
        pointer = index.index_dir(self.data_dir, self.model_id) / "current.json"
        try:
            mtime = pointer.stat().st_mtime_ns
        except OSError:
            mtime = None
        if mtime != self._pointer_mtime:
            if self._snapshot is not None:
                self._snapshot.close()
            self._snapshot = index.open_snapshot(self.data_dir, self.model_id, dim)
            self._pointer_mtime = mtime
            self._seen_rowid = -1
        top = index.max_rowid(db)
        if top != self._seen_rowid:
            after = self._snapshot.max_rowid if self._snapshot else 0
            self._delta = index.delta(db, self.model_id, after)
            self._seen_rowid = top

    @property
    def snapshot(self) -> index.Snapshot | None:
        return self._snapshot

    def ranked(
        self, db: Database, query: np.ndarray, k: int | None, *, exact: bool = False
    ) -> list[tuple[str, float]]:
        """Top-k (all when k is None) content hashes by cosine with `query`, best first;
        `exact` scores every vector (text queries: see needs_exact), else the index may
        answer."""
        spec = vectors.model_spec(db, self.model_id)
        if spec is None:
            return []
        with self._lock:
            self._refresh(db, spec[0])
            snap, (dhashes, dmatrix) = self._snapshot, self._delta
        found: dict[str, float] = {}
        if dhashes:
            # Exact, and newer than the build: these scores win over the index's.
            for h, s in index.exact_top(dmatrix, dhashes, query, k or len(dhashes)):
                found[h] = s
        if snap is not None:
            want = snap.count if k is None else k
            for h, s in snap.search(query, want, exact=exact or k is None):
                found.setdefault(h, s)
        ranked = sorted(found.items(), key=lambda item: -item[1])
        return ranked if k is None else ranked[:k]

    def close(self) -> None:
        with self._lock:
            if self._snapshot is not None:
                self._snapshot.close()
                self._snapshot = None


def present_paths(db: Database, hashes: list[str]) -> dict[str, str]:
    """{hash: one present path} (the first by path order) for the hashes that have one."""
    out: dict[str, str] = {}
    for start in range(0, len(hashes), 900):
        chunk = hashes[start : start + 900]
        marks = ",".join("?" * len(chunk))
        for h, path in db.execute(
            # `+present`: look the hashes up by files_hash; the planner, without statistics,
            # would otherwise walk every present file (files_present) for ten hashes
            f"SELECT hash, min(path) FROM files WHERE +present = 1 AND hash IN ({marks}) "
            "GROUP BY hash",
            chunk,
        ).fetchall():
            out[h] = path
    return out


def hits(
    db: Database,
    searcher: Searcher,
    query: np.ndarray,
    *,
    top_k: int,
    cutoff: float | None = None,
    exclude: set[str] | None = None,
    exact: bool = False,
) -> list[SearchHit]:
    """Top-k present images for a query vector; over-fetches when hashes have no present file."""
    want = top_k + len(exclude or ())
    while True:
        raw = searcher.ranked(db, query, want, exact=exact)
        # Nothing more to fetch: fewer than asked, or the tail is already below the cutoff.
        exhausted = len(raw) < want or (cutoff is not None and bool(raw) and raw[-1][1] < cutoff)
        ranked = [
            (h, s)
            for h, s in raw
            if (cutoff is None or s >= cutoff) and (not exclude or h not in exclude)
        ]
        paths = present_paths(db, [h for h, _ in ranked])
        out = [SearchHit(h, paths[h], s) for h, s in ranked if h in paths]
        if len(out) >= top_k or exhausted or want > 1_000_000:
            return out[:top_k]
        want *= 4


def image_hash_for(db: Database, path: str | os.PathLike[str]) -> str:
    """Content hash of an image file: from the catalogue when it is a present file there."""
    from anagnorisis_tui.core.base.hashing import content_hash_file

    text = fsnames.to_db(os.path.abspath(path))
    row = db.execute("SELECT hash FROM files WHERE path = ? AND present = 1", [text]).fetchone()
    if row:
        return str(row[0])
    try:
        return content_hash_file(path)[0]
    except OSError as exc:
        raise QueryError(f"cannot read image {path}: {exc.strerror or exc}") from exc
