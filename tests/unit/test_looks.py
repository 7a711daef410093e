"""Looks remembered (core/duplicates/looks.py): a pair's second look on its two thumbnails is
stored per pair of contents, so grouping again (`groups`, then `dedupe`, then the app's review)
compares no pair twice and decides exactly as before; a changed look, a renamed file and a
thumbnail that cannot be read each do what a user would expect."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from anagnorisis_tui.core.base import db as dbmod
from anagnorisis_tui.core.base import paths
from anagnorisis_tui.core.base.config import load_settings
from anagnorisis_tui.core.catalogue import thumbnails
from anagnorisis_tui.core.duplicates import looks, moments
from anagnorisis_tui.core.duplicates.groups import GroupReport
from anagnorisis_tui.core.duplicates.options import GroupOptions
from anagnorisis_tui.core.library import Library
from bench import hardset


def _photos(root: Path) -> None:
    """Copies and series from real photos: a resized re-encode, a moved subject, a pan, a
    mirrored copy."""
    photos = hardset.photo_sources(["coffee", "chelsea", "astronaut"])
    root.mkdir()
    coffee = photos["coffee"].resize((512, 341))
    subject = coffee.crop((0, 0, 64, 64)).transpose(Image.Transpose.ROTATE_180)
    first, moved = coffee.copy(), coffee.copy()
    first.paste(subject, (100, 140))
    moved.paste(subject, (140, 140))  # 40 px further along: another moment
    first.save(root / "coffee.jpg", quality=92)
    first.resize((384, 256), Image.Resampling.LANCZOS).save(root / "coffee-small.jpg", quality=80)
    moved.save(root / "coffee-moved.jpg", quality=92)
    wide = photos["chelsea"]
    w, h = wide.size
    wide.crop((0, 0, int(w * 0.9), h)).save(root / "cat.jpg", quality=92)
    wide.crop((int(w * 0.02), 0, int(w * 0.92), h)).save(root / "cat-pan.jpg", quality=92)
    astronaut = photos["astronaut"].resize((400, 400))
    astronaut.save(root / "astronaut.png")
    mirrored = astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    mirrored.save(root / "astronaut-mirrored.jpg", quality=90)


def _decisions(report: GroupReport) -> list[tuple[object, ...]]:
    """Everything grouping decides: groups, keepers, each member's tier and why."""
    return sorted(
        (
            group.tier,
            group.keeper.path,
            tuple(sorted((m.path, m.tier, m.why) for m in group.others)),
        )
        for group in report.groups
    )


class Counting:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = moments.compare

        def compare(first: Image.Image, second: Image.Image, *, flat: bool = False) -> object:
            self.calls += 1
            return real(first, second, flat=flat)

        monkeypatch.setattr(moments, "compare", compare)


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "photos"
    _photos(root)
    data = tmp_path / "data"
    settings = load_settings(data_dir=data, config_file=data / "none.toml", overrides={})
    with Library(settings) as lib:
        lib.catalogue.scan(root)
        yield lib, root


def _group(lib: Library) -> GroupReport:
    return lib.duplicates.group_report(GroupOptions(method="phash"))


def _rows(lib: Library) -> list[tuple[object, ...]]:
    return lib.duplicates._connections.db.execute(
        "SELECT a, b, turn, flat, version FROM looks ORDER BY a, b"
    ).fetchall()


def test_a_second_grouping_reads_the_remembered_looks_and_decides_the_same(library, monkeypatch):
    lib, _root = library
    counting = Counting(monkeypatch)
    first = _group(lib)
    looked = counting.calls
    assert looked >= 3  # the copy, the moved subject, the pan, the mirrored copy
    assert len(_rows(lib)) == looked
    tiers = {m.path.rsplit("/", 1)[-1]: m.tier for g in first.groups for m in g.others}
    assert "series" in tiers.values() and "same" in tiers.values(), tiers
    assert any(row[2] == "mirrored" for row in _rows(lib)), _rows(lib)  # the turn is kept
    plan = lib.duplicates.plan_group_action(first.groups)

    counting.calls = 0
    second = _group(lib)  # `dedupe` after `groups`, or the app's review
    assert counting.calls == 0
    assert _decisions(second) == _decisions(first)
    again = lib.duplicates.plan_group_action(second.groups)
    assert [(i.path, i.keeper) for i in again.items] == [(i.path, i.keeper) for i in plan.items]


def test_a_changed_look_looks_again(library, monkeypatch):
    lib, _root = library
    counting = Counting(monkeypatch)
    first = _group(lib)
    looked = counting.calls
    old = {row[4] for row in _rows(lib)}
    monkeypatch.setattr(moments, "VERSION", moments.VERSION + 1)
    counting.calls = 0
    second = _group(lib)
    assert counting.calls == looked
    assert _decisions(second) == _decisions(first)
    assert {row[4] for row in _rows(lib)}.isdisjoint(old)  # the old version's rows are gone
    assert len(_rows(lib)) == looked


def test_a_renamed_file_keeps_its_remembered_look(library, monkeypatch):
    lib, root = library
    counting = Counting(monkeypatch)
    first = _group(lib)
    (root / "moved").mkdir()
    (root / "coffee-moved.jpg").rename(root / "moved" / "another name.jpg")
    (root / "coffee-small.jpg").rename(root / "small.jpg")
    lib.catalogue.scan(root)
    counting.calls = 0
    second = _group(lib)
    assert counting.calls == 0
    renamed = {
        "coffee-moved.jpg": "moved/another name.jpg",
        "coffee-small.jpg": "small.jpg",
    }

    def named(decisions: list[tuple[object, ...]]) -> list[str]:
        text = repr(decisions)
        for old, new in renamed.items():
            text = text.replace(f"{root}/{old}", f"{root}/{new}")
        return [text]

    assert named(_decisions(first)) == [repr(_decisions(second))]


def test_a_thumbnail_that_cannot_be_read_is_not_remembered(library, monkeypatch, tmp_path):
    lib, root = library
    db = lib.duplicates._connections.db
    cache = thumbnails.cache_dir(lib.duplicates._data_dir)
    small = root / "coffee-small.jpg"
    (content,) = db.execute("SELECT hash FROM files WHERE path = ?", [str(small)]).fetchone()
    saved = small.read_bytes()
    lib.duplicates.compute_renditions()  # what the first grouping computes from the files
    lib.duplicates.compute_phashes()
    # The cached thumbnail is gone and the file changed on disk since the scan (not rescanned):
    # the thumbnail cannot be made, so the pair is not checked, and nothing is remembered of it.
    thumbnails.thumbnail_path(cache, content).unlink(missing_ok=True)
    small.write_bytes(b"not a picture any more")
    counting = Counting(monkeypatch)
    unreadable = _group(lib)
    tiers = {m.path: m.tier for g in unreadable.groups for m in g.members}
    assert tiers.get(str(small)) != "same"  # unchecked is never a copy
    assert not [row for row in _rows(lib) if content in row[:2]]
    # Readable again: looked at, remembered, a copy.
    small.write_bytes(saved)
    report = _group(lib)
    tiers = {m.path: m.tier for g in report.groups for m in g.members}
    assert tiers.get(str(small)) == "same", _decisions(report)
    assert [row for row in _rows(lib) if content in row[:2]]
    # Remembered, then unreadable again: decided as without the remembered look.
    thumbnails.thumbnail_path(cache, content).unlink()
    small.write_bytes(b"not a picture any more")
    counting.calls = 0
    assert _decisions(_group(lib)) == _decisions(unreadable)
    assert counting.calls == 0


def test_a_catalogue_that_cannot_be_written_still_groups(library, monkeypatch):
    lib, _root = library
    first = _group(lib)
    db = lib.duplicates._connections.db
    with db.transaction():
        db.execute("DELETE FROM looks")
    real = looks.Memory.flush

    def locked(self: looks.Memory) -> None:
        self._db.execute("PRAGMA query_only=ON")
        try:
            real(self)
        finally:
            self._db.execute("PRAGMA query_only=OFF")

    monkeypatch.setattr(looks.Memory, "flush", locked)
    assert _decisions(_group(lib)) == _decisions(first)
    assert _rows(lib) == []


def test_an_old_catalogue_gains_the_looks_table(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for number in range(3):
        for statement in dbmod._statements(dbmod.MIGRATIONS[number]):
            conn.execute(statement)
    conn.execute("INSERT INTO ratings(hash, value, updated) VALUES ('h', 7, 0)")
    conn.execute("PRAGMA user_version=3")
    conn.commit()
    conn.close()
    db = dbmod.connect(path)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "looks" in tables
    assert dbmod.schema_version(db) == len(dbmod.MIGRATIONS) == dbmod.SCHEMA_VERSION
    assert db.execute("SELECT value FROM ratings").fetchall() == [(7.0,)]


def test_groups_then_dedupe_look_at_each_pair_once(tmp_path, monkeypatch, capsys):
    """The CLI's `groups` then `dedupe --trash --dry-run`: the second command compares no
    thumbnails, and both print what they print with nothing remembered."""
    from anagnorisis_tui.cli import main

    root = tmp_path / "photos"
    _photos(root)
    assert main(["scan", str(root), "--quiet"]) == 0
    capsys.readouterr()
    counting = Counting(monkeypatch)

    def run(*args: str) -> str:
        assert main(list(args)) == 0
        return capsys.readouterr().out

    grouped = run("groups", "--json")
    assert counting.calls >= 3
    counting.calls = 0
    planned = run("dedupe", "--trash", "--dry-run", "--json")
    assert counting.calls == 0
    assert run("groups", "--json") == grouped
    assert counting.calls == 0
    # The same commands with nothing remembered print the same.
    db = dbmod.connect(paths.database_path(Path(os.environ["ANAGNORISIS_DATA_DIR"])))
    with db.transaction():
        assert db.execute("DELETE FROM looks").rowcount >= 3
    db.conn.close()
    assert run("dedupe", "--trash", "--dry-run", "--json") == planned
    assert counting.calls >= 3
