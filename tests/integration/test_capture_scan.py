"""Capture dates through a real scan into a real catalogue: stored, sorted by, filtered on."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from anagnorisis_tui.core.base import db as dbmod
from anagnorisis_tui.core.catalogue.scan import scan
from anagnorisis_tui.core.views import paging as query
from anagnorisis_tui.core.views.filters import FilterError, Filters, parse_date
from tests.support.imagefiles import noise


def exif_bytes(date: str | None, offset: str | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x0110] = "TestCam"
    if date is not None:
        ifd = {0x9003: date}
        if offset is not None:
            ifd[0x9011] = offset
        exif[0x8769] = ifd
    return exif.tobytes()


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    (root / "trip").mkdir(parents=True)
    noise(40, 30, seed=1).save(
        root / "trip/a.jpg", exif=exif_bytes("2021:06:01 12:00:00", "+02:00")
    )
    noise(40, 30, seed=2).save(
        root / "trip/b.jpg", exif=exif_bytes("2019:01:01 08:00:00", "+00:00")
    )
    noise(40, 30, seed=3).save(root / "c.png", exif=exif_bytes("2023:03:03 03:03:03", "-03:00"))
    noise(40, 30, seed=4).save(root / "nodate.jpg")
    noise(40, 30, seed=5).save(root / "broken-date.jpg", exif=exif_bytes("0000:00:00 00:00:00"))
    for name, when in (("nodate.jpg", utc(2020, 1, 1)), ("broken-date.jpg", utc(2022, 1, 1))):
        os.utime(root / name, (when, when))
    return root


def taken(db, root: Path, rel: str) -> tuple:
    return db.execute(
        "SELECT i.taken, i.taken_offset, i.taken_read FROM files f JOIN images i ON i.hash = "
        "f.hash WHERE f.path = ?",
        [str(root / rel)],
    ).fetchone()


def names(db, spec: query.ViewSpec) -> list[str]:
    return [e.name for e in query.page(db, spec, 0, 100)]


def test_dates_are_stored_sorted_and_filtered(tmp_path: Path, library: Path):
    db = dbmod.connect(tmp_path / "catalogue.db")
    scan(db, library)
    assert taken(db, library, "trip/a.jpg") == (utc(2021, 6, 1, 10), 120, 1)
    assert taken(db, library, "trip/b.jpg") == (utc(2019, 1, 1, 8), 0, 1)
    assert taken(db, library, "c.png") == (utc(2023, 3, 3, 6, 3, 3), -180, 1)
    assert taken(db, library, "nodate.jpg") == (None, None, 1)
    assert taken(db, library, "broken-date.jpg") == (None, None, 1)

    # Without a capture date the file's mtime stands in.
    order = names(db, query.ViewSpec(sort="taken"))
    assert order == ["b.jpg", "nodate.jpg", "a.jpg", "broken-date.jpg", "c.png"]
    assert names(db, query.ViewSpec(sort="taken", descending=True)) == order[::-1]

    entry = query.entry(db, str(library / "trip/a.jpg"))
    assert entry is not None and (entry.taken, entry.taken_offset) == (utc(2021, 6, 1, 10), 120)
    plain = query.entry(db, str(library / "nodate.jpg"))
    assert plain is not None and plain.taken is None and plain.when == utc(2020, 1, 1)

    window = Filters(min_taken=parse_date("2020-06-01"), max_taken=parse_date("2022-06", end=True))
    assert names(db, query.ViewSpec(sort="taken", filters=window)) == ["a.jpg", "broken-date.jpg"]
    assert window.describe() == ["taken 2020-06-01..2022-06-30"]


def test_an_older_catalogue_gets_its_dates_on_the_next_scan(tmp_path: Path, library: Path):
    db = dbmod.connect(tmp_path / "catalogue.db")
    scan(db, library)
    with db.conn:  # as a catalogue made before capture dates were read
        db.execute("UPDATE images SET taken = NULL, taken_offset = NULL, taken_read = 0")
    summary = scan(db, library)
    assert summary.unchanged == 5 and "dates" in summary.stage_seconds
    assert taken(db, library, "trip/a.jpg") == (utc(2021, 6, 1, 10), 120, 1)
    assert taken(db, library, "c.png") == (utc(2023, 3, 3, 6, 3, 3), -180, 1)
    assert taken(db, library, "nodate.jpg") == (None, None, 1)
    assert "dates" not in scan(db, library).stage_seconds  # nothing left to read


def test_the_migration_adds_the_columns_to_an_existing_catalogue(tmp_path: Path):
    path = tmp_path / "old.db"
    import sqlite3

    conn = sqlite3.connect(path)
    for statement in dbmod._statements(dbmod.MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version=1")
    conn.execute("INSERT INTO images(hash, size, first_seen) VALUES ('h', 1, 0)")
    conn.commit()
    conn.close()
    db = dbmod.connect(path)
    assert dbmod.schema_version(db) == len(dbmod.MIGRATIONS)
    assert db.execute("SELECT taken, taken_offset, taken_read FROM images").fetchone() == (
        None,
        None,
        0,
    )


def test_date_bounds_people_type():
    assert parse_date("2024") == datetime(2024, 1, 1).timestamp()
    assert parse_date("2024", end=True) == pytest.approx(datetime(2025, 1, 1).timestamp(), abs=1e-3)
    assert parse_date("2024-02", end=True) == pytest.approx(
        datetime(2024, 3, 1).timestamp(), abs=1e-3
    )
    assert parse_date("2024-05-06") == datetime(2024, 5, 6).timestamp()
    assert parse_date("2024-05-06 14:30") == datetime(2024, 5, 6, 14, 30).timestamp()
    for bad in ("May 2024", "2024-13", "2024-02-30", ""):
        with pytest.raises(FilterError):
            parse_date(bad)
    with pytest.raises(FilterError, match="above the maximum"):
        Filters(min_taken=parse_date("2024"), max_taken=parse_date("2023"))
