"""Library folders belong to the catalogue of a data dir; the settings file keeps preferences."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from anagnorisis_tui.core.base.config import load_settings
from anagnorisis_tui.core.library import Library
from tests.support.imagefiles import jpeg_bytes, write


def photos(folder: Path, seed: int) -> Path:
    for i in range(2):
        write(folder / f"p{i}.jpg", jpeg_bytes(seed * 10 + i, (24, 16)))
    return folder


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return tmp_path / "config.toml"


def library(tmp_path: Path, config: Path, name: str) -> Library:
    return Library(load_settings(data_dir=tmp_path / name, config_file=config))


def test_each_data_dir_remembers_its_own_library(tmp_path: Path, config: Path):
    one, two = photos(tmp_path / "one", 1), photos(tmp_path / "two", 2)
    a = library(tmp_path, config, "data-a")
    a.catalogue.set_root(one)
    a.catalogue.scan()
    a.close()
    b = library(tmp_path, config, "data-b")
    assert b.catalogue.roots() == []  # a fresh data dir sees nothing of another's
    b.catalogue.scan(two)  # a folder scanned into a catalogue becomes its library
    assert b.catalogue.roots() == [str(two)]
    b.close()
    assert library(tmp_path, config, "data-a").catalogue.roots() == [str(one)]
    assert library(tmp_path, config, "data-b").catalogue.roots() == [str(two)]
    text = config.read_text() if config.exists() else ""
    assert str(one) not in text and str(two) not in text  # preferences only


def test_set_root_keeps_earlier_libraries_behind_the_current_one(tmp_path: Path, config: Path):
    one, two = photos(tmp_path / "one", 1), photos(tmp_path / "two", 2)
    lib = library(tmp_path, config, "data")
    lib.catalogue.set_root(one)
    lib.catalogue.set_root(two)
    assert lib.catalogue.roots() == [str(two), str(one)]
    lib.catalogue.scan(one)  # scanning a known library does not make it current
    assert lib.catalogue.roots() == [str(two), str(one)]


def test_an_older_settings_file_is_migrated_into_the_catalogue_that_holds_it(
    tmp_path: Path, config: Path
):
    one = photos(tmp_path / "one", 1)
    old = library(tmp_path, config, "data")
    old.catalogue.scan(one)
    with old.db.conn:  # as a catalogue written before roots lived in it
        old.db.execute("DELETE FROM meta WHERE key = 'library_roots'")
    old.close()
    config.write_text(
        f'[library]\nroots = ["{one}"]\nexcludes = ["raw"]\n\n[ui]\ngraphics = "sixel"\n'
    )

    fresh = library(tmp_path, config, "other-data")
    assert fresh.catalogue.roots() == []  # holds nothing under it: not adopted, the file keeps it
    assert "roots" in tomllib.loads(config.read_text())["library"]

    lib = library(tmp_path, config, "data")
    assert lib.catalogue.roots() == [str(one)]
    doc = tomllib.loads(config.read_text())
    assert doc == {"library": {"excludes": ["raw"]}, "ui": {"graphics": "sixel"}}
    assert library(tmp_path, config, "data").catalogue.roots() == [str(one)]


def test_a_catalogue_without_settings_roots_adopts_the_folder_it_last_scanned(
    tmp_path: Path, config: Path
):
    one, two = photos(tmp_path / "one", 1), photos(tmp_path / "two", 2)
    old = library(tmp_path, config, "data")
    old.catalogue.scan(one)
    old.catalogue.scan(two)
    with old.db.conn:
        old.db.execute("DELETE FROM meta WHERE key = 'library_roots'")
    old.close()
    assert library(tmp_path, config, "data").catalogue.roots() == [str(two)]


def test_the_session_override_wins_and_is_never_saved(
    tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch
):
    one, two = photos(tmp_path / "one", 1), photos(tmp_path / "two", 2)
    lib = library(tmp_path, config, "data")
    lib.catalogue.set_root(one)
    lib.close()
    monkeypatch.setenv("ANAGNORISIS_LIBRARY", str(two))
    assert library(tmp_path, config, "data").catalogue.roots() == [str(two)]
    monkeypatch.delenv("ANAGNORISIS_LIBRARY")
    assert library(tmp_path, config, "data").catalogue.roots() == [str(one)]
