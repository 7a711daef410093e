"""A data dir where an older version scanned the demo library into the user's catalogue gives
it back on first open: the demo's files, content, vectors and ratings leave the user's
catalogue (the ratings go to the demo's own), models trained on them are retired, and what the
user shares with the demo stays the user's."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from anagnorisis_tui.core.base import db as dbmod
from anagnorisis_tui.core.base import hashing, paths
from anagnorisis_tui.core.base.config import Settings
from anagnorisis_tui.core.catalogue import demo_split
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.views.paging import ViewSpec
from tests.support.imagefiles import jpeg_bytes, write


def _mixed(settings: Settings, photos: Path) -> dict[str, str]:
    """The state an older version left: the demo scanned into the user's catalogue, rated,
    embedded, and a model trained on the mix. Returns content hashes by role."""
    lib = Library(settings)
    lib.db  # noqa: B018 - opened (and upgraded) before the old demo folder is there
    legacy = paths.legacy_demo_library_dir(settings.data_dir)
    shared = jpeg_bytes(3, (48, 32))
    files = {
        "demo": write(legacy / "shapes" / "red-circle.jpg", jpeg_bytes(1, (48, 32))),
        "demo-shared": write(legacy / "photos" / "kept.jpg", shared),
        "user": write(photos / "mine.jpg", jpeg_bytes(2, (48, 32))),
        "user-shared": write(photos / "copy-of-demo.jpg", shared),
    }
    hashes = {role: hashing.content_hash_file(path)[0] for role, path in files.items()}
    with lib:
        lib.catalogue.scan(photos)
        lib.catalogue.scan(legacy)  # what the old app did when it showed the demo
        lib.ratings.set(hashes["demo"], 9)
        lib.ratings.set(hashes["demo-shared"], 7)
        lib.ratings.set(hashes["user"], 5)
        db = lib.db
        with db.transaction():
            for content in (hashes["demo"], hashes["user"]):
                db.execute(
                    "INSERT INTO vectors(hash, model_id, vector, at) VALUES (?, 'm', ?, 0)",
                    [content, bytes(8)],
                )
            db.execute(
                "INSERT INTO evaluators(id, embed_model_id, kind, created, path, active) "
                "VALUES ('before', 'm', 'ridge', 1.0, 'x', 0), "
                "('mixed', 'm', 'ridge', ?, 'y', 1)",
                [time.time() + 1],
            )
            db.execute(
                "INSERT INTO predictions(hash, evaluator_id, value, at) VALUES (?, 'mixed', 6, 0)",
                [hashes["user"]],
            )
        assert db.execute("SELECT count(*) FROM files").fetchone()[0] == 4
    paths.index_dir(settings.data_dir).mkdir(parents=True)
    return hashes


def test_the_demo_leaves_the_users_catalogue_and_keeps_its_ratings(
    settings: Settings, tmp_path: Path
):
    photos = tmp_path / "photos"
    hashes = _mixed(settings, photos)
    data = settings.data_dir

    with Library(settings) as lib:  # the first open moves the demo out
        db = lib.db
        paths_left = sorted(r[0] for r in db.execute("SELECT path FROM files"))
        assert paths_left == sorted([str(photos / "copy-of-demo.jpg"), str(photos / "mine.jpg")])
        assert lib.views.count(ViewSpec()) == 2
        ratings = dict(db.execute("SELECT hash, value FROM ratings").fetchall())
        # The content the user shares with the demo stays the user's, with its rating.
        assert ratings == {hashes["user"]: 5, hashes["user-shared"]: 7}
        assert [r[0] for r in db.execute("SELECT hash FROM vectors")] == [hashes["user"]]
        assert db.execute("SELECT count(*) FROM images").fetchone()[0] == 2
        assert (
            db.execute("SELECT count(*) FROM scans WHERE root LIKE '%demo-library'").fetchone()[0]
            == 0
        )
        # The model trained on the mix is retired; one trained before the demo is untouched.
        active = dict(db.execute("SELECT id, active FROM evaluators").fetchall())
        assert active == {"before": 0, "mixed": 0}
        assert db.execute("SELECT count(*) FROM predictions").fetchone()[0] == 0
        assert lib.catalogue.roots() == [str(photos)]
        assert demo_split.separate(db, data) == 0  # done once: nothing more to move
    assert not paths.index_dir(data).exists()  # a cache: rebuilt from the user's vectors

    # The demo keeps its pictures and its ratings, in its own data dir.
    demo = paths.demo_dir(data)
    assert (demo / "library" / "shapes" / "red-circle.jpg").exists()
    assert not paths.legacy_demo_library_dir(data).exists()
    own = dbmod.connect(paths.database_path(demo))
    demo_ratings = dict(own.execute("SELECT hash, value FROM ratings").fetchall())
    assert demo_ratings == {hashes["demo"]: 9}
    history = own.execute("SELECT count(*) FROM rating_history").fetchone()[0]
    assert history == 1
    own.conn.close()


def test_a_catalogue_without_the_demo_is_left_alone(settings: Settings, tmp_path: Path):
    photos = tmp_path / "photos"
    write(photos / "a.jpg", jpeg_bytes(5, (40, 30)))
    with Library(settings) as lib:
        lib.catalogue.scan(photos)
        before = lib.db.execute("SELECT count(*) FROM files").fetchone()[0]
    with Library(settings) as lib:
        assert lib.db.execute("SELECT count(*) FROM files").fetchone()[0] == before == 1
    assert not paths.demo_dir(settings.data_dir).exists()


@pytest.mark.slow
def test_making_the_demo_reports_each_picture_and_again_finds_it_made(tmp_path: Path):
    from anagnorisis_tui.core.demo.generate import is_complete, make_demo

    seen: list[tuple[int, int | None]] = []
    target = make_demo(tmp_path / "demo", progress=lambda p: seen.append((p.done, p.total)))
    assert is_complete(target) and seen and seen[-1][0] == seen[-1][1]
    assert [done for done, _ in seen] == list(range(1, len(seen) + 1))
    pictures = sorted(p for p in target.rglob("*") if p.is_file())
    again: list[tuple[int, int | None]] = []
    make_demo(target, progress=lambda p: again.append((p.done, p.total)))  # nothing to make
    assert again[-1] == seen[-1]
    assert sorted(p for p in target.rglob("*") if p.is_file()) == pictures
