"""Group actions: dry run, trash (into a test-local freedesktop trash), move, undo, races."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from anagnorisis_tui.core.base import ratings
from anagnorisis_tui.core.duplicates import actions, trash
from anagnorisis_tui.core.duplicates.options import GroupOptions
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.views.paging import ViewSpec
from tests.support.imagefiles import smooth_photo


@pytest.fixture
def lib(settings, tmp_path, trash_home):
    root = tmp_path / "photos"
    smooth_photo(root / "trip" / "big.jpg", 1, 192)  # keeper of group A: highest resolution
    smooth_photo(root / "trip" / "small.jpg", 1, 96)
    (root / "copies").mkdir()
    shutil.copy(root / "trip" / "big.jpg", root / "copies" / "big copy.jpg")
    smooth_photo(root / "cats" / "cat.jpg", 7, 128)  # group B
    smooth_photo(root / "cats" / "cat-small.jpg", 7, 64)
    smooth_photo(root / "alone.jpg", 99, 128)
    library = Library(settings)
    assert library.catalogue.scan(root).files == 6
    library.root = root
    yield library
    library.close()


def _groups(lib):
    groups = lib.duplicates.groups(GroupOptions(method="phash", phash_distance=6))
    assert len(groups) == 2
    return groups


@pytest.mark.slow
def test_dry_run_lists_and_touches_nothing(lib):
    groups = _groups(lib)
    plan = lib.duplicates.plan_group_action(groups, action="trash")
    assert {Path(i.path).name for i in plan.items} == {"small.jpg", "big copy.jpg", "cat-small.jpg"}
    assert all("keeping" in line for line in plan.describe())
    before = sorted(p for p in lib.root.rglob("*"))
    report = lib.duplicates.apply_group_action(plan, dry_run=True)
    assert report.dry_run and report.batch is None and len(report.done) == 3
    assert sorted(p for p in lib.root.rglob("*")) == before
    assert lib.db.execute("SELECT count(*) FROM file_actions").fetchone()[0] == 0
    assert lib.views.count(ViewSpec()) == 6


def test_trash_carries_ratings_and_undo_restores_everything(lib, trash_home):
    db = lib.db
    groups = _groups(lib)
    cat_group = next(g for g in groups if g.keeper.path.endswith("cat.jpg"))
    small_cat = cat_group.others[0]
    ratings.set_rating(db, small_cat.hash, 8)
    plan = lib.duplicates.plan_group_action(groups, action="trash")
    report = lib.duplicates.apply_group_action(plan)
    assert not report.skipped and len(report.done) == 3
    for path, where in report.done:
        assert not os.path.exists(path)
        assert Path(where).parent == trash_home / "files" and Path(where).exists()
        info = trash_home / "info" / (Path(where).name + ".trashinfo")
        assert info.exists()
    assert lib.views.count(ViewSpec()) == 3  # trashed files leave the views at once
    assert lib.ratings.get(cat_group.keeper.hash) == 8  # carried to the keeper
    assert report.carried == [(small_cat.hash, cat_group.keeper.hash)]
    assert lib.duplicates.action_batches()[0]["batch"] == report.batch

    undone = lib.duplicates.undo(report.batch)
    assert not undone.failed and len(undone.restored) == 3
    for path, _ in report.done:
        assert os.path.exists(path)
    assert list((trash_home / "info").iterdir()) == []
    assert lib.views.count(ViewSpec()) == 6
    assert lib.ratings.get(cat_group.keeper.hash) is None and undone.ratings_reverted == 1
    assert lib.ratings.get(small_cat.hash) == 8  # the original rating never moved
    assert lib.duplicates.action_batches()[0]["undone"]
    again = lib.duplicates.undo(report.batch)
    assert again.restored == [] and again.failed == []


def test_move_keeps_folders_and_undo_moves_back(lib, tmp_path):
    dest = tmp_path / "dupes"
    groups = _groups(lib)
    (dest / "trip").mkdir(parents=True)
    (dest / "trip" / "small.jpg").write_bytes(b"someone else's file")
    plan = lib.duplicates.plan_group_action(groups, action="move", dest_dir=str(dest))
    report = lib.duplicates.apply_group_action(plan)
    moved = dict(report.done)
    small = str(lib.root / "trip" / "small.jpg")
    assert moved[small] == str(dest / "trip" / "small (1).jpg")  # never overwrites
    assert (dest / "trip" / "small.jpg").read_bytes() == b"someone else's file"
    assert moved[str(lib.root / "copies" / "big copy.jpg")] == str(dest / "copies" / "big copy.jpg")
    assert lib.views.count(ViewSpec()) == 3  # moved out of the library: absent
    undone = lib.duplicates.undo(report.batch)
    assert sorted(undone.restored) == sorted(moved)
    assert all(os.path.exists(p) for p in moved)
    assert (dest / "trip" / "small.jpg").exists()
    assert lib.views.count(ViewSpec()) == 6


@pytest.mark.slow
def test_move_inside_the_library_follows_the_file(lib):
    dest = lib.root / "_duplicates"
    plan = lib.duplicates.plan_group_action(_groups(lib), action="move", dest_dir=str(dest))
    report = lib.duplicates.apply_group_action(plan)
    assert len(report.done) == 3
    names = {e.path for e in lib.views.page(ViewSpec(folder="_duplicates"), 0, 10)}
    assert names == {where for _, where in report.done}
    lib.duplicates.undo(report.batch)
    assert lib.views.count(ViewSpec(folder="_duplicates")) == 0
    assert lib.views.count(ViewSpec()) == 6


@pytest.mark.slow
def test_files_changed_by_others_are_reported_and_skipped(lib):
    groups = _groups(lib)
    plan = lib.duplicates.plan_group_action(groups, action="trash")
    small = lib.root / "trip" / "small.jpg"
    copy = lib.root / "copies" / "big copy.jpg"
    cat_keeper = lib.root / "cats" / "cat.jpg"
    small.unlink()  # deleted by another program
    os.utime(copy, ns=(1, 1))  # touched by another program
    cat_keeper.rename(lib.root / "cats" / "renamed.jpg")  # the keeper itself moved away
    report = lib.duplicates.apply_group_action(plan)
    assert report.done == []
    why = dict(report.skipped)
    assert "no longer there" in why[str(small)]
    assert "changed since the listing" in why[str(copy)]
    assert "keeper" in why[str(lib.root / "cats" / "cat-small.jpg")]
    assert (lib.root / "cats" / "cat-small.jpg").exists() and copy.exists()
    assert lib.db.execute("SELECT count(*) FROM file_actions").fetchone()[0] == 0


@pytest.mark.slow
def test_content_swapped_with_same_size_and_time_is_caught(lib):
    plan = lib.duplicates.plan_group_action(_groups(lib), action="trash")
    target = Path(next(i.path for i in plan.items if i.path.endswith("cat-small.jpg")))
    st = target.stat()
    data = bytearray(target.read_bytes())
    data[-3] ^= 0xFF
    target.write_bytes(bytes(data))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    report = lib.duplicates.apply_group_action(plan)
    assert "content changed" in dict(report.skipped)[str(target)]
    assert target.exists()
    assert len(report.done) == 2


def test_undo_never_overwrites_what_is_now_at_the_old_path(lib):
    plan = lib.duplicates.plan_group_action(_groups(lib), action="trash")
    report = lib.duplicates.apply_group_action(plan)
    first = report.done[0][0]
    Path(first).write_bytes(b"new file here")
    undone = lib.duplicates.undo(report.batch)
    assert dict(undone.failed)[first].startswith("something is already at")
    assert Path(first).read_bytes() == b"new file here"
    assert len(undone.restored) == 2


def test_plan_errors(lib):
    groups = _groups(lib)
    with pytest.raises(actions.ActionError, match="unknown action"):
        lib.duplicates.plan_group_action(groups, action="delete")
    with pytest.raises(actions.ActionError, match="destination"):
        lib.duplicates.plan_group_action(groups, action="move")
    with pytest.raises(actions.ActionError, match="not a member"):
        lib.duplicates.plan_group_action(groups, keepers={groups[0].id: "/nowhere.jpg"})
    with pytest.raises(actions.ActionError, match="no batch"):
        lib.duplicates.undo("20990101-000000-beef")


def test_chosen_keeper_overrides_the_suggestion(lib):
    groups = _groups(lib)
    trip = next(g for g in groups if "trip" in g.keeper.path)
    small = str(lib.root / "trip" / "small.jpg")
    plan = lib.duplicates.plan_group_action([trip], keepers={trip.id: small})
    assert small not in {i.path for i in plan.items}
    assert {i.keeper for i in plan.items} == {small}


def test_locate_finds_the_newest_trashed_copy(tmp_path, trash_home):
    path = tmp_path / "x.txt"
    path.write_text("one")
    first = trash.send(str(path))
    path.write_text("two")
    second = trash.send(str(path))
    assert first != second and Path(second).read_text() == "two"
    trash.restore(second, str(path))
    assert path.read_text() == "two"
    assert trash.locate(str(path)) == first


def test_odd_file_names_are_trashed_and_restored(settings, tmp_path, trash_home):
    root = tmp_path / "odd"
    smooth_photo(root / "orig.jpg", 3, 128)
    odd = os.fsdecode(os.fsencode(str(root)) + b"/caf\xe9 [bold] copy.jpg")  # not UTF-8
    shutil.copy(root / "orig.jpg", odd)
    os.utime(odd, ns=(2**62, 2**62))  # newer: the original is the keeper
    library = Library(settings)
    assert library.catalogue.scan(root).files == 2
    groups = library.duplicates.groups(GroupOptions(method="phash"))
    plan = library.duplicates.plan_group_action(groups)
    assert len(plan.items) == 1
    report = library.duplicates.apply_group_action(plan)
    assert len(report.done) == 1 and not os.path.lexists(odd)
    assert library.duplicates.undo(report.batch).restored
    assert os.path.lexists(odd) and library.views.count(ViewSpec()) == 2
    library.close()


def test_undo_checks_content_before_moving_anything_back(lib, tmp_path):
    plan = lib.duplicates.plan_group_action(
        _groups(lib), action="move", dest_dir=str(tmp_path / "d")
    )
    report = lib.duplicates.apply_group_action(plan)
    source, moved = report.done[0]
    Path(moved).write_bytes(b"another program put this here")
    undone = lib.duplicates.undo(report.batch)
    assert "is not the one moved there" in dict(undone.failed)[source]
    assert not os.path.exists(source) and Path(moved).read_bytes().startswith(b"another")
    assert len(undone.restored) == 2


@pytest.mark.slow
def test_undo_after_a_kill_mid_batch(lib, trash_home):
    plan = lib.duplicates.plan_group_action(_groups(lib), action="trash")
    report = lib.duplicates.apply_group_action(plan)
    trashed = report.done[0][0]
    # Killed after trashing, before logging where it went; and a logged action whose file
    # never moved (killed between the log and the move).
    lib.db.execute("UPDATE file_actions SET dest = NULL WHERE source = ?", [trashed])
    never = plan.items[-1]
    lib.duplicates.undo(report.batch)  # everything back first
    lib.db.execute(
        "INSERT INTO file_actions(batch, action, source, dest, hash, at) "
        "VALUES ('b2', 'trash', ?, NULL, ?, 0)",
        [never.path, never.hash],
    )
    lib.db.conn.commit()
    assert os.path.exists(trashed)
    second = lib.duplicates.undo("b2")
    assert second.restored == [never.path] and not second.failed


@pytest.mark.slow
def test_sidecars_go_to_the_keeper_or_with_the_file_and_undo_brings_them_back(lib, trash_home):
    small = lib.root / "trip" / "small.jpg"
    (lib.root / "trip" / "small.jpg.xmp").write_text("<x:xmpmeta>small</x:xmpmeta>")
    (lib.root / "cats" / "cat-small.xmp").write_text("<x:xmpmeta>cat small</x:xmpmeta>")
    (lib.root / "cats" / "cat.jpg.xmp").write_text("<x:xmpmeta>cat</x:xmpmeta>")
    groups = _groups(lib)
    plan = lib.duplicates.plan_group_action(groups, action="trash")
    report = lib.duplicates.apply_group_action(plan)
    assert not small.exists()
    # The trip keeper had no sidecar: the trashed copy's sidecar now sits beside it.
    beside = lib.root / "trip" / "big.jpg.xmp"
    assert beside.read_text() == "<x:xmpmeta>small</x:xmpmeta>"
    # The cat keeper has its own: the trashed copy's sidecar went to the trash with it.
    assert not (lib.root / "cats" / "cat-small.xmp").exists()
    assert (lib.root / "cats" / "cat.jpg.xmp").read_text() == "<x:xmpmeta>cat</x:xmpmeta>"
    assert "cat-small.xmp" in os.listdir(trash_home / "files")
    assert len(report.sidecars) == 2
    undone = lib.duplicates.undo(report.batch)
    assert not undone.failed
    assert (lib.root / "trip" / "small.jpg.xmp").exists() and not beside.exists()
    assert (lib.root / "cats" / "cat-small.xmp").read_text() == "<x:xmpmeta>cat small</x:xmpmeta>"
    assert small.exists()
