from __future__ import annotations

import dataclasses
import sqlite3
import threading

import pytest

from anagnorisis_tui.core.base import db as dbmod
from anagnorisis_tui.core.base import ratings
from anagnorisis_tui.core.base.config import ConfigError, load_settings, replace


def test_settings_roundtrip_and_env(tmp_path, monkeypatch):
    loaded = load_settings(data_dir=tmp_path / "d", config_file=tmp_path / "c.toml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.graphics = "sixel"  # type: ignore[misc]  # settings never change once loaded
    s = replace(
        loaded,
        library_roots=["/session-only"],  # a session override: never written
        legacy_roots=["/photos"],  # roots of an older file, kept until a catalogue adopts them
        excludes=["raw"],
        graphics="sixel",
        keymap={"rate_up": "plus"},
    )
    assert loaded.graphics == "auto" and s.excludes == ("raw",)
    s.save()
    again = load_settings(data_dir=tmp_path / "d", config_file=tmp_path / "c.toml")
    assert again.legacy_roots == ("/photos",) and again.library_roots == ()
    assert "session-only" not in (tmp_path / "c.toml").read_text()
    assert again.excludes == ("raw",)
    assert again.graphics == "sixel"
    assert again.keymap == {"rate_up": "plus"}
    monkeypatch.setenv("ANAGNORISIS_GRAPHICS", "unicode")
    assert load_settings(config_file=tmp_path / "c.toml").graphics == "unicode"


def test_bad_config_is_a_clear_error(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[library\nroots = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config_file=cfg)
    cfg.write_text("[library]\nroots = 3\n")
    with pytest.raises(ConfigError, match="library.roots"):
        load_settings(config_file=cfg)


def test_schema_migrates_with_wal_and_page_size(tmp_path):
    database = dbmod.connect(tmp_path / "x.db")
    assert dbmod.schema_version(database) == len(dbmod.MIGRATIONS)
    assert database.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert database.execute("PRAGMA page_size").fetchone()[0] == dbmod.PAGE_SIZE
    assert dbmod.integrity_ok(database)
    database.conn.close()
    # Reopening does not migrate again.
    again = dbmod.connect(tmp_path / "x.db")
    assert dbmod.schema_version(again) == len(dbmod.MIGRATIONS)


def test_newer_schema_is_refused(tmp_path):
    conn = sqlite3.connect(tmp_path / "y.db")
    conn.execute("PRAGMA user_version=99")
    conn.close()
    with pytest.raises(dbmod.DatabaseError, match="newer than this program"):
        dbmod.connect(tmp_path / "y.db")


def test_ratings_history_and_bounds(tmp_path):
    database = dbmod.connect(tmp_path / "r.db")
    ratings.set_rating(database, "h1", 7)
    ratings.set_rating(database, "h1", "8.5", source="import")
    assert ratings.get_rating(database, "h1").value == 8.5
    for bad in (-1, 11, "x", None, float("nan"), True):
        with pytest.raises(ratings.RatingError):
            ratings.set_rating(database, "h1", bad)
    assert ratings.get_rating(database, "h1").value == 8.5
    ratings.clear_rating(database, "h1")
    assert ratings.get_rating(database, "h1") is None
    assert [v for v, _, _ in ratings.history(database, "h1")] == [7.0, 8.5, None]
    ratings.set_rating(database, "h2", 3)
    assert ratings.carry_rating(database, "h2", "h3")
    assert ratings.get_rating(database, "h3").value == 3
    assert not ratings.carry_rating(database, "h2", "h3")  # never overwrites


def test_concurrent_first_open_migrates_once(tmp_path):
    """Threads opening a fresh catalogue at once all succeed (regression: 'table images already exists')."""
    path = tmp_path / "race.db"
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []
    versions: list[int] = []

    def opener() -> None:
        try:
            barrier.wait()
            database = dbmod.connect(path)
            versions.append(dbmod.schema_version(database))
            database.conn.close()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    for _ in range(5):
        if path.exists():
            for suffix in ("", "-wal", "-shm"):
                (tmp_path / f"race.db{suffix}").unlink(missing_ok=True)
        versions.clear()
        threads = [threading.Thread(target=opener) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert versions == [len(dbmod.MIGRATIONS)] * 6
