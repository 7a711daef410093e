"""Ratings export/import (CSV, JSON, JSON Lines): broken rows reported by line, nothing lost."""

from __future__ import annotations

import json

import pytest

from anagnorisis_tui.core.base import ratings
from anagnorisis_tui.core.evaluator.rating_io import RatingIOError
from anagnorisis_tui.core.library import Library
from tests.support.preference import rate_first


def _ratings(lib) -> dict[str, float]:
    return dict(lib.db.execute("SELECT hash, value FROM ratings").fetchall())


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_export_then_import_into_a_fresh_catalogue_round_trips(pref_library, tmp_path, fmt):
    rate_first(pref_library, 30)
    pref_library.library.ratings.set(pref_library.hashes[0], 7.5)
    pref_library.library.ratings.set("a" * 32, 3)  # an image not (or no longer) in the library
    out = tmp_path / f"ratings.{fmt}"
    assert pref_library.library.ratings.export_ratings(out) == 31
    if fmt == "json":
        doc = json.loads(out.read_text())
        assert doc["format"] == "anagnorisis-tui-ratings" and len(doc["ratings"]) == 31
    from anagnorisis_tui.core.base.config import load_settings

    fresh = Library(load_settings(data_dir=tmp_path / "fresh", config_file=tmp_path / "c.toml"))
    report = fresh.ratings.import_ratings(out)
    assert report.errors == [] and report.added == 31
    assert report.not_in_library == 31  # the fresh catalogue has not scanned anything
    assert _ratings(fresh) == _ratings(pref_library.library)
    assert ratings.history(fresh.db, "a" * 32)[0][2] == "import"
    fresh.close()


def test_broken_csv_rows_are_reported_by_line_and_good_rows_land(pref_library, tmp_path):
    lib = pref_library.library
    h = pref_library.hashes
    lib.ratings.set(h[5], 9)
    text = "\n".join(
        [
            "hash,path,rating",
            f"{h[0]},,6",  # line 2: good (by hash)
            f",{pref_library.paths[1]},4.5",  # line 3: good (by path)
            f"{h[2]},,eleven",  # line 4: not a number
            f"{h[3]},,11",  # line 5: out of range
            ",/nowhere/x.png,5",  # line 6: path not in the library
            "nothex,,5",  # line 7: not a content hash
            f"{h[5]},,",  # line 8: no rating (existing 9 must stay)
            f"{h[4]},,2,extra",  # line 9: more fields than the header
            '"unterminated,,3',  # line 10..: a broken quote swallows the rest
        ]
    )
    path = tmp_path / "in.csv"
    path.write_text(text)
    report = lib.ratings.import_ratings(path)
    lines = dict(report.errors)
    assert set(lines) >= {4, 5, 6, 7, 8, 9}
    assert "number" in lines[4] and "0 to 10" in lines[5]
    assert "not in the library" in lines[6] and "hash" in lines[7] and "no rating" in lines[8]
    assert report.added == 2
    current = _ratings(lib)
    assert current[h[0]] == 6 and current[h[1]] == 4.5 and current[h[5]] == 9
    assert h[2] not in current and h[3] not in current and h[4] not in current


def test_broken_json_rows_are_reported_by_line(pref_library, tmp_path):
    h = pref_library.hashes
    path = tmp_path / "in.json"
    path.write_text(
        '{"ratings": [\n'
        f'  {{"hash": "{h[0]}", "rating": 3}},\n'
        f'  {{"hash": "{h[1]}", "rating": -1}},\n'
        '  "just a string",\n'
        f'  {{"hash": "{h[2]}",\n   "rating": true}}\n'
        "]}\n"
    )
    report = pref_library.library.ratings.import_ratings(path)
    assert [line for line, _ in report.errors] == [3, 4, 5]
    assert _ratings(pref_library.library) == {h[0]: 3.0}


def test_a_file_that_cannot_be_read_changes_nothing(pref_library, tmp_path):
    lib = pref_library.library
    rate_first(pref_library, 10)
    before = _ratings(lib)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('[{"hash": "x", "rating": 3},\n {oops}]')
    with pytest.raises(RatingIOError, match="line 2"):
        lib.ratings.import_ratings(bad_json)
    bad_header = tmp_path / "bad.csv"
    bad_header.write_text("name,score\nx,3\n")
    with pytest.raises(RatingIOError, match="rating"):
        lib.ratings.import_ratings(bad_header)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(RatingIOError, match="UTF-8"):
        lib.ratings.import_ratings(binary)
    with pytest.raises(RatingIOError, match="format"):
        lib.ratings.import_ratings(tmp_path / "ratings.txt")
    with pytest.raises(RatingIOError, match="no such file"):
        lib.ratings.import_ratings(tmp_path / "missing.csv")
    assert _ratings(lib) == before


def test_import_changes_are_recorded_and_keep_existing_is_respected(pref_library, tmp_path):
    lib = pref_library.library
    h = pref_library.hashes
    lib.ratings.set(h[0], 2)
    path = tmp_path / "in.csv"
    path.write_text(f"hash,rating\n{h[0]},8\n{h[1]},5\n")
    kept = lib.ratings.import_ratings(path, keep_existing=True)
    assert kept.kept_existing == 1 and kept.added == 1 and lib.ratings.get(h[0]) == 2
    changed = lib.ratings.import_ratings(path)
    assert changed.changed == 1 and changed.unchanged == 1 and lib.ratings.get(h[0]) == 8
    values = [v for v, _, _ in ratings.history(lib.db, h[0])]
    assert values == [2, 8]  # the earlier value is kept in the history
