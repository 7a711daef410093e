"""Thumbnails: EXIF orientation, reduced decoding, the cache by content hash, bad input."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from PIL import Image

from anagnorisis_tui.core.catalogue import thumbnails as th


def _jpeg(path: Path, size=(1600, 1200), orientation: int | None = None) -> Path:
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))  # left half blue
    kw = {}
    if orientation:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kw["exif"] = exif.tobytes()
    image.save(path, "JPEG", quality=85, **kw)
    return path


def test_thumbnail_fits_and_keeps_aspect(tmp_path):
    thumb = th.make_thumbnail(_jpeg(tmp_path / "a.jpg"), 256)
    assert thumb.size == (256, 192)
    assert thumb.mode == "RGB"


def test_exif_orientation_is_applied(tmp_path):
    # Orientation 6: stored landscape, shown rotated 90° clockwise (portrait).
    thumb = th.make_thumbnail(_jpeg(tmp_path / "r.jpg", orientation=6), 256)
    assert thumb.size == (192, 256)
    top = thumb.getpixel((96, 5))
    assert top[2] > top[0]  # the blue half is on top after rotation


@pytest.mark.slow
def test_draft_decodes_less_than_full_size(tmp_path):
    path = _jpeg(tmp_path / "big.jpg", size=(4000, 3000))
    reduced = th.load_reduced(path, 256)
    full = th.load_reduced(path, 256, draft=False)
    assert full.size == (4000, 3000)
    assert reduced.size[0] < 1000 and reduced.size[0] >= 256


def test_transparent_and_sixteen_bit_images(tmp_path):
    rgba = Image.new("RGBA", (300, 200), (255, 0, 0, 0))
    rgba.save(tmp_path / "t.png")
    assert th.make_thumbnail(tmp_path / "t.png").getpixel((0, 0)) == th.BACKGROUND
    Image.new("I;16", (300, 200), 40000).save(tmp_path / "g.png")
    grey = th.make_thumbnail(tmp_path / "g.png").getpixel((0, 0))
    assert 100 < grey[0] < 200  # scaled to 8 bits, not clipped to white


def test_cache_by_hash_and_size_is_atomic(tmp_path):
    cache = tmp_path / "cache"
    src = _jpeg(tmp_path / "a.jpg")
    path = th.ensure_thumbnail(cache, src, "ab" * 16, 128)
    assert path == th.thumbnail_path(cache, "ab" * 16, 128)
    assert path.parent.name == "ab" and path.parent.parent.name == "128"
    mtime = path.stat().st_mtime_ns
    os.remove(src)  # a cached thumbnail never rereads the original
    assert th.ensure_thumbnail(cache, src, "ab" * 16, 128).stat().st_mtime_ns == mtime
    assert not [p for p in cache.rglob("*") if p.name.endswith(".tmp")]


def test_corrupt_and_missing_files_raise_thumbnail_error(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(th.ThumbnailError):
        th.make_thumbnail(bad)
    with pytest.raises(th.ThumbnailError):
        th.make_thumbnail(tmp_path / "missing.jpg")
    store = th.ThumbnailStore(tmp_path / "cache")
    with pytest.raises(th.ThumbnailError):
        store.get("cd" * 16, bad)
    assert store.failure("cd" * 16)


def test_store_memory_is_bounded(tmp_path):
    store = th.ThumbnailStore(tmp_path / "cache", size=64, memory=3)
    for i in range(5):
        src = _jpeg(tmp_path / f"{i}.jpg", size=(100, 80))
        store.get(f"{i:032x}", src)
    assert store.peek(f"{0:032x}") is None
    assert store.peek(f"{4:032x}") is not None


def test_generate_skips_cached_and_stops_on_cancel(tmp_path):
    cache = tmp_path / "cache"
    items = [(f"{i:032x}", str(_jpeg(tmp_path / f"{i}.jpg", size=(120, 90)))) for i in range(4)]
    items.append(("ee" * 16, str(tmp_path / "missing.jpg")))
    first = th.generate(cache, items, total=len(items))
    assert (first.made, first.failed, first.cancelled) == (4, 1, False)
    again = th.generate(cache, items)
    assert again.made == 0 and again.cached == 4
    cancel = threading.Event()
    cancel.set()
    stopped = th.generate(cache, items, cancel=cancel)
    assert stopped.cancelled and stopped.done == 0


def test_get_many_sends_what_the_cache_lacks_to_the_maker_and_survives_its_crash(tmp_path):
    cache = tmp_path / "cache"
    paths = [_jpeg(tmp_path / f"p{i}.jpg", size=(320, 240)) for i in range(4)]
    th.ensure_thumbnail(cache, paths[0], "h0")  # already cached: never sent to the maker
    asked: list[list[tuple[str, str]]] = []

    def maker(items, size, made):
        asked.append(items)
        h, path = items[0]
        th.ensure_thumbnail(cache, path, h, size)  # as the child process does
        assert made(h, "")
        raise th.ThumbnailError("the thumbnail process was killed by SIGSEGV")

    store = th.ThumbnailStore(cache, maker=maker)
    got: dict[str, tuple[bool, str]] = {}
    store.get_many(
        [(f"h{i}", str(p)) for i, p in enumerate(paths)],
        lambda h, image, error: got.__setitem__(h, (image is not None, error)),
    )
    assert asked == [[("h1", str(paths[1])), ("h2", str(paths[2])), ("h3", str(paths[3]))]]
    assert got["h0"] == (True, "") and got["h1"] == (True, "")
    assert not got["h2"][0] and "SIGSEGV" in got["h2"][1] and not got["h3"][0]
    # The item it died on is remembered (no crash on every scroll); the rest are asked again.
    assert store.failure("h2") and store.failure("h3") is None
    asked.clear()
    store.get_many([("h2", str(paths[2])), ("h3", str(paths[3]))], lambda *_: None)
    assert asked == [[("h3", str(paths[3]))]]
