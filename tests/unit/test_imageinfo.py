"""Header probing and hashing on real images: the fast JPEG/PNG path must agree with Pillow."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from anagnorisis_tui.core.base import fsnames, hashing
from anagnorisis_tui.core.catalogue import imageinfo
from anagnorisis_tui.core.catalogue.imageinfo import BadImage, decode_pixel_hash, inspect_file
from anagnorisis_tui.core.demo import generate as demo
from tests.support.imagefiles import (
    exif_orientation_jpeg,
    jpeg_bytes,
    noise,
    with_app_segment,
    write,
)


def pillow_view(path: Path) -> tuple[int, int, str, int]:
    with Image.open(path) as im:
        upright = ImageOps.exif_transpose(im)
        return upright.width, upright.height, im.format, getattr(im, "n_frames", 1)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_jpeg_exif_orientation_matches_pillow(tmp_path, orientation):
    path = write(tmp_path / f"o{orientation}.jpg", exif_orientation_jpeg(orientation))
    got = inspect_file(str(path))
    assert (got.info.width, got.info.height, got.info.format, got.info.frames) == pillow_view(path)
    assert got.info.orientation == orientation
    assert got.hash == hashing.content_hash_file(path)[0]
    assert got.size == path.stat().st_size


def test_varied_real_images_match_pillow(tmp_path):
    files = [write(tmp_path / "prog.jpg", jpeg_bytes(1, (64, 40), progressive=True))]
    files.append(write(tmp_path / "gray.jpg", jpeg_bytes(2)))
    Image.new("CMYK", (30, 20), (10, 20, 30, 40)).save(tmp_path / "cmyk.jpg")
    noise(20, 10, mode="RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(np.asarray(noise(16, 9, mode="L")).astype("uint16") * 257).save(
        tmp_path / "deep.png"
    )
    pal = noise(12, 12).convert("P")
    pal.save(tmp_path / "pal.png", transparency=3)
    frames = [noise(10, 8, seed=s) for s in range(3)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "anim.png", save_all=True, append_images=frames[1:])
    noise(14, 6).save(tmp_path / "x.webp")
    noise(14, 6).save(tmp_path / "x.bmp")
    noise(14, 6).save(tmp_path / "x.tiff")
    if ".avif" in imageinfo.EXTENSIONS:  # Pillow built with libavif
        noise(14, 6).save(tmp_path / "x.avif")
    exif = Image.Exif()
    exif[0x0112] = 8
    noise(30, 10).save(tmp_path / "rot.png", exif=exif.tobytes())
    for source, _rel in demo.sample_sources():
        files.append(Path(source))
    for path in sorted(tmp_path.iterdir()) + files:
        if path.suffix == ".tif" and "multipage_rgb" in path.name:
            continue  # Pillow cannot open this one (tested as a bad file elsewhere)
        got = inspect_file(str(path))
        view = pillow_view(path)
        assert (got.info.width, got.info.height, got.info.format, got.info.frames) == view, path


def test_bad_inputs_have_clear_reasons(tmp_path):
    good = jpeg_bytes(0, (64, 64))
    ihdr = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
    bomb = b"\x89PNG\r\n\x1a\n" + ihdr + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
    bomb += _png_chunk(b"IEND", b"")
    png = io.BytesIO()
    noise(40, 40).save(png, "PNG")
    cases = {
        "zero.jpg": (b"", "empty file"),
        "random.jpg": (os.urandom(3000), "not an image"),
        "truncated.jpg": (good[: len(good) // 2], "truncated JPEG"),
        "bomb.png": (bomb, "decompression bomb"),
        "truncated.png": (png.getvalue()[:300], "truncated PNG"),
        "header-only.png": (bomb[:40], "truncated PNG"),
        "text.png": (b"hello world, I am not a PNG", "not an image"),
    }
    for name, (data, reason) in cases.items():
        path = write(tmp_path / name, data)
        with pytest.raises(BadImage, match=reason):
            inspect_file(str(path))
    with pytest.raises(BadImage, match="not a regular file"):
        os.mkfifo(tmp_path / "fifo.jpg")
        inspect_file(str(tmp_path / "fifo.jpg"))


def test_gif_bomb_is_refused_by_header(tmp_path):
    # A GIF whose logical screen and frame declare 65535x65535 pixels in a few bytes.
    gif = (
        b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00\x00\x00"
        b"\x2c" + struct.pack("<HHHH", 0, 0, 65535, 65535) + b"\x00\x02\x02\x44\x01\x00\x3b"
    )
    path = write(tmp_path / "bomb.gif", gif)
    with pytest.raises(BadImage, match="too large"):
        inspect_file(str(path))


def test_big_file_is_streamed_and_matches(tmp_path, monkeypatch):
    monkeypatch.setattr(imageinfo, "WHOLE_READ_LIMIT", 1000)
    monkeypatch.setattr(imageinfo, "CHUNK", 777)
    data = exif_orientation_jpeg(6, size=(80, 60))
    path = write(tmp_path / "big.jpg", data)
    got = inspect_file(str(path))
    assert (got.info.width, got.info.height) == (60, 80)
    assert got.hash == hashing.content_hash_bytes(data)
    write(tmp_path / "cut.jpg", data[:-600])
    with pytest.raises(BadImage, match="truncated"):
        inspect_file(str(tmp_path / "cut.jpg"))


def test_pixel_hash_survives_metadata_rewrite_not_rotation(tmp_path):
    original = jpeg_bytes(5)
    edited = with_app_segment(original, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>")
    assert original != edited
    a = write(tmp_path / "a.jpg", original)
    b = write(tmp_path / "b.jpg", edited)
    pa = decode_pixel_hash(str(a), hashing.content_hash_bytes(original))
    assert pa == decode_pixel_hash(str(b), hashing.content_hash_bytes(edited))
    # Orientation changes what is shown: a different pixel identity.
    rot = write(tmp_path / "rot.jpg", exif_orientation_jpeg(6, seed=5))
    up = write(tmp_path / "up.jpg", exif_orientation_jpeg(1, seed=5))
    assert decode_pixel_hash(str(rot), hashing.content_hash_file(rot)[0]) != decode_pixel_hash(
        str(up), hashing.content_hash_file(up)[0]
    )
    # Palette order differs but the pixels are equal: same pixel hash.
    img = noise(8, 8).quantize(16)
    alt = img.remap_palette(list(range(15, -1, -1)))
    assert img.tobytes() != alt.tobytes()
    assert hashing.pixel_hash(img) == hashing.pixel_hash(alt)
    # A file that changed since it was hashed is not decoded as that content.
    assert decode_pixel_hash(str(a), "0" * 32) is None


def test_pixel_decode_failure_is_bad_image(tmp_path):
    # A well-formed PNG (header, IDAT, IEND) whose compressed pixel data is garbage.
    ihdr = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 32, 32, 8, 2, 0, 0, 0))
    data = b"\x89PNG\r\n\x1a\n" + ihdr + _png_chunk(b"IDAT", b"\x78\x9c" + b"\xff" * 50)
    data += _png_chunk(b"IEND", b"")
    path = write(tmp_path / "broken.png", data)
    assert inspect_file(str(path)).info.width == 32  # the header pass accepts it
    with pytest.raises(BadImage, match="pixels|truncated"):
        decode_pixel_hash(str(path), hashing.content_hash_bytes(data))
    # A JPEG cut short mid-scan still decodes (libjpeg pads it); a cut one is caught by header.
    good = jpeg_bytes(3, (64, 64))
    cut = write(tmp_path / "cut.jpg", good[: len(good) // 2])
    with pytest.raises(BadImage, match="truncated JPEG"):
        inspect_file(str(cut))


def test_hash_candidates_agree_on_size():
    data = io.BytesIO(b"x" * 1000).getvalue()
    assert {name: len(fn(data)) for name, fn in hashing.CANDIDATES.items()} == {
        "xxh3_128": 32,
        "blake2b-128": 32,
        "md5": 32,
        "sha1": 40,
    }


def test_fsnames_round_trip_any_bytes():
    samples = [
        b"/lib/caf\xe9.jpg",
        b"/lib/\xff\xfe\x80.png",
        "/lib/\uef80 real pua.jpg".encode(),
        b"/lib/mixed \xc3\xa9 \xe9 \xee\xbe\x80.jpg",
        b"/lib/plain.jpg",
        os.urandom(40).replace(b"\x00", b"_").replace(b"/", b"_"),
    ]
    texts = set()
    for raw in samples:
        os_path = os.fsdecode(raw)
        text = fsnames.to_db(os_path)
        text.encode("utf-8")  # storable
        assert fsnames.to_os(text) == os_path
        assert os.fsencode(fsnames.to_os(text)) == raw
        texts.add(text)
    assert len(texts) == len(samples)
    assert fsnames.to_db("/ok/é.jpg") == "/ok/é.jpg"
    assert fsnames.display("a\x1b[31mb\x9bc") == "a\\x1b[31mb\\x9bc"
    assert fsnames.display("[bold]x[/]") == "[bold]x[/]"


def test_mutated_files_only_ever_raise_bad_image(tmp_path):
    """Header fuzz: truncations and byte flips of real JPEG/PNG/GIF/WebP files."""
    import random

    rng = random.Random(1)
    seeds = [exif_orientation_jpeg(6), jpeg_bytes(1, progressive=True)]
    for fmt in ("PNG", "GIF", "WEBP"):
        buf = io.BytesIO()
        noise(20, 12).save(buf, fmt)
        seeds.append(buf.getvalue())
    path = tmp_path / "fuzz.img"
    outcomes = set()
    for n in range(200):
        data = bytearray(rng.choice(seeds))
        if n % 2:
            data = data[: rng.randrange(1, len(data))]
        for _ in range(rng.randrange(1, 6)):
            data[rng.randrange(min(len(data), 200))] = rng.randrange(256)
        path.write_bytes(bytes(data))
        try:
            got = inspect_file(str(path))
            outcomes.add("ok")
            assert got.info.width > 0 and got.info.height > 0
        except BadImage:
            outcomes.add("bad")
    assert outcomes == {"ok", "bad"}
