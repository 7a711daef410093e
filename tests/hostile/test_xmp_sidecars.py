"""Item 7 and what already held: hostile sidecars are one bad row each; shared sidecar names
and another app's stars are left alone."""

from __future__ import annotations

import pytest

from tests.hostile.builders import BILLION_LAUGHS, external_entity, sidecar
from tests.hostile.conftest import Nas
from tests.support.imagefiles import noise, save

pytestmark = pytest.mark.slow  # see README: the two test lanes


def test_nan_inf_and_out_of_range_ratings_are_bad_rows_not_an_abort(kept_ratings: Nas):
    nas = kept_ratings
    a, b = nas.root / "a", nas.root / "b"
    (a / "p0.jpg.xmp").write_text(sidecar("nan"))
    (a / "p1.jpg.xmp").write_text(sidecar("inf"))
    (b / "p2.jpg.xmp").write_text(sidecar("9"))
    (b / "p3.jpg.xmp").write_text(sidecar("5"))  # the good one: 5 stars -> 10
    out = nas.cli("ratings", "import", "--xmp")
    assert out.returncode == 1
    err = out.stderr.splitlines()
    assert sum("p0.jpg" in line for line in err) == 1 and "'nan'" in out.stderr
    assert "'inf'" in out.stderr and "'9'" in out.stderr
    assert "3 sidecars not read" in out.stderr
    assert "1 changed" in out.stdout  # p3 went from 3 to 10
    p3 = nas.query("SELECT hash FROM files WHERE name = 'p3.jpg'")[0][0]
    assert nas.ratings()[p3] == 10


def test_entity_attacks_are_refused(kept_ratings: Nas):
    nas = kept_ratings
    (nas.root / "a" / "p0.jpg.xmp").write_text(BILLION_LAUGHS)
    (nas.root / "a" / "p1.jpg.xmp").write_text(external_entity(nas.outside / "secret.txt"))
    out = nas.cli("ratings", "import", "--xmp")
    assert out.returncode == 1
    assert "not valid XML" in out.stderr
    assert "the user's own file" not in out.stdout + out.stderr


def test_two_images_never_share_one_sidecar(kept_ratings: Nas):
    nas = kept_ratings
    folder = nas.root / "a"
    # photo.jpg and photo.png side by side, with Lightroom's photo.xmp (2 stars) for one of them.
    save(folder / "photo.jpg", noise(64, 48, seed=40), "JPEG")
    save(folder / "photo.png", noise(64, 48, seed=41), "PNG")
    shared = folder / "photo.xmp"
    shared.write_text(sidecar("2"))
    assert nas.cli("scan", str(nas.root)).returncode == 0
    assert nas.cli("rate", str(folder / "photo.jpg"), "9").returncode == 0
    assert nas.cli("rate", str(folder / "photo.png"), "1").returncode == 0
    out = nas.cli("ratings", "export", "--xmp")
    assert out.returncode == 0, out.stderr
    assert shared.read_text() == sidecar("2")  # untouched
    assert 'xmp:Rating="5"' in (folder / "photo.jpg.xmp").read_text()
    assert 'xmp:Rating="1"' in (folder / "photo.png.xmp").read_text()
    # A re-import gives each its own rating back.
    out = nas.cli("ratings", "import", "--xmp")
    assert out.returncode == 0, out.stderr
    by_name = dict(
        nas.query(
            "SELECT f.name, r.value FROM files f JOIN ratings r ON r.hash = f.hash "
            "WHERE f.name LIKE 'photo.%'"
        )
    )
    assert by_name == {"photo.jpg": 9, "photo.png": 1}


def test_a_shared_sidecar_is_not_imported_for_both(nas: Nas):
    folder = nas.root / "a"
    save(folder / "photo.jpg", noise(64, 48, seed=40), "JPEG")
    save(folder / "photo.png", noise(64, 48, seed=41), "PNG")
    (folder / "photo.xmp").write_text(sidecar("4"))
    assert nas.cli("scan", str(nas.root)).returncode == 0
    out = nas.cli("ratings", "import", "--xmp")
    assert out.returncode == 1
    assert out.stderr.count("may belong to") == 2
    assert nas.ratings() == {}


def test_another_apps_stars_are_kept_unless_overwrite(kept_ratings: Nas):
    nas = kept_ratings
    theirs = nas.root / "a" / "p0.jpg.xmp"
    theirs.write_text(sidecar("2"))  # set in Lightroom; our rating of p0 is 7 (4 stars)
    out = nas.cli("ratings", "export", "--xmp")
    assert out.returncode == 0, out.stderr
    assert "1 kept with another app's stars" in out.stdout and "--overwrite" in out.stderr
    assert theirs.read_text() == sidecar("2")
    # Our own earlier export is updated freely.
    ours = nas.root / "b" / "p3.jpg.xmp"
    assert 'xmp:Rating="2"' in ours.read_text()
    assert nas.cli("rate", str(nas.root / "b" / "p3.jpg"), "10").returncode == 0
    assert nas.cli("ratings", "export", "--xmp").returncode == 0
    assert 'xmp:Rating="5"' in ours.read_text()
    out = nas.cli("ratings", "export", "--xmp", "--overwrite")
    assert out.returncode == 0
    assert 'xmp:Rating="4"' in theirs.read_text()
