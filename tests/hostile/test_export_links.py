"""Item 1: exports never write through a link someone planted in a library folder."""

from __future__ import annotations

import os

import pytest

from tests.hostile.conftest import Nas

pytestmark = pytest.mark.slow  # see README: the two test lanes


def test_xmp_export_ignores_a_link_planted_at_the_old_temporary_name(kept_ratings: Nas):
    nas = kept_ratings
    target = nas.outside / "secret.txt"
    image = nas.root / "a" / "p0.jpg"
    # The name the export used to write to before renaming, planted as a link to a user file.
    os.symlink(target, image.with_name(f".{image.name}.xmp.anagnorisis-tmp"))
    before = target.read_bytes()
    out = nas.cli("ratings", "export", "--xmp")
    assert out.returncode == 0, out.stderr
    assert target.read_bytes() == before
    sidecar = image.with_name(image.name + ".xmp")
    assert not sidecar.is_symlink() and 'xmp:Rating="4"' in sidecar.read_text()


def test_xmp_export_refuses_a_sidecar_that_is_a_link(kept_ratings: Nas):
    nas = kept_ratings
    target = nas.outside / "secret.txt"
    image = nas.root / "a" / "p0.jpg"
    os.symlink(target, image.with_name(image.name + ".xmp"))
    state = nas.state()
    out = nas.cli("ratings", "export", "--xmp")
    assert out.returncode == 1
    assert "symbolic link" in out.stderr and "p0.jpg.xmp" in out.stderr
    assert target.read_bytes() == b"the user's own file\n"
    after = nas.state()
    # The other rated image got its sidecar; nothing else changed.
    new = set(after) - set(state)
    assert new == {str(nas.root / "b" / "p3.jpg.xmp")}
    assert {k: v for k, v in after.items() if k in state} == state


def test_ratings_export_ignores_a_planted_tmp_link_and_refuses_a_link_target(kept_ratings: Nas):
    nas = kept_ratings
    shared = nas.home / "shared"
    shared.mkdir()
    target = nas.outside / "secret.txt"
    os.symlink(target, shared / "ratings.csv.tmp")  # the old predictable temporary
    out = nas.cli("ratings", "export", str(shared / "ratings.csv"))
    assert out.returncode == 0, out.stderr
    assert target.read_bytes() == b"the user's own file\n"
    assert (shared / "ratings.csv").read_text().startswith("hash,path,rating")
    # A user file's default mode: the user's umask (022), unless --private.
    assert (shared / "ratings.csv").stat().st_mode & 0o777 == 0o644
    assert nas.cli("ratings", "export", "--private", str(shared / "mine.csv")).returncode == 0
    assert (shared / "mine.csv").stat().st_mode & 0o777 == 0o600
    os.symlink(target, shared / "linked.csv")
    out = nas.cli("ratings", "export", str(shared / "linked.csv"))
    assert out.returncode == 2 and out.stderr.startswith("error: ")
    assert "symbolic link" in out.stderr
    assert target.read_bytes() == b"the user's own file\n"


def test_vectors_export_refuses_a_link_target(nas: Nas):
    """`vectors export` writes a SQLite file: its temporary is made by mkstemp too."""
    target = nas.outside / "secret.txt"
    os.symlink(target, nas.home / "vectors.db")
    out = nas.cli("vectors", "export", str(nas.home / "vectors.db"), "--model", "tiny-clip")
    assert out.returncode != 0
    assert target.read_bytes() == b"the user's own file\n"
