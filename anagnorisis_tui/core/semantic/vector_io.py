"""Vectors in and out of a library: one file keyed by content hash, for one model id.

The plan for a library that outgrows the NAS CPU: embed it on a desktop with a GPU (same model
and weights), `vectors export` there, `vectors import` on the NAS. Content hashes do not depend
on paths, so the two machines may mount the photos anywhere; vectors of images the NAS has not
scanned yet are kept and used once it does.

The file is a small SQLite database (self-describing, written to a temporary name and renamed,
readable with any SQLite tool): `meta` (format, model id, dim, dtype, model info) and `vectors`
(hash, little-endian float blob). Numpy and SQLite only: no torch.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from anagnorisis_tui.core.base import fsnames, private
from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.errors import UserError
from anagnorisis_tui.core.semantic import vectors

FORMAT = 1
_CHUNK = 5000


class VectorFileError(UserError, ValueError):
    """A vectors file that cannot be written or used here; the message says why and what to do."""


@dataclass
class ImportSummary:
    model_id: str
    imported: int = 0  # new vectors stored
    already: int = 0  # hashes that had a vector for this model here (kept as they were)
    in_library: int = 0  # imported vectors whose image is present in this library
    errors_cleared: int = 0  # images this machine could not embed that now have a vector
    bad: int = 0  # malformed rows skipped: not a content hash, wrong length, NaN/inf, all zero


def export_file(
    db: Database, model_id: str, path: str | os.PathLike[str], *, private_file: bool = False
) -> int:
    """Write every vector of `model_id` to `path` (replaced atomically); returns the count."""
    spec = vectors.model_spec(db, model_id)
    count = 0
    if spec is not None:
        count = db.execute(
            "SELECT count(*) FROM vectors WHERE model_id = ?", [model_id]
        ).fetchone()[0]
    if not count:
        raise VectorFileError(
            f"this library has no vectors for {model_id}: run `anagnorisis-tui embed` first, or "
            "choose the model they were made with (--model/--pretrained)"
        )
    assert spec is not None
    dim, dtype = spec
    info = db.execute("SELECT info FROM embed_models WHERE model_id = ?", [model_id]).fetchone()[0]
    target = Path(path)
    try:
        private.refuse_link(target)
        # A fresh temporary beside the target (mkstemp: O_EXCL|O_NOFOLLOW, a name nobody can
        # plant in advance), renamed over it: never written through a link.
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name[:40]}.", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise VectorFileError(f"cannot write {target}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        out = sqlite3.connect(tmp)
        with out:
            out.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            out.execute("CREATE TABLE vectors(hash TEXT PRIMARY KEY, vector BLOB NOT NULL)")
            meta = {
                "format": str(FORMAT),
                "model_id": model_id,
                "dim": str(dim),
                "dtype": dtype,
                "info": info or "{}",
                "count": str(count),
                "exported_at": str(time.time()),
            }
            out.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))
            rows = db.execute(
                "SELECT hash, vector FROM vectors WHERE model_id = ? ORDER BY hash", [model_id]
            )
            while chunk := rows.fetchmany(_CHUNK):
                out.executemany("INSERT INTO vectors VALUES (?, ?)", chunk)
        out.close()
        os.chmod(tmp, private.FILE_MODE if private_file else private.user_file_mode())
        private.refuse_link(target)
        os.replace(tmp, target)
    except (OSError, sqlite3.Error) as exc:
        tmp.unlink(missing_ok=True)
        raise VectorFileError(f"cannot write {target}: {exc}") from None
    return int(count)


# What a vectors file holds, and nothing else (an index SQLite makes for a primary key aside).
_TABLES = {"meta": ["key", "value"], "vectors": ["hash", "vector"]}
_HASH = re.compile(r"[0-9a-f]{32}")
MAX_DIM = 16384
# Reading a file is bounded: SQLite stops a statement running past this many seconds (plus one
# per 20 MB of file), so a crafted file cannot hang the import.
TIME_LIMIT_S = 30.0


@dataclass
class _Source:
    path: Path
    con: sqlite3.Connection
    meta: dict[str, str]
    model_id: str
    dim: int
    dtype: str
    info: dict[str, Any]


def _open(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """The file opened read-only (immutable: no journal read or written, no lock taken), with
    its schema's code never trusted and every statement's time bounded."""
    source = Path(path)
    try:
        st = os.stat(source)
    except FileNotFoundError:
        raise VectorFileError(f"{source} not found") from None
    except OSError as exc:
        raise VectorFileError(f"{source}: cannot read it: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise VectorFileError(f"{source} is not a regular file")
    uri = "file:" + urllib.parse.quote(os.path.abspath(source)) + "?mode=ro&immutable=1"
    try:
        con = sqlite3.connect(uri, uri=True)
        con.execute("PRAGMA trusted_schema=OFF")
        con.execute("PRAGMA query_only=ON")
    except sqlite3.Error:
        raise VectorFileError(_not_a_vectors_file(source)) from None
    deadline = time.monotonic() + TIME_LIMIT_S + st.st_size / 20e6
    con.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    return con


def _too_slow(exc: sqlite3.Error, source: Path) -> VectorFileError | None:
    if "interrupted" in str(exc):
        return VectorFileError(f"reading {source} took longer than the import allows: not imported")
    return None


def _not_a_vectors_file(source: Path) -> str:
    return f"{source} is not a vectors file (make one with `anagnorisis-tui vectors export`)"


def _check_schema(con: sqlite3.Connection, source: Path) -> None:
    """Refuse anything but the two documented tables: a view, a trigger, a virtual table or
    an extra table in an imported file could run code or queries of the file's choosing."""
    try:
        rows = con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    except sqlite3.Error as exc:
        raise _too_slow(exc, source) or VectorFileError(_not_a_vectors_file(source)) from None
    for kind, name, table, sql in rows:
        own_index = kind == "index" and sql is None and table in _TABLES
        plain_table = kind == "table" and name in _TABLES and "VIRTUAL" not in str(sql).upper()[:40]
        if not (own_index or plain_table):
            raise VectorFileError(
                f"{source} holds a {kind} {fsnames.display(str(name))[:60]!r}, which a vectors "
                "file never has: not imported"
            )
    for table, columns in _TABLES.items():
        try:
            have = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
        except sqlite3.Error:
            have = []
        if have != columns:
            raise VectorFileError(_not_a_vectors_file(source))


def _field(meta: dict[str, Any], key: str, source: Path) -> str:
    value = meta.get(key)
    if not isinstance(value, str) or not value.strip():
        raise VectorFileError(f"{source}: the field {key!r} is missing or empty")
    return value


def _read_source(path: str | os.PathLike[str]) -> _Source:
    source = Path(path)
    con = _open(source)
    try:
        _check_schema(con, source)
        try:
            raw = con.execute("SELECT key, value FROM meta LIMIT 1000").fetchall()
        except sqlite3.Error as exc:
            raise _too_slow(exc, source) or VectorFileError(
                f"cannot read {source}: {exc}"
            ) from None
        meta = {k: v for k, v in raw if isinstance(k, str)}
        if meta.get("format") != str(FORMAT) or "model_id" not in meta:
            shown = fsnames.display(str(meta.get("format")))[:20]
            raise VectorFileError(
                f"{source} is a vectors file of an unknown format ({shown!r}); "
                "export it again with this version of anagnorisis-tui"
            )
        model_id = _field(meta, "model_id", source)
        dim_text = _field(meta, "dim", source)
        if not dim_text.isdigit() or not 1 <= int(dim_text) <= MAX_DIM:
            raise VectorFileError(
                f"{source}: dim {fsnames.display(dim_text)[:20]!r} is not a vector length "
                f"(1 to {MAX_DIM})"
            )
        dtype = _field(meta, "dtype", source)
        if dtype not in ("float16", "float32"):
            raise VectorFileError(
                f"{source}: unknown vector dtype {fsnames.display(dtype)[:20]!r} "
                "(float16 or float32)"
            )
        try:
            info = json.loads(meta.get("info") or "{}")
        except ValueError:
            info = None
        if not isinstance(info, dict):
            raise VectorFileError(f"{source}: the field 'info' is not a JSON object")
        return _Source(source, con, meta, model_id, int(dim_text), dtype, info)
    except BaseException:
        con.close()
        raise


def read_meta(path: str | os.PathLike[str]) -> dict[str, str]:
    """The file's header, checked; VectorFileError when it is not a vectors file of a known
    format, holds more than its two tables, or a field is missing or malformed."""
    src = _read_source(path)
    src.con.close()
    return src.meta


@dataclass
class _Checked:
    hashes: list[str]
    matrix: np.ndarray | None
    bad: int


def _check_rows(chunk: list[tuple[Any, Any]], dim: int, np_dtype: np.dtype) -> _Checked:
    """The rows of a chunk that are well formed: a content hash, a blob of exactly `dim`
    values, every one finite, not all zero. The others are counted."""
    size = dim * np_dtype.itemsize
    ok = [
        (h, b)
        for h, b in chunk
        if isinstance(h, str) and _HASH.fullmatch(h) and isinstance(b, bytes) and len(b) == size
    ]
    bad = len(chunk) - len(ok)
    if not ok:
        return _Checked([], None, bad)
    matrix = np.frombuffer(b"".join(b for _, b in ok), dtype=np_dtype).reshape(len(ok), dim)
    matrix = matrix.astype(np.float32)
    with np.errstate(all="ignore"):
        good = np.isfinite(matrix).all(axis=1) & (np.abs(matrix).max(axis=1) > 0)
    bad += int((~good).sum())
    return _Checked([h for (h, _), g in zip(ok, good, strict=True) if g], matrix[good], bad)


def import_file(
    db: Database,
    path: str | os.PathLike[str],
    model_id: str,
    *,
    expected_dim: int | None = None,
) -> ImportSummary:
    """Add the file's vectors to this library for `model_id`, which must be the file's model.

    Every field is checked before anything is written, and every vector before its row is;
    malformed vectors are skipped and counted (`bad`). The rows land in one transaction: a
    file that turns out unreadable half-way (or takes too long) leaves the library unchanged.
    Vectors this library already has are kept; images recorded as impossible to embed here
    lose that note when the file brings their vector. The vector length must be the one the
    library's stored vectors of the model have, and `expected_dim` (what this machine's model
    makes, when known) when given.
    """
    src = _read_source(path)
    try:
        if expected_dim is not None and src.dim != expected_dim:
            raise VectorFileError(
                f"{src.path} has {src.dim}-d vectors but {model_id} makes {expected_dim}-d "
                "vectors here: not imported"
            )
        return _import(db, src, model_id)
    finally:
        src.con.close()


def _import(db: Database, src: _Source, model_id: str) -> ImportSummary:
    path, dim, dtype = src.path, src.dim, src.dtype
    if src.model_id != model_id:
        raise VectorFileError(
            f"{path} holds vectors for {fsnames.display(src.model_id)[:120]}, but this library "
            f"uses {model_id}: "
            "vectors of different models cannot be mixed. Choose the same model and weights "
            "on both machines (--model/--pretrained, or the settings' [model]; a local weights "
            "file must keep its file name), or export again from a library that uses "
            f"{model_id}"
        )
    spec = vectors.model_spec(db, model_id)
    if spec is not None and spec[0] != dim:
        raise VectorFileError(
            f"{path} has {dim}-d vectors but this library's {model_id} vectors have {spec[0]}"
        )
    summary = ImportSummary(model_id)
    np_dtype = np.dtype("<f2" if dtype == "float16" else "<f4")
    try:
        with db.transaction():
            rows = src.con.execute("SELECT hash, vector FROM vectors ORDER BY hash")
            while chunk := rows.fetchmany(_CHUNK):
                checked = _check_rows(chunk, dim, np_dtype)
                summary.bad += checked.bad
                if checked.matrix is None or not checked.hashes:
                    continue
                if spec is None:  # registered with the first good vector, not before
                    vectors.register_model(db, model_id, dim, dtype=dtype, info=src.info)
                    spec = (dim, dtype)
                have = set(vectors.load_vectors(db, model_id, checked.hashes)[0])
                keep = [i for i, h in enumerate(checked.hashes) if h not in have]
                summary.already += len(checked.hashes) - len(keep)
                if not keep:
                    continue
                new_hashes = [checked.hashes[i] for i in keep]
                vectors.put_vectors(db, model_id, new_hashes, checked.matrix[keep])
                summary.imported += len(new_hashes)
                summary.in_library += _present(db, new_hashes)
                summary.errors_cleared += _clear_errors(db, model_id, new_hashes)
    except sqlite3.Error as exc:
        raise _too_slow(exc, path) or VectorFileError(f"cannot read {path}: {exc}") from None
    return summary


def _present(db: Database, hashes: list[str]) -> int:
    found = 0
    for start in range(0, len(hashes), 900):
        chunk = hashes[start : start + 900]
        marks = ",".join("?" * len(chunk))
        found += db.execute(
            f"SELECT count(DISTINCT hash) FROM files WHERE present = 1 AND hash IN ({marks})", chunk
        ).fetchone()[0]
    return int(found)


def _clear_errors(db: Database, model_id: str, hashes: list[str]) -> int:
    cleared = 0
    with db.transaction():
        for start in range(0, len(hashes), 900):
            chunk = hashes[start : start + 900]
            marks = ",".join("?" * len(chunk))
            cur = db.execute(
                f"DELETE FROM embed_errors WHERE model_id = ? AND hash IN ({marks})",
                [model_id, *chunk],
            )
            cleared += cur.rowcount
    return cleared
