"""Item 3 and what already held: the scan stays inside the library; links within it work as
before; loops, FIFOs, devices and awkward names are refused or shown safely, never a hang."""

from __future__ import annotations

import json
import os

import pytest

from tests.hostile.builders import fifo, null_device, odd_names
from tests.hostile.conftest import Nas
from tests.support.imagefiles import jpeg_bytes, write

pytestmark = pytest.mark.slow  # see README: the two test lanes


def _files(nas: Nas) -> set[str]:
    return {p for (p,) in nas.query("SELECT path FROM files WHERE present = 1")}


def _thumbnails(nas: Nas) -> int:
    return sum(len(f) for _, _, f in os.walk(nas.data / "thumbnails"))


def test_links_out_of_the_library_are_not_followed(nas: Nas):
    (nas.root / "a" / "private-folder").symlink_to(nas.outside)
    (nas.root / "a" / "holiday.jpg").symlink_to(nas.outside / "holiday.jpg")
    (nas.root / "b" / "etc").symlink_to("/etc")
    state = nas.state()
    out = nas.cli("scan", str(nas.root), "--json")
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    catalogued = _files(nas)
    assert len(catalogued) == 4
    assert not any("private" in p or "holiday" in p or "/etc" in p for p in catalogued)
    assert _thumbnails(nas) == 4  # none of the user's private photo
    skipped = {e["path"] for e in lines if e.get("type") == "error"}
    assert str(nas.root / "a" / "private-folder") in skipped
    assert str(nas.root / "a" / "holiday.jpg") in skipped
    errors = nas.cli("errors").stdout
    assert errors.count("leads outside the library") == 3
    summary = nas.cli("scan", str(nas.root)).stdout
    assert "3 symbolic links lead outside the library: skipped" in summary
    assert nas.state() == state


def test_links_within_the_library_still_work_and_loops_stay_handled(nas: Nas):
    write(nas.root / "c" / "p9.jpg", jpeg_bytes(9, (64, 48)))
    (nas.root / "a" / "to-c").symlink_to(nas.root / "c")  # a folder link inside: followed
    (nas.root / "b" / "p1-again.jpg").symlink_to(nas.root / "a" / "p1.jpg")  # a file link
    (nas.root / "b" / "loop").symlink_to(nas.root / "b")  # a loop
    out = nas.cli("scan", str(nas.root))
    assert out.returncode == 0, out.stderr
    catalogued = _files(nas)
    assert str(nas.root / "b" / "p1-again.jpg") in catalogued
    assert any(p.endswith("p9.jpg") for p in catalogued)
    assert "symbolic link loop" in nas.cli("errors").stdout


def test_a_second_library_root_counts_as_inside(nas: Nas):
    other = nas.home / "more-photos"
    write(other / "m.jpg", jpeg_bytes(50, (64, 48)))
    assert nas.cli("scan", str(other)).returncode == 0
    (nas.root / "a" / "more").symlink_to(other)
    assert nas.cli("scan", str(nas.root)).returncode == 0
    assert str(nas.root / "a" / "more" / "m.jpg") in _files(nas)


def test_following_links_outside_can_be_allowed(nas: Nas):
    (nas.root / "a" / "private-folder").symlink_to(nas.outside)
    nas.config.write_text("[library]\nfollow_links_outside = true\n")
    assert nas.cli("scan", str(nas.root)).returncode == 0
    assert str(nas.root / "a" / "private-folder" / "holiday.jpg") in _files(nas)


def test_fifos_devices_and_odd_names(nas: Nas):
    fifo(nas.root / "a" / "pipe.jpg")
    null_device(nas.root / "a" / "null.jpg")
    (nas.root / "a" / "zero.jpg").symlink_to("/dev/zero")
    names = odd_names(nas.root / "odd")
    for i, name in enumerate(names):
        write(nas.root / "odd" / name, jpeg_bytes(20 + i, (64, 48)))
    state = nas.state()
    out = nas.cli("scan", str(nas.root))
    assert out.returncode == 0, out.stderr
    assert len(_files(nas)) == 4 + len(names)
    errors = nas.cli("errors").stdout
    assert errors.count("\n") == 3  # pipe, device, link out: one line each
    assert "not a regular file" in errors and "leads outside" in errors
    listing = nas.cli("list").stdout
    assert "\x1b" not in listing and "\\x1b[31m" in listing
    assert "two\\x0alines.jpg" in listing
    assert nas.state() == state
