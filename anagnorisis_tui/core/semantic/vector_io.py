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
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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


def export_file(db: Database, model_id: str, path: str | os.PathLike[str]) -> int:
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
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
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
        os.replace(tmp, target)
    except (OSError, sqlite3.Error) as exc:
        tmp.unlink(missing_ok=True)
        raise VectorFileError(f"cannot write {target}: {exc}") from None
    return int(count)


def read_meta(path: str | os.PathLike[str]) -> dict[str, str]:
    """The file's header; VectorFileError when it is not a vectors file of a known format."""
    source = Path(path)
    if not source.is_file():
        raise VectorFileError(f"{source} not found")
    try:
        con = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        finally:
            con.close()
    except sqlite3.Error:
        raise VectorFileError(
            f"{source} is not a vectors file (make one with `anagnorisis-tui vectors export`)"
        ) from None
    if meta.get("format") != str(FORMAT) or "model_id" not in meta:
        raise VectorFileError(
            f"{source} is a vectors file of an unknown format ({meta.get('format')!r}); "
            "export it again with this version of anagnorisis-tui"
        )
    return meta


def import_file(db: Database, path: str | os.PathLike[str], model_id: str) -> ImportSummary:
    """Add the file's vectors to this library for `model_id`, which must be the file's model.

    Vectors this library already has are kept; images recorded as impossible to embed here
    lose that note when the file brings their vector.
    """
    meta = read_meta(path)
    if meta["model_id"] != model_id:
        raise VectorFileError(
            f"{path} holds vectors for {meta['model_id']}, but this library uses {model_id}: "
            "vectors of different models cannot be mixed. Choose the same model and weights "
            "on both machines (--model/--pretrained, or the settings' [model]; a local weights "
            "file must keep its file name), or export again from a library that uses "
            f"{model_id}"
        )
    dim, dtype = int(meta["dim"]), meta["dtype"]
    if dtype not in ("float16", "float32"):
        raise VectorFileError(f"{path}: unknown vector dtype {dtype!r}")
    spec = vectors.model_spec(db, model_id)
    if spec is None:
        vectors.register_model(db, model_id, dim, dtype=dtype, info=json.loads(meta["info"]))
    elif spec[0] != dim:
        raise VectorFileError(
            f"{path} has {dim}-d vectors but this library's {model_id} vectors have {spec[0]}"
        )
    summary = ImportSummary(model_id)
    np_dtype = np.dtype("<f2" if dtype == "float16" else "<f4")
    con = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT hash, vector FROM vectors ORDER BY hash")
        while chunk := rows.fetchmany(_CHUNK):
            hashes = [h for h, _ in chunk]
            have = set(vectors.load_vectors(db, model_id, hashes)[0])
            new = [(h, blob) for h, blob in chunk if h not in have]
            summary.already += len(chunk) - len(new)
            if not new:
                continue
            if any(len(blob) != dim * np_dtype.itemsize for _, blob in new):
                raise VectorFileError(f"{path} is damaged: a vector of the wrong length")
            matrix = np.stack([np.frombuffer(blob, dtype=np_dtype) for _, blob in new])
            new_hashes = [h for h, _ in new]
            vectors.put_vectors(db, model_id, new_hashes, matrix.astype(np.float32))
            summary.imported += len(new)
            summary.in_library += _present(db, new_hashes)
            summary.errors_cleared += _clear_errors(db, model_id, new_hashes)
    except sqlite3.Error as exc:
        raise VectorFileError(f"cannot read {path}: {exc}") from None
    finally:
        con.close()
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
