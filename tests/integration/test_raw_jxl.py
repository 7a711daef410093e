"""Camera RAW (DNG written from an array, with and without an embedded JPEG preview) and JPEG XL
files go through the whole pipeline: catalogued, dated, thumbnailed, hashed, rendered for the
duplicate finder, embedded and rated; a RAW file's identity is its sensor data."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from anagnorisis_tui.core.base import formats, hashing, rawformat
from anagnorisis_tui.core.catalogue import ingest_pass, thumbnails
from anagnorisis_tui.core.catalogue.scan_types import ScanOptions
from anagnorisis_tui.core.catalogue.walk import walk
from anagnorisis_tui.core.library import Library
from tests.support.imagefiles import write
from tests.support.rawfiles import dng_bytes, preview_of, write_dng

W, H = 320, 240


@pytest.fixture
def lib(settings):
    library = Library(settings)
    yield library
    library.close()


class MeanModel:
    """The Embedder interface: mean colour per channel + 1 (enough to see an input arrived)."""

    model_id = "mean-model"
    dim = 4
    image_size = 64
    resize_mode = "shortest"
    random_weights = False

    def info(self) -> dict:
        return {"name": "mean"}

    def encode_images(self, batch: np.ndarray) -> np.ndarray:
        means = batch.reshape(len(batch), -1, 3).mean(axis=1)
        return np.concatenate([means, np.ones((len(batch), 1))], axis=1)


def _jxl(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 255, size=(48, 64, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, "JXL")
    return path


def test_raw_and_jxl_are_readable_here():
    status = formats.status()
    assert status["raw"] and status["jxl"]
    for ext in (".cr2", ".cr3", ".nef", ".arw", ".dng", ".raf", ".orf", ".rw2", ".pef", ".jxl"):
        assert ext in formats.EXTENSIONS


def test_a_raw_file_shows_its_preview_else_a_half_size_demosaic():
    preview = preview_of(W, H, 1)
    with Image.open(io.BytesIO(dng_bytes(W, H, seed=1, preview=preview, orientation=6))) as im:
        assert im.format == "RAW" and im.has_preview
        assert im.size == (W, H) and im.sensor_size == (W, H)
        im.draft("RGB", (100, 100))  # the preview decodes at a reduced JPEG scale
        assert im.size == (W // 2, H // 2)
        upright = ImageOps.exif_transpose(im)  # orientation 6: turned a quarter
        assert upright.size == (H // 2, W // 2)
    with Image.open(io.BytesIO(dng_bytes(W, H, seed=1))) as im:
        assert not im.has_preview and im.size == (W // 2, H // 2)
        im.load()
        grey = np.asarray(im.convert("L"), dtype=float)
        # The bright disc of the mosaic is there after the demosaic.
        assert grey.max() - grey.min() > 60


def test_a_plain_tiff_still_reads_as_tiff():
    buf = io.BytesIO()
    Image.new("RGB", (30, 20), (200, 10, 10)).save(buf, "TIFF")
    with Image.open(io.BytesIO(buf.getvalue())) as im:
        assert im.format == "TIFF"
        assert im.convert("RGB").getpixel((0, 0)) == (200, 10, 10)


def test_raw_and_jxl_files_go_through_the_whole_ingest(lib, tmp_path):
    root = tmp_path / "lib"
    date = "2021:05:06 07:08:09"
    write_dng(
        root / "IMG_0001.DNG",
        width=W,
        height=H,
        seed=1,
        orientation=6,
        preview=preview_of(W, H, 1),
        date=date,
    )
    write_dng(root / "raw" / "no-preview.nef", width=W, height=H, seed=2)
    _jxl(root / "photo.jxl", 3)
    listed = {item[2] for item in walk(str(root)) if isinstance(item, tuple)}
    assert listed == {"IMG_0001.DNG", "no-preview.nef", "photo.jxl"}

    cache = thumbnails.cache_dir(lib.data_dir)
    products = ingest_pass.Products(thumbnail_cache=cache, phash=True, embedder=MeanModel())
    summary = lib.catalogue.scan(root, ScanOptions(products=products))
    assert (summary.files, summary.errors) == (3, 0)
    rows = {
        Path(r["path"]).name: r
        for r in lib.db.query(
            "SELECT f.path, f.hash, i.format, i.width, i.height, i.taken, i.pixel_hash, i.phash "
            "FROM files f JOIN images i ON i.hash = f.hash"
        )
    }
    dng, nef, jxl = rows["IMG_0001.DNG"], rows["no-preview.nef"], rows["photo.jxl"]
    assert (dng["format"], dng["width"], dng["height"]) == ("RAW", H, W)  # turned upright
    assert (nef["format"], nef["width"], nef["height"]) == ("RAW", W, H)
    assert jxl["format"] == "JXL"
    assert dng["taken"] is not None and nef["taken"] is None
    for row in (dng, nef, jxl):
        assert row["phash"] is not None
        assert thumbnails.thumbnail_path(cache, str(row["hash"]), thumbnails.THUMB_SIZE).exists()
    assert str(dng["pixel_hash"]).startswith(rawformat.PREFIX)
    assert str(nef["pixel_hash"]).startswith(rawformat.PREFIX)
    assert lib.db.execute("SELECT count(*) FROM renditions").fetchone()[0] == 3
    assert lib.db.execute("SELECT count(*) FROM vectors").fetchone()[0] == 3
    with Image.open(thumbnails.thumbnail_path(cache, str(dng["hash"]), thumbnails.THUMB_SIZE)) as t:
        assert t.height > t.width  # the thumbnail is upright too


def _edit_metadata(path: Path) -> None:
    """What a RAW tool does to a rating or a caption: exiftool rewrites the file's metadata."""
    exiftool = shutil.which("exiftool")
    if exiftool is not None:
        subprocess.run(
            [exiftool, "-q", "-overwrite_original", "-Artist=someone", "-XMP:Rating=4", str(path)],
            check=True,
        )
    else:  # the same kind of edit, done here: a date added to the metadata
        data = path.read_bytes()
        from tests.support.rawfiles import _with_date

        path.write_bytes(_with_date(data, "2020:01:02 03:04:05"))


@pytest.mark.slow
def test_a_metadata_edit_keeps_the_rating_and_a_sensor_change_does_not(lib, tmp_path):
    root = tmp_path / "lib"
    path = write_dng(root / "shot.dng", width=W, height=H, seed=5, preview=preview_of(W, H, 5))
    other = write_dng(root / "other.dng", width=W, height=H, seed=6)
    lib.catalogue.scan(root)
    old = hashing.content_hash_file(path)[0]
    lib.ratings.set(old, 8)
    lib.ratings.set(hashing.content_hash_file(other)[0], 3)
    _edit_metadata(path)
    os.utime(path, ns=(5, 5_000_000_000))
    # Other sensor data under the same name: a new photo, its rating is not carried.
    other.write_bytes(dng_bytes(W, H, seed=7))
    os.utime(other, ns=(6, 6_000_000_000))
    summary = lib.catalogue.scan(root)
    new = hashing.content_hash_file(path)[0]
    assert new != old and summary.pixel_matched == 1
    assert lib.ratings.get(new) == 8
    assert lib.ratings.get(hashing.content_hash_file(other)[0]) is None


def test_a_raw_file_is_shown_in_the_viewer_and_the_grid_as_any_image(tmp_path):
    path = write_dng(tmp_path / "shot.cr2", width=W, height=H, seed=8, preview=preview_of(W, H, 8))
    thumb = thumbnails.make_thumbnail(path, 128)
    assert max(thumb.size) == 128 and thumb.mode == "RGB"
    with Image.open(path) as im:  # what the viewer opens
        im.thumbnail((200, 200))
        assert im.size[0] <= 200 and im.format == "RAW"
    write(tmp_path / "broken.nef", b"II*\x00" + bytes(64))
    with pytest.raises(thumbnails.ThumbnailError):
        thumbnails.make_thumbnail(tmp_path / "broken.nef", 128)
