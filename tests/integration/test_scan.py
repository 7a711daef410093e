"""The incremental scan on real files and a real catalogue: identity, moves, bad input, resume."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading

import numpy as np
import pytest

from anagnorisis_tui.core.base import db as dbmod
from anagnorisis_tui.core.base.config import replace
from anagnorisis_tui.core.catalogue import record_pass
from anagnorisis_tui.core.catalogue.scan import ScanError
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.semantic import vectors
from tests.support.imagefiles import jpeg_bytes, noise, tree_snapshot, with_app_segment, write


@pytest.fixture
def lib(settings):
    library = Library(settings)
    yield library
    library.close()


@pytest.fixture
def opens(monkeypatch):
    """Count the files the catalogue pass opens (by OS path)."""
    calls: list[str] = []
    real = record_pass.inspect_file

    def counting(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(record_pass, "inspect_file", counting)
    return calls


def make_library(root, count=6):
    for i in range(count):
        write(root / f"f{i % 3}" / f"img{i}.jpg", jpeg_bytes(i))
    return root


def present(lib, root):
    return {
        os.path.relpath(p, root): h
        for p, h in lib.db.execute("SELECT path, hash FROM files WHERE present = 1")
    }


def test_unchanged_files_are_not_reopened(lib, tmp_path, opens):
    root = make_library(tmp_path / "lib")
    write(root / "bad.jpg", b"not a jpeg at all")
    first = lib.catalogue.scan(root)
    assert (first.files, first.new, first.errors) == (6, 6, 1)
    assert len(opens) == 7
    opens.clear()
    again = lib.catalogue.scan(root)
    assert opens == []  # neither the 6 good nor the bad file was opened again
    assert (again.unchanged, again.new, again.errors, again.files) == (6, 0, 1, 6)
    # Touching a file (new mtime, same bytes) rereads it but keeps its identity.
    target = root / "f0" / "img0.jpg"
    os.utime(target, ns=(1, 1_000_000_000))
    touched = lib.catalogue.scan(root)
    assert opens == [str(target)] and touched.changed == 0 and touched.unchanged == 6
    # Rewriting a file with other pixels is a content change.
    write(target, jpeg_bytes(99))
    changed = lib.catalogue.scan(root)
    assert changed.changed == 1 and changed.files == 6


def test_move_rename_copy_keep_ratings_and_vectors(lib, tmp_path):
    root = make_library(tmp_path / "lib")
    lib.catalogue.scan(root)
    hashes = present(lib, root)
    rated = hashes[os.path.join("f0", "img0.jpg")]
    lib.ratings.set(rated, 8)
    vectors.register_model(lib.db, "m", 4)
    vectors.put_vectors(lib.db, "m", [rated], np.ones((1, 4)))
    # Move a whole folder, rename a file, copy another.
    shutil.move(root / "f0", root / "moved" / "f0")
    os.rename(root / "f1" / "img1.jpg", root / "f1" / "renamed.jpg")
    shutil.copy(root / "f2" / "img2.jpg", root / "copy.jpg")
    summary = lib.catalogue.scan(root)
    assert summary.moved == 4 and summary.vanished == 3 and summary.new == 0
    assert summary.files == 7
    after = present(lib, root)
    assert after[os.path.join("moved", "f0", "img0.jpg")] == rated
    entry = lib.views.entry(str(root / "moved" / "f0" / "img0.jpg"))
    assert entry is not None and entry.rating == 8
    assert lib.views.entry(str(root / "f0" / "img0.jpg")) is None  # gone from the views
    assert vectors.load_vectors(lib.db, "m", [rated])[0] == [rated]
    assert lib.db.execute(
        "SELECT present FROM files WHERE path = ?", [str(root / "f0" / "img0.jpg")]
    ).fetchone() == (0,)


def test_metadata_only_edit_keeps_rating_and_vectors_via_pixels(lib, tmp_path):
    root = tmp_path / "lib"
    original = jpeg_bytes(7)
    path = write(root / "photo.jpg", original)
    lib.catalogue.scan(root)
    old = present(lib, root)["photo.jpg"]
    lib.ratings.set(old, 9)
    vectors.register_model(lib.db, "m", 4)
    vectors.put_vectors(lib.db, "m", [old], np.arange(4.0).reshape(1, 4))
    # A tagging tool rewrites only the metadata: new bytes, same pixels.
    from PIL import Image

    exif = Image.Exif()
    exif[0x010E] = "tagged by another tool"
    write(path, with_app_segment(original, exif.tobytes()))
    os.utime(path, ns=(5, 5_000_000_000))
    summary = lib.catalogue.scan(root)
    new = present(lib, root)["photo.jpg"]
    assert new != old and summary.changed == 1 and summary.pixel_matched == 1
    assert lib.ratings.get(new) == 9
    assert vectors.load_vectors(lib.db, "m", [new])[0] == [new]
    history = lib.db.execute("SELECT source FROM rating_history WHERE hash = ?", [new]).fetchall()
    assert history == [(f"pixels:{old}",)]


def test_bad_inputs_are_recorded_and_never_stop_the_scan(lib, tmp_path, monkeypatch):
    import struct
    import zlib

    root = tmp_path / "lib"
    write(root / "ok.jpg", jpeg_bytes(1))
    write(root / "zero.jpg", b"")
    write(root / "random.jpg", os.urandom(2048))
    good = jpeg_bytes(2, (64, 64))
    write(root / "truncated.jpg", good[: len(good) // 2])
    ihdr = struct.pack(">IIBBBBB", 90_000, 90_000, 8, 2, 0, 0, 0)
    chunk = lambda k, b: struct.pack(">I", len(b)) + k + b + struct.pack(">I", zlib.crc32(k + b))  # noqa: E731
    write(
        root / "bomb.png",
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b""),
    )
    write(
        root / "garbled.png",
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", b"\x78\x9c" + b"\xff" * 40)
        + chunk(b"IEND", b""),
    )
    locked = write(root / "locked.jpg", jpeg_bytes(3))
    real_open = os.open
    if os.geteuid() == 0:  # root reads anything: make the open fail as it would for a user

        def guarded(path, *a, **kw):
            if str(path).endswith("locked.jpg"):
                raise PermissionError(13, "Permission denied")
            return real_open(path, *a, **kw)

        monkeypatch.setattr(os, "open", guarded)
    else:
        locked.chmod(0)
    # Odd but valid images are catalogued, not errors.
    noise(20, 10, mode="RGBA").convert("P").save(root / "odd" / "pal.png", transparency=0) if (
        root / "odd"
    ).mkdir() is None else None
    noise(8, 8).save(root / "odd" / "anim.gif", save_all=True, append_images=[noise(8, 8, seed=1)])
    from PIL import Image

    Image.new("CMYK", (9, 9)).save(root / "odd" / "cmyk.jpg")
    Image.fromarray(np.full((5, 7), 40000, dtype="uint16")).save(root / "odd" / "deep.png")
    summary = lib.catalogue.scan(root)
    errors = dict((os.path.basename(p), r) for p, r in lib.catalogue.errors())
    assert set(errors) == {
        "zero.jpg",
        "random.jpg",
        "truncated.jpg",
        "bomb.png",
        "garbled.png",
        "locked.jpg",
    }
    assert "empty" in errors["zero.jpg"] and "truncated" in errors["truncated.jpg"]
    assert "decompression bomb" in errors["bomb.png"] and "permission" in errors["locked.jpg"]
    assert "pixels" in errors["garbled.png"]
    assert summary.errors == 6 and summary.files == 5
    assert lib.views.entry(str(root / "odd" / "anim.gif")).format == "GIF"
    assert lib.db.execute(
        "SELECT frames FROM images i JOIN files f ON f.hash = i.hash WHERE f.name = 'anim.gif'"
    ).fetchone() == (2,)
    # Once the file is fixed, the next scan takes it and forgets the error.
    monkeypatch.setattr(os, "open", real_open)
    write(root / "zero.jpg", jpeg_bytes(4))
    again = lib.catalogue.scan(root)
    assert (
        again.errors == 5
        and again.files == 6
        and "zero.jpg" not in {os.path.basename(p) for p, _ in lib.catalogue.errors()}
    )


def test_skips_hidden_synology_and_configured_excludes(settings, tmp_path):
    root = tmp_path / "lib"
    for rel in [
        "keep/a.jpg",
        ".hidden/b.jpg",
        "keep/.c.jpg",
        "@eaDir/d.jpg",
        "keep/@eaDir/e.jpg",
        "raw/f.jpg",
        "keep/tmp/g.jpg",
        "other/tmp/h.jpg",
        "#recycle/i.jpg",
        "keep/notes.txt",
        "keep/j-draft.jpg",
        "keep/jpg",
        "keep/k.",
        "keep/L.JPG",
    ]:
        write(root / rel, jpeg_bytes(len(rel)))
    lib = Library(replace(settings, excludes=("raw", "keep/tmp", "*-draft.jpg")))
    lib.catalogue.scan(root)
    names = sorted(os.path.basename(p) for (p,) in lib.db.execute("SELECT path FROM files"))
    assert names == ["L.JPG", "a.jpg", "h.jpg"]
    lib.close()


def test_symlink_loops_and_broken_links(lib, tmp_path):
    root = tmp_path / "lib"
    write(root / "sub" / "a.jpg", jpeg_bytes(1))
    os.symlink(root, root / "sub" / "loop")  # a folder linking to its ancestor
    os.symlink("x.jpg", root / "y.jpg")
    os.symlink("y.jpg", root / "x.jpg")  # a file link loop
    os.symlink("missing.jpg", root / "broken.jpg")
    os.symlink(root / "sub", root / "alias")  # the same folder twice: scanned once
    summary = lib.catalogue.scan(root)
    assert summary.files == 1
    reasons = {os.path.basename(p): r for p, r in lib.catalogue.errors()}
    assert (
        "loop" in reasons["loop"]
        and "loop" in reasons["x.jpg"]
        and "broken" in reasons["broken.jpg"]
    )


def test_odd_names_round_trip(lib, tmp_path):
    root = tmp_path / "lib"
    root.mkdir()
    raw_name = os.fsencode(str(root)) + b"/caf\xe9 \xff.jpg"
    with open(raw_name, "wb") as f:
        f.write(jpeg_bytes(1))
    markup = "[bold]x[/] [link=http://e]y[/link].jpg"
    escape = "\x1b[31mred\x1b[0m\x07.jpg"
    write(root / markup, jpeg_bytes(2))
    write(root / escape, jpeg_bytes(3))
    summary = lib.catalogue.scan(root)
    assert summary.files == 3 and summary.errors == 0
    stored = {p for (p,) in lib.db.execute("SELECT path FROM files")}
    assert str(root / markup) in stored and str(root / escape) in stored
    odd = next(p for p in stored if "caf" in p)
    entry = lib.views.entry(odd)
    assert os.fsencode(entry.os_path) == raw_name
    with open(entry.os_path, "rb") as f:
        assert f.read(3) == b"\xff\xd8\xff"
    assert lib.catalogue.scan(root).unchanged == 3  # the odd name is recognised as unchanged


def test_deleted_and_rewritten_during_scan(lib, tmp_path, monkeypatch):
    root = make_library(tmp_path / "lib", 4)
    doomed = root / "f1" / "img1.jpg"
    rewritten = root / "f2" / "img2.jpg"
    real = record_pass.inspect_file

    def racing(path):
        if path == str(doomed):
            doomed.unlink()
        if path == str(rewritten):
            write(rewritten, jpeg_bytes(77, (30, 30)))
        return real(path)

    monkeypatch.setattr(record_pass, "inspect_file", racing)
    summary = lib.catalogue.scan(root)
    assert summary.files == 3 and not summary.cancelled
    assert any("deleted" in r for _, r in lib.catalogue.errors())
    entry = lib.views.entry(str(rewritten))
    assert (entry.width, entry.size) == (30, rewritten.stat().st_size)
    monkeypatch.setattr(record_pass, "inspect_file", real)
    again = lib.catalogue.scan(root)
    assert again.errors == 0 and again.unchanged == 3


def test_cancel_then_resume(lib, tmp_path, opens):
    root = make_library(tmp_path / "lib", 12)
    cancel = threading.Event()

    def progress(p):
        if p.stage == "catalogue" and p.done >= 1:
            cancel.set()

    first = lib.catalogue.scan(root, progress=progress, cancel=cancel)
    assert first.cancelled and first.files < 12
    read_before = len(opens)
    opens.clear()
    assert lib.db.execute("SELECT finished FROM scans ORDER BY id DESC").fetchone() == (None,)
    second = lib.catalogue.scan(root)
    assert second.resumed and not second.cancelled and second.files == 12
    assert len(opens) == 12 - first.files  # what was committed is not read again
    assert read_before >= first.files
    assert dbmod.integrity_ok(lib.db)


def test_scan_refuses_missing_and_file_roots(lib, tmp_path):
    with pytest.raises(ScanError, match="not found"):
        lib.catalogue.scan(tmp_path / "nope")
    write(tmp_path / "file.jpg", jpeg_bytes(1))
    with pytest.raises(ScanError, match="not a folder"):
        lib.catalogue.scan(tmp_path / "file.jpg")
    with pytest.raises(ScanError, match="not found"):
        lib.catalogue.set_root(tmp_path / "nope")
    assert lib.catalogue.set_root(tmp_path) == str(tmp_path)
    assert lib.catalogue.roots() == [str(tmp_path)]


def test_nothing_written_inside_library_and_folders(lib, tmp_path):
    root = make_library(tmp_path / "lib", 6)
    write(root / "f0" / "deep" / "x.jpg", jpeg_bytes(50))
    before = tree_snapshot(root)
    lib.catalogue.set_root(root)
    lib.catalogue.scan()
    lib.catalogue.scan()
    assert tree_snapshot(root) == before
    assert lib.catalogue.folders() == [("", 7), ("f0", 3), ("f0/deep", 1), ("f1", 2), ("f2", 2)]


def test_pixel_pass_hashes_every_content(lib, tmp_path):
    root = make_library(tmp_path / "lib", 5)
    shutil.copy(root / "f0" / "img0.jpg", root / "dup.jpg")
    summary = lib.catalogue.scan(root)
    assert summary.pixel_hashed == 5 and summary.moved == 1
    assert lib.db.execute("SELECT count(*) FROM images WHERE pixel_hash IS NULL").fetchone() == (0,)
    assert "ingest" in summary.stage_seconds


def test_readonly_catalogue_write_fails_cleanly(settings, tmp_path):
    # The db layer reports an unwritable data dir as DatabaseError (CLI maps it to exit 2).
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the data dir should be")
    lib = Library(replace(settings, data_dir=blocker / "data"))
    with pytest.raises((dbmod.DatabaseError, sqlite3.OperationalError)):
        lib.catalogue.scan(make_library(tmp_path / "lib", 1))
