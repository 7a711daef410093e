"""Item 4: `vectors import` of a crafted file: refused or bad rows counted, a one-line `error:`,
bounded in time, and never a stored vector the model could not use."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from tests.hostile import builders
from tests.hostile.conftest import Nas

pytestmark = pytest.mark.slow  # see README: the two test lanes

TINY = ("--model", "tiny-clip")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int, list[str], Path]:
    """(model id, dim, hashes, data dir) of real vectors the program exported from a real
    embed, and the data dir it embedded in (with the model's exported engine)."""
    from anagnorisis_tui.core.demo.shapes import write_library

    home = tmp_path_factory.mktemp("desktop")
    write_library(home / "photos", 6, size=64, seed=5)
    nas = Nas(home, home / "photos", home / "data", home / "none", home / "config.toml")
    assert nas.cli("embed", str(nas.root), *TINY).returncode == 0
    out = nas.cli("vectors", "export", str(home / "v.sqlite"), *TINY)
    assert out.returncode == 0, out.stderr
    con = sqlite3.connect(home / "v.sqlite")
    meta = dict(con.execute("SELECT key, value FROM meta"))
    hashes = [h for (h,) in con.execute("SELECT hash FROM vectors")]
    con.close()
    return meta["model_id"], int(meta["dim"]), hashes, nas.data


def _import(nas: Nas, file: Path, timeout: float = 90):
    out = nas.cli("vectors", "import", str(file), *TINY, timeout=timeout)
    return out


def _stored(nas: Nas) -> list[tuple[str, int]]:
    if not (nas.data / "library.db").exists():
        return []
    return nas.query("SELECT model_id, length(vector) FROM vectors")


def _refused(out, *words: str) -> None:
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    for word in words:
        assert word in lines[0], lines[0]


def _good_rows(dim: int, hashes: list[str]) -> list[tuple[object, object]]:
    matrix = builders.unit_vectors(len(hashes), dim)
    return [(h, matrix[i].tobytes()) for i, h in enumerate(hashes)]


@pytest.mark.parametrize(
    ("extra", "word"),
    [(builders.RECURSIVE_VIEW, "view"), (builders.TRIGGER, "trigger"), (builders.VIRTUAL, "fts")],
)
def test_views_triggers_and_virtual_tables_are_refused(nas: Nas, exported, extra, word):
    model_id, dim, hashes, _ = exported
    file = builders.vectors_file(
        nas.home / "v.sqlite", _good_rows(dim, hashes), model_id=model_id, dim=dim, extra_sql=extra
    )
    before = file.read_bytes()
    _refused(_import(nas, file), word, "not imported")
    assert _stored(nas) == []
    assert file.read_bytes() == before  # opened read-only: not even a journal


@pytest.mark.parametrize(
    ("change", "word"),
    [
        ({"dim": "abc"}, "dim"),
        ({"dim": "-4"}, "dim"),
        ({"dim": "99999999"}, "dim"),
        ({"dtype": "float64"}, "dtype"),
        ({"dtype": ""}, "dtype"),
        ({"info": "[not json"}, "info"),
        ({"info": "[1, 2]"}, "info"),
        ({"drop": ("dim",)}, "dim"),
        ({"drop": ("dtype",)}, "dtype"),
        ({"format": "7"}, "unknown format"),
    ],
)
def test_malformed_fields_are_one_line_errors(nas: Nas, exported, change, word):
    model_id, dim, hashes, _ = exported
    fields: dict = {"dim": str(dim)}
    drop = change.pop("drop", ())
    extra_meta = {"format": change.pop("format")} if "format" in change else None
    fields.update(change)
    file = builders.vectors_file(
        nas.home / "v.sqlite",
        _good_rows(dim, hashes),
        model_id=model_id,
        drop=drop,
        extra_meta=extra_meta,
        **fields,
    )
    _refused(_import(nas, file), word)
    assert _stored(nas) == []


def test_bad_vectors_are_counted_and_never_stored(nas: Nas, exported):
    model_id, dim, hashes, _ = exported
    good = _good_rows(dim, hashes[:3])
    nan = np.full(dim, np.nan, dtype="<f4").tobytes()
    inf = np.full(dim, np.inf, dtype="<f4").tobytes()
    zero = np.zeros(dim, dtype="<f4").tobytes()
    rows = [
        *good,
        ("a" * 32, nan),
        ("b" * 32, inf),
        ("c" * 32, zero),
        ("d" * 32, b"\x00" * 7),  # wrong length
        ("e" * 32, "text, not a blob"),
        ("not-a-hash", good[0][1]),
        ("f" * 32, builders.unit_vectors(1, dim * 2)[0].tobytes()),  # another model's length
    ]
    file = builders.vectors_file(nas.home / "v.sqlite", rows, model_id=model_id, dim=dim)
    out = _import(nas, file)
    assert out.returncode == 0, out.stderr
    assert "imported 3 vectors" in out.stdout
    assert "7 malformed vectors skipped" in out.stderr
    stored = _stored(nas)
    assert len(stored) == 3 and {n for _, n in stored} == {dim * 4}


def test_a_dim_that_disagrees_with_the_vectors_stores_nothing(nas: Nas, exported):
    model_id, dim, hashes, _ = exported
    file = builders.vectors_file(
        nas.home / "v.sqlite", _good_rows(dim, hashes), model_id=model_id, dim=dim * 2
    )
    out = _import(nas, file)
    assert f"{len(hashes)} malformed vectors skipped" in out.stderr
    assert _stored(nas) == []
    # The model was not registered with the file's wrong length: a real embed still works.
    assert not nas.query("SELECT * FROM embed_models")


def test_a_length_the_model_here_does_not_make_is_refused(nas: Nas, exported):
    """No vectors here yet, but the model's engine is (its spec says the length it makes): a
    file of consistent, well-formed vectors of another length is refused, nothing stored."""
    import shutil

    model_id, dim, hashes, desktop = exported
    shutil.copytree(desktop / "models", nas.data / "models")
    rows = [(h, builders.unit_vectors(1, dim * 2, i)[0].tobytes()) for i, h in enumerate(hashes)]
    file = builders.vectors_file(nas.home / "v.sqlite", rows, model_id=model_id, dim=dim * 2)
    _refused(_import(nas, file), f"makes {dim}-d vectors here")
    assert _stored(nas) == []


def test_the_time_a_vectors_file_may_take_is_bounded(tmp_path: Path, monkeypatch):
    """SQLite's progress handler stops a statement past the limit (here: at once)."""
    from anagnorisis_tui.core.base import db as dbmod
    from anagnorisis_tui.core.semantic import vector_io
    from tests.hostile.builders import unit_vectors, vectors_file

    rows = [(f"{i:032x}", v.tobytes()) for i, v in enumerate(unit_vectors(5000, 8))]
    file = vectors_file(tmp_path / "v.sqlite", rows, model_id="m", dim=8)
    db = dbmod.connect(tmp_path / "data" / "library.db")
    monkeypatch.setattr(vector_io, "TIME_LIMIT_S", -1e9)
    try:
        vector_io.import_file(db, file, "m")
    except vector_io.VectorFileError as exc:
        assert "took longer than the import allows" in str(exc)
    else:
        raise AssertionError("an import past its time limit was not stopped")
    assert db.execute("SELECT count(*) FROM vectors").fetchone()[0] == 0
