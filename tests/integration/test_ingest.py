"""The ingest pass: one read and one decode per new content, and decode-free JPEG identity."""

from __future__ import annotations

import io
import os
import struct
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from anagnorisis_tui.core.base import hashing
from anagnorisis_tui.core.catalogue import ingest_derive, ingest_pass, thumbnails
from anagnorisis_tui.core.catalogue.jpeg_identity import PREFIX, stream_identity
from anagnorisis_tui.core.catalogue.scan_types import ScanOptions
from anagnorisis_tui.core.duplicates import phash
from anagnorisis_tui.core.duplicates.options import GroupOptions
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.semantic import imageprep, vectors
from tests.support.imagefiles import jpeg_bytes, save, with_app_segment, write


@pytest.fixture
def lib(settings):
    library = Library(settings)
    yield library
    library.close()


def _photo(seed: int, size=(640, 480)) -> Image.Image:
    """A photo-like picture: large shapes of colour over a gradient, with sensor noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : size[1], 0 : size[0]].astype(np.float32)
    base = np.stack([x / size[0] * 255, y / size[1] * 255, (x + y) / sum(size) * 255], -1)
    for _ in range(4):
        cx, cy = rng.random(2) * size
        r = (0.1 + 0.2 * rng.random()) * min(size)
        base[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = rng.random(3) * 255
    noisy = base + rng.normal(0, 6, base.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype("uint8"))


def _jpeg(seed: int, size=(640, 480), **kw) -> bytes:
    buf = io.BytesIO()
    _photo(seed, size).save(buf, "JPEG", **{"quality": 88, **kw})
    return buf.getvalue()


def _exif(**tags: object) -> bytes:
    exif = Image.Exif()
    for tag, value in tags.items():
        exif[int(tag[1:], 16)] = value
    return exif.tobytes()


class FakeModel:
    """The Embedder interface, with a deterministic 'model': mean colour per channel + 1."""

    model_id = "fake-model"
    dim = 4
    image_size = 224
    resize_mode = "shortest"
    random_weights = False

    def __init__(self) -> None:
        self.inputs: list[np.ndarray] = []

    def info(self) -> dict:
        return {"name": "fake"}

    def encode_images(self, batch: np.ndarray) -> np.ndarray:
        self.inputs.extend(batch)
        means = batch.reshape(len(batch), -1, 3).mean(axis=1)
        return np.concatenate([means, np.ones((len(batch), 1))], axis=1)


def test_metadata_edits_keep_the_jpeg_identity_and_pixel_edits_break_it():
    data = _jpeg(1)
    ident = stream_identity(data, 1)
    assert ident is not None and ident.startswith(PREFIX)
    # EXIF, XMP, a comment, an ICC profile, trailing data after the image: same identity.
    tagged = with_app_segment(data, b"Exif\x00\x00" + _exif(x010E="a caption"))
    xmp = with_app_segment(tagged, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>", 0xE1)
    commented = with_app_segment(xmp, b"a comment", 0xFE)
    with_icc = with_app_segment(commented, b"ICC_PROFILE\x00\x01\x01" + bytes(64), 0xE2)
    for edited in (tagged, xmp, commented, with_icc, data + b"camera trailer \xff\xd9 junk"):
        assert edited != data
        assert stream_identity(edited, 1) == ident
    # One changed pixel, another quality, another orientation: another identity.
    image = _photo(1)
    image.putpixel((10, 10), (0, 0, 0))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=88)
    assert stream_identity(buf.getvalue(), 1) != ident
    assert stream_identity(_jpeg(1, quality=80), 1) != ident
    assert stream_identity(data, 6) != ident
    # Progressive coding is a different stream (counted as new content) but still identified.
    progressive = _jpeg(1, progressive=True)
    assert stream_identity(progressive, 1) not in (None, ident)


def test_truncated_or_odd_jpegs_are_left_to_a_decode():
    data = _jpeg(2)
    assert stream_identity(data[: len(data) // 2], 1) is None
    assert stream_identity(b"\xff\xd8\xff\xe0\x00", 1) is None
    assert stream_identity(b"not a jpeg at all", 1) is None


def test_scan_identity_is_decode_free_for_jpeg_and_a_decode_elsewhere(lib, tmp_path):
    root = tmp_path / "lib"
    write(root / "a.jpg", _jpeg(3))
    save(root / "b.png", _photo(4, (64, 48)))
    lib.catalogue.scan(root)
    got = dict(lib.db.execute("SELECT format, pixel_hash FROM images").fetchall())
    assert got["JPEG"] == stream_identity((root / "a.jpg").read_bytes(), 1)
    with Image.open(root / "b.png") as im:
        assert got["PNG"] == hashing.pixel_hash(im)


@pytest.mark.slow
def test_one_read_and_one_reduced_decode_give_every_product(lib, tmp_path, monkeypatch):
    root = tmp_path / "lib"
    for i in range(5):
        write(root / f"p{i}.jpg", _jpeg(10 + i, (1024, 768)))
    save(root / "flat.png", _photo(20, (300, 200)))
    opened: list[tuple[str | None, tuple[int, int]]] = []
    real_load = ImageFile.ImageFile.load

    def counting_load(self):
        if self.tile:  # not decoded yet: this call decodes
            opened.append((self.format, self.size))
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    reads: list[str] = []
    real_open = open

    def counting_open(path, mode="r", *a, **kw):
        if "b" in mode and str(path).startswith(str(root)):
            reads.append(str(path))
        return real_open(path, mode, *a, **kw)

    monkeypatch.setattr(ingest_derive, "open", counting_open, raising=False)
    model = FakeModel()
    cache = thumbnails.cache_dir(lib.settings.data_dir)
    products = ingest_pass.Products(thumbnail_cache=cache, phash=True, embedder=model)
    summary = lib.catalogue.scan(root, ScanOptions(products=products))
    assert summary.new == 6 and not summary.cancelled
    done = summary.ingest
    assert done is not None
    assert (done.identified, done.phashed, done.thumbnails, done.embedded) == (6, 6, 6, 6)
    # One read in the ingest pass per content, one decode per content: the JPEGs at 1/2
    # scale (the largest product side, 256, still fits), the PNG in full.
    assert sorted(reads) == sorted(str(p) for p in root.iterdir())
    assert sorted(opened) == sorted([("JPEG", (512, 384))] * 5 + [("PNG", (300, 200))])
    rows = lib.db.execute("SELECT hash, pixel_hash, phash FROM images").fetchall()
    assert all(p is not None and ph is not None for _, p, ph in rows)
    hashes = [h for h, _, _ in rows]
    assert sorted(vectors.load_vectors(lib.db, model.model_id, hashes)[0]) == sorted(hashes)
    assert all(thumbnails.cached(cache, h) for h in hashes)
    # The products equal what each older, separate pass made from its own decode.
    monkeypatch.setattr(ImageFile.ImageFile, "load", real_load)
    path = root / "p0.jpg"
    content = hashing.content_hash_file(path)[0]
    stored = lib.db.execute("SELECT phash FROM images WHERE hash = ?", [content]).fetchone()[0]
    assert phash.hamming(stored, phash.phash_file(path)) <= 4
    made = thumbnails.load_thumbnail(thumbnails.cached(cache, content))
    assert made.size == thumbnails.make_thumbnail(path).size
    first = next(i for i, h in enumerate(hashes) if h == content)
    assert np.array_equal(model.inputs[first], imageprep.load(path, 224))


def test_a_second_scan_derives_nothing_and_a_model_change_only_embeds(lib, tmp_path):
    root = tmp_path / "lib"
    for i in range(3):
        write(root / f"p{i}.jpg", _jpeg(30 + i))
    cache = thumbnails.cache_dir(lib.settings.data_dir)
    products = ingest_pass.Products(thumbnail_cache=cache, phash=True)
    lib.catalogue.scan(root, ScanOptions(products=products))
    again = lib.catalogue.scan(root, ScanOptions(products=products)).ingest
    assert again is not None and again.total == 0
    model = FakeModel()
    with_model = ingest_pass.Products(thumbnail_cache=cache, phash=True, embedder=lambda: model)
    last = lib.catalogue.scan(root, ScanOptions(products=with_model)).ingest
    assert last is not None and (last.total, last.embedded, last.identified) == (3, 3, 0)


def test_metadata_edit_keeps_the_rating_without_a_decode(lib, tmp_path, monkeypatch):
    root = tmp_path / "lib"
    original = _jpeg(40)
    path = write(root / "photo.jpg", original)
    lib.catalogue.scan(root)
    old = hashing.content_hash_bytes(original)
    lib.ratings.set(old, 7)
    write(path, with_app_segment(original, b"Exif\x00\x00" + _exif(x010E="edited")))
    os.utime(path, ns=(5, 5_000_000_000))

    def no_decode(self):
        raise AssertionError("identity of a JPEG must not decode it")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decode)
    summary = lib.catalogue.scan(root)
    new = hashing.content_hash_file(path)[0]
    assert new != old and summary.changed == 1 and summary.pixel_matched == 1
    assert lib.ratings.get(new) == 7


def test_catalogues_identified_by_a_full_decode_still_carry_ratings(lib, tmp_path):
    root = tmp_path / "lib"
    original = _jpeg(50)
    path = write(root / "photo.jpg", original)
    lib.catalogue.scan(root)
    old = hashing.content_hash_bytes(original)
    with Image.open(path) as im:
        decoded = hashing.pixel_hash(im)
    with lib.db.conn:  # as an older version recorded it
        lib.db.execute("UPDATE images SET pixel_hash = ? WHERE hash = ?", [decoded, old])
    lib.ratings.set(old, 4)
    write(path, with_app_segment(original, b"Exif\x00\x00" + _exif(x010E="edited")))
    os.utime(path, ns=(5, 5_000_000_000))
    summary = lib.catalogue.scan(root)
    new = hashing.content_hash_file(path)[0]
    assert summary.pixel_matched == 1 and lib.ratings.get(new) == 4
    assert (
        lib.db.execute("SELECT pixel_hash FROM images WHERE hash = ?", [new])
        .fetchone()[0]
        .startswith(PREFIX)
    )


def test_undecodable_content_is_recorded_and_cancel_keeps_what_was_done(lib, tmp_path):
    root = tmp_path / "lib"
    for i in range(12):
        write(root / f"p{i:02d}.jpg", jpeg_bytes(i, (64, 48)))

    # A whole PNG whose compressed pixel data is garbage: only a decode finds out.
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    garbage = chunk(b"IDAT", b"\x78\x9c" + b"\xff" * 40)
    write(
        root / "broken.png",
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + garbage + chunk(b"IEND", b""),
    )
    cancel = threading.Event()
    seen = []

    def progress(p):
        seen.append(p)
        if p.stage == "ingest" and p.done >= 4:
            cancel.set()

    products = ingest_pass.Products(phash=True, batch_size=2)
    first = lib.catalogue.scan(
        root, ScanOptions(products=products), progress=progress, cancel=cancel
    )
    assert first.cancelled
    kept = lib.db.execute("SELECT count(*) FROM images WHERE phash IS NOT NULL").fetchone()[0]
    assert kept + first.errors >= 4  # the batch in hand when the cancel came is kept
    rest = lib.catalogue.scan(root, ScanOptions(products=products)).ingest
    assert rest is not None and rest.total == 13 - kept - first.errors
    assert lib.db.execute(
        "SELECT count(*) FROM images WHERE phash IS NULL AND hash IN (SELECT hash FROM files)"
    ).fetchone() == (0,)
    errors = dict(lib.catalogue.errors())
    assert any(p.endswith("broken.png") and "pixels" in r for p, r in errors.items())


@pytest.mark.slow
def test_the_scan_stores_renditions_so_grouping_decodes_nothing(lib, tmp_path, monkeypatch):
    from anagnorisis_tui.core.duplicates import renditions, verify

    root = tmp_path / "lib"
    photo = _photo(60, (640, 480))
    write(root / "a.jpg", _jpeg(60))
    save(root / "a-small.png", photo.resize((320, 240)))
    # EXIF-rotated: the rendition is of the picture as displayed, with its displayed size.
    write(root / "turned.jpg", _jpeg(61, exif=_exif(x0112=6)))
    logo = Image.new("RGBA", (200, 200), (255, 255, 255, 0))
    logo.paste((255, 255, 255, 255), (40, 40, 160, 160))
    save(root / "logo.png", logo)
    # As the app's scan does: thumbnails into the data dir's cache too (the second look at a
    # candidate pair reads them).
    from anagnorisis_tui.core.catalogue import thumbnails

    cache = thumbnails.cache_dir(lib.settings.data_dir)
    lib.catalogue.scan(
        root, ScanOptions(products=ingest_pass.Products(thumbnail_cache=cache, phash=True))
    )
    assert renditions.pending(lib.db) == 0
    stored = {
        h: (w, hgt)
        for h, w, hgt in lib.db.execute("SELECT hash, width, height FROM renditions").fetchall()
    }
    by_path = dict(lib.db.execute("SELECT path, hash FROM files").fetchall())
    assert len(stored) == 4
    assert stored[by_path[str(root / "turned.jpg")]] == (480, 640)
    assert stored[by_path[str(root / "a.jpg")]] == (640, 480)
    # What the ingest pass stored is what the lazy pass would make from its own decode.
    for name in ("a.jpg", "turned.jpg", "logo.png"):
        data, w, hgt, _ = renditions.decode_for_duplicates(str(root / name))
        made = renditions.load(lib.db, [by_path[str(root / name)]])[by_path[str(root / name)]]
        assert (made.width, made.height) == (w, hgt)
        assert np.abs(made.pixels - verify.from_bytes(data, w, hgt).pixels).mean() < 2.0

    # Grouping decodes no original: the renditions are there. (The second look at a candidate
    # pair reads the 256-px thumbnails the scan wrote into the data dir, never the library.)
    load = ImageFile.ImageFile.load

    def no_original_decode(self):
        if str(getattr(self, "filename", "") or "").startswith(str(root)):
            raise AssertionError("grouping must not decode what the scan already decoded")
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_original_decode)
    report = lib.duplicates.group_report(GroupOptions(method="phash"))
    assert report.unverified == 0
    together = [{Path(m.path).name for m in g.members} for g in report.groups]
    assert {"a.jpg", "a-small.png"} in together


def test_a_batch_stopped_between_its_writes_leaves_none_of_itself(lib, tmp_path, monkeypatch):
    """A kill between a batch's perceptual hashes and its renditions (CI caught one) left content
    with a hash and no rendition: the next run redid work the catalogue counted as done. A batch
    is one transaction: stopped anywhere in its writes, none of it is kept."""
    from anagnorisis_tui.core.duplicates import renditions

    root = tmp_path / "lib"
    for i in range(6):
        write(root / f"p{i}.jpg", jpeg_bytes(i, (64, 48)))
    model = FakeModel()
    products = ingest_pass.Products(phash=True, batch_size=3, embedder=lambda: model)
    calls = {"n": 0}
    store = renditions.store

    def store_then_die(db, rows):
        calls["n"] += 1
        if calls["n"] == 2:  # the second batch: its pixels and hashes are written by now
            raise KeyboardInterrupt
        store(db, rows)

    monkeypatch.setattr(renditions, "store", store_then_die)
    with pytest.raises(KeyboardInterrupt):
        lib.catalogue.scan(root, ScanOptions(products=products))
    monkeypatch.setattr(renditions, "store", store)
    has = {
        what: lib.db.execute(f"SELECT count(*) FROM {sql}").fetchone()[0]
        for what, sql in {
            "phash": "images WHERE phash IS NOT NULL",
            "pixels": "images WHERE pixel_hash IS NOT NULL",
            "renditions": "renditions",
            "vectors": "vectors",
        }.items()
    }
    kept = has["vectors"]  # the first batch, whole
    assert 0 < kept < 6 and has == dict.fromkeys(has, kept)
    rest = lib.catalogue.scan(root, ScanOptions(products=products)).ingest
    assert rest is not None and rest.total == 6 - kept and rest.embedded == 6 - kept
