"""Capture dates from EXIF: with and without offsets, missing, malformed; both readers agree."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from anagnorisis_tui.core.catalogue import capture_date as cd


def exif_block(**tags: str) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0110] = "TestCam"
    named = {
        "original": cd.DATE_ORIGINAL,
        "offset": cd.OFFSET_ORIGINAL,
        "subsec": cd.SUBSEC_ORIGINAL,
        "digitized": cd.DATE_DIGITIZED,
        "offset_digitized": cd.OFFSET_DIGITIZED,
    }
    if tags:
        exif[cd.EXIF_IFD] = {named[k]: v for k, v in tags.items()}
    return exif


def both(exif: Image.Exif) -> cd.CaptureTime | None:
    """Read through Pillow and through the raw-bytes parser; they must agree."""
    raw = exif.tobytes()
    assert raw.startswith(b"Exif\x00\x00")
    fast = cd.from_tiff(raw, 6, len(raw))
    loaded = Image.Exif()
    loaded.load(raw)  # as Pillow reads it from a file
    slow = cd.from_exif(loaded)
    assert fast == slow == cd.from_exif(exif)
    return slow


def test_with_an_offset_the_instant_is_exact():
    got = both(exif_block(original="2024:05:06 07:08:09", offset="+02:00"))
    assert got == cd.CaptureTime(datetime(2024, 5, 6, 5, 8, 9, tzinfo=UTC).timestamp(), 120)
    assert cd.describe(*got) == "2024-05-06 07:08:09 +02:00"
    west = both(exif_block(original="2023:12:31 23:30:00", offset="-05:30"))
    assert west == cd.CaptureTime(datetime(2024, 1, 1, 5, 0, tzinfo=UTC).timestamp(), -330)
    assert cd.describe(*west) == "2023-12-31 23:30:00 -05:30"


def test_without_an_offset_the_clock_time_is_local(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        got = both(exif_block(original="2024:07:01 12:00:00"))
        assert got is not None and got.offset is None
        assert got.timestamp == datetime(2024, 7, 1, 16, 0, tzinfo=UTC).timestamp()
        assert cd.describe(*got) == "2024-07-01 12:00:00"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_subseconds_and_digitized_fallback():
    got = both(exif_block(original="2024:05:06 07:08:09", offset="+00:00", subsec="25"))
    assert got is not None and got.timestamp % 1 == pytest.approx(0.25)
    scanned = both(exif_block(digitized="1999:01:02 03:04:05", offset_digitized="+01:00"))
    assert scanned == cd.CaptureTime(datetime(1999, 1, 2, 2, 4, 5, tzinfo=UTC).timestamp(), 60)


def test_missing_dates_give_none():
    assert both(Image.Exif()) is None
    assert both(exif_block()) is None  # an EXIF block without the Exif IFD
    assert cd.from_exif(None) is None
    assert cd.from_tiff(b"", 0, 0) is None


@pytest.mark.parametrize(
    "text",
    [
        "0000:00:00 00:00:00",
        "    :  :     :  :  ",
        "2024:13:45 10:00:00",
        "2024:02:30 10:00:00",
        "2024:05:06 25:61:00",
        "yesterday",
        "",
    ],
)
def test_malformed_dates_give_none(text: str):
    assert both(exif_block(original=text, offset="+02:00")) is None


def test_a_malformed_offset_is_ignored_not_fatal():
    got = both(exif_block(original="2024:05:06 07:08:09", offset="+99:00"))
    assert got is not None and got.offset is None
    got = both(exif_block(original="2024:05:06 07:08:09", offset="   :  "))
    assert got is not None and got.offset is None


def test_hostile_bytes_give_none():
    raw = bytearray(exif_block(original="2024:05:06 07:08:09").tobytes())
    for cut in range(8, len(raw), 7):  # every truncation
        assert cd.from_tiff(bytes(raw[:cut]), 6, cut) in (
            None,
            cd.from_tiff(bytes(raw), 6, len(raw)),
        )
    raw[10:14] = b"\xff\xff\xff\x7f"  # IFD0 offset far outside the block
    assert cd.from_tiff(bytes(raw), 6, len(raw)) is None
    assert cd.from_tiff(b"XX*\x00" + b"\x00" * 20, 0, 24) is None


def test_read_from_real_files(tmp_path: Path):
    exif = exif_block(original="2021:08:09 10:11:12", offset="+09:00")
    expected = cd.CaptureTime(datetime(2021, 8, 9, 1, 11, 12, tzinfo=UTC).timestamp(), 540)
    for ext in ("jpg", "png", "webp", "tiff"):
        path = tmp_path / f"x.{ext}"
        Image.new("RGB", (32, 24), (10, 120, 200)).save(path, exif=exif.tobytes())
        with Image.open(path) as im:
            assert cd.from_image(im) == expected, ext
    plain = tmp_path / "plain.jpg"
    Image.new("RGB", (8, 8)).save(plain)
    with Image.open(plain) as im:
        assert cd.from_image(im) is None


def test_offset_helpers():
    assert cd.parse("2024:05:06 07:08:09+01:00") == cd.parse("2024:05:06 07:08:09", "+01:00")
    assert cd.parse(b"2024:05:06 07:08:09\x00", "Z") == cd.CaptureTime(
        datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC).timestamp(), 0
    )
    assert cd.parse("2024:05:06 07:08:09", "+0530").offset == 330
    assert datetime.fromtimestamp(cd.parse("2024-05-06 07:08:09", "+01:00").timestamp, UTC) == (
        datetime(2024, 5, 6, 6, 8, 9, tzinfo=UTC)
    )
    assert timedelta(minutes=cd.parse("2024:05:06 07:08", "-03:00").offset) == timedelta(hours=-3)
