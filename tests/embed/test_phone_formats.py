"""HEIC/HEIF and AVIF, as a phone backup holds them: scanned, dated, thumbnailed, pixel-hashed
and embedded like any JPEG, out of the box (pillow-heif is a dependency; Pillow reads AVIF)."""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from anagnorisis_tui.core.base import formats
from anagnorisis_tui.core.base.config import load_settings
from anagnorisis_tui.core.catalogue import thumbnails
from anagnorisis_tui.core.demo.shapes import ShapeSpec, render
from anagnorisis_tui.core.library import Library
from tests.support.waiting import PROCESS_HANG_S

pytestmark = pytest.mark.slow


def exif(date: str, offset: str) -> bytes:
    block = Image.Exif()
    block[0x0110] = "Phone"
    block[0x8769] = {0x9003: date, 0x9011: offset}
    return block.tobytes()


@pytest.fixture
def phone(tmp_path: Path) -> Path:
    root = tmp_path / "DCIM"
    root.mkdir()
    red = render(ShapeSpec("red", "circle", "white"), size=96, rng=random.Random(1))
    blue = render(ShapeSpec("blue", "square", "white"), size=96, rng=random.Random(2))
    red.save(root / "IMG_0001.HEIC", exif=exif("2024:07:14 18:30:00", "+02:00"), quality=90)
    blue.save(root / "IMG_0002.avif", exif=exif("2023:01:02 03:04:05", "-05:00"), quality=90)
    # The same picture with other metadata: the same pixels, another file.
    red.save(root / "IMG_0001-edited.heic", exif=exif("2024:07:14 18:30:00", "+00:00"), quality=90)
    return root


def test_phone_formats_are_read_out_of_the_box():
    assert formats.status() == {"heif": True, "avif": True, "raw": True, "jxl": True}
    assert {".heic", ".heif", ".avif"} <= formats.EXTENSIONS


def test_heic_and_avif_through_scan_thumbnails_and_embedding(
    phone: Path, tmp_path: Path, tiny_embedder
):
    settings = load_settings(
        data_dir=tmp_path / "data",
        config_file=tmp_path / "c.toml",
        overrides={"model": "tiny-clip", "pretrained": "", "device": "cpu"},
    )
    lib = Library(settings)
    summary = lib.catalogue.scan(phone)
    assert summary.files == 3 and summary.errors == 0, summary
    rows = {
        Path(path).name: row
        for path, *row in lib.db.execute(
            "SELECT f.path, i.format, i.width, i.height, i.taken, i.taken_offset, i.pixel_hash, "
            "f.hash FROM files f JOIN images i ON i.hash = f.hash"
        )
    }
    heic, avif, edited = rows["IMG_0001.HEIC"], rows["IMG_0002.avif"], rows["IMG_0001-edited.heic"]
    assert heic[:3] == ["HEIF", 96, 96] and avif[:3] == ["AVIF", 96, 96]
    assert heic[3:5] == [datetime(2024, 7, 14, 16, 30, tzinfo=UTC).timestamp(), 120]
    assert avif[3:5] == [datetime(2023, 1, 2, 8, 4, 5, tzinfo=UTC).timestamp(), -300]
    # Pixel identity: another file (content hash), the same decoded pixels (pixel hash).
    assert heic[5] and avif[5] and edited[5] == heic[5] and edited[6] != heic[6]

    cache = thumbnails.cache_dir(settings.data_dir)
    for name, row in rows.items():
        thumb = thumbnails.ensure_thumbnail(cache, phone / name, row[6])
        with Image.open(thumb) as im, Image.open(phone / name) as source:
            assert im.size == (96, 96), name
            # The thumbnail shows the picture (JPEG-close to the decoded phone file).
            a = np.asarray(im.convert("RGB"), dtype=np.float32)
            b = np.asarray(source.convert("RGB"), dtype=np.float32)
            assert np.abs(a - b).mean() < 8, name

    lib.semantic.use_embedder(tiny_embedder)
    embedded = lib.semantic.embed()
    assert embedded.errors == 0 and lib.semantic.vector_counts() == (3, 3)
    hits = lib.semantic.search("a red circle", top_k=3)
    assert Path(hits[0].path).name.startswith("IMG_0001")
    lib.close()


def test_a_process_that_only_makes_thumbnails_reads_heic(phone: Path):
    code = (
        "import sys; from anagnorisis_tui.core.catalogue import thumbnails; "
        "im = thumbnails.make_thumbnail(sys.argv[1]); print(im.size)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(phone / "IMG_0001.HEIC")],
        capture_output=True,
        text=True,
        timeout=PROCESS_HANG_S,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(96, 96)"
