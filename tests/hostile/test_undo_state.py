"""Item 6: `undo` knows each file of a batch; a part-undone batch is listed as such and finished
by `undo --last`; a batch counts its images, not the sidecars that went with them."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.hostile.conftest import Nas

pytestmark = pytest.mark.slow  # see README: the two test lanes


def test_a_part_undone_batch_is_listed_and_finished(kept_ratings: Nas):
    nas = kept_ratings
    copies = nas.root / "copies"
    copies.mkdir()
    for n in range(3):
        shutil.copyfile(nas.root / "a" / "p0.jpg", copies / f"copy{n}.jpg")
        (copies / f"copy{n}.jpg.xmp").write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'/>\n")
    assert nas.cli("scan", str(nas.root)).returncode == 0
    moved_to = nas.home / "moved"
    out = nas.cli("dedupe", "--move-to", str(moved_to), "--method", "phash")
    assert out.returncode == 0, out.stderr
    listing = nas.cli("undo").stdout.splitlines()
    assert len(listing) == 1
    batch, files, actions, state = listing[0].split("\t")
    assert (files, state) == ("3 files", "can undo")  # 3 images (their sidecars not counted)

    gone = sorted(
        p for (p,) in nas.query("SELECT source FROM file_actions WHERE source LIKE '%.jpg'")
    )
    assert len(gone) == 3
    blocker = nas.root / gone[0].split(str(nas.root) + "/", 1)[1]
    blocker.write_bytes(b"someone put a file here")
    out = nas.cli("undo", "--last")
    assert out.returncode == 1 and "not restored" in out.stdout
    listing = nas.cli("undo").stdout
    assert "partly undone (1 of 3 files still moved)" in listing, listing

    blocker.unlink()
    out = nas.cli("undo", "--last")  # finishes the same batch (was: "nothing to undo")
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.findall(r"restored: (.*)", out.stdout) == [str(blocker)]
    assert nas.cli("undo").stdout.split("\t")[-1].strip() == "undone"
    assert nas.cli("undo", "--last").stderr.startswith("error: nothing to undo")
    assert all((nas.root / g.split(str(nas.root) + "/", 1)[1]).exists() for g in gone)
