"""Similarity groups in the app: keep, swap the keeper, trash the rest (confirmed), undo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from anagnorisis_tui.ui.screens.confirm import ConfirmScreen
from anagnorisis_tui.ui.screens.groups import GroupsScreen


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*.jpg")}


async def _open_groups(app, pilot, settle) -> GroupsScreen:
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    await pilot.press("escape", "D")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, GroupsScreen)
    return screen


async def test_trash_the_rest_moves_exactly_the_non_keepers_and_undo_restores(
    dupes, trash_home, make_test_app, settle
):
    library, root = dupes
    before = _files(root)
    app = make_test_app(library)
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await _open_groups(app, pilot, settle)
        assert len(screen.groups) == 2
        trip = next(i for i, g in enumerate(screen.groups) if "big.jpg" in g.keeper)
        while screen.index != trip:
            await pilot.press("n")
        assert screen.keeper_of(trip).endswith("trip/big.jpg")
        table = screen.query_one("#member-table")
        marks = [str(table.get_row_at(r)[0]) for r in range(table.row_count)]
        assert marks.count("★ keep") == 1 and marks[0] == "★ keep"

        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # changed my mind: nothing moves
        await settle(pilot)
        assert _files(root) == before

        await pilot.press("t")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        gone = {"trip/small.jpg", "trip/[b]copy[i].jpg"}
        assert _files(root) == before - gone
        assert sorted(os.listdir(trash_home / "files")) == ["[b]copy[i].jpg", "small.jpg"]
        log = str(screen.query_one("#groups-log").render())
        assert "2 moved to the trash" in log
        assert f"{root}/trip/small.jpg → {trash_home}/files/small.jpg" in log
        assert "[b]copy[i].jpg" in log  # names shown as text, never as markup
        assert screen.index == trip + 1  # on to the next group

        await pilot.press("u")
        await settle(pilot)
        assert _files(root) == before
        assert os.listdir(trash_home / "files") == []
        assert trip not in screen.decisions


async def test_swap_keeper_then_trash_keeps_the_chosen_image(dupes, make_test_app, settle):
    library, root = dupes
    app = make_test_app(library)
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await _open_groups(app, pilot, settle)
        cats = next(i for i, g in enumerate(screen.groups) if "cat.jpg" in g.keeper)
        while screen.index != cats:
            await pilot.press("n")
        assert screen.keeper_of(cats).endswith("cats/cat.jpg")
        await pilot.press("s")  # the highlighted image is the keeper: the mark moves on
        assert screen.keeper_of(cats).endswith("cats/cat-small.jpg")
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        files = _files(root)
        assert "cats/cat-small.jpg" in files and "cats/cat.jpg" not in files
        assert {"alone.jpg", "trip/big.jpg", "trip/small.jpg"} <= files


async def test_keep_all_and_skip_move_nothing(dupes, make_test_app, settle):
    library, root = dupes
    before = _files(root)
    app = make_test_app(library)
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await _open_groups(app, pilot, settle)
        first = {m.hash for m in screen.groups[0].group.members}
        count = len(screen.groups)
        await pilot.press("a", "n")
        await settle(pilot)
        assert [d.kind for d in screen.decisions.values()] == ["kept", "skipped"]
        assert _files(root) == before
        # "a" is remembered by content: the group is gone from any later grouping.
        await app.workers.wait_for_complete()
        [dismissal] = library.duplicates.dismissed()
        assert set(dismissal.hashes) == first
        later = library.duplicates.group_report().groups
        assert len(later) == count - 1
        assert not [g for g in later if {m.hash for m in g.members} & first == first]
        assert "0 moved to the trash · 1 groups kept whole" in str(
            screen.query_one("#groups-log").render()
        )
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, GroupsScreen)


async def test_group_controls_in_the_filter_panel_open_the_groups(dupes, make_test_app, settle):
    library, _ = dupes
    app = make_test_app(library)
    async with app.run_test(size=(100, 50)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        search = app.screen
        search.query_one("#group_threshold").value = "0.99"
        search.query_one("#group_method").value = "phash"
        await pilot.pause()
        search.query_one("#find-groups").press()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, GroupsScreen)
        assert (screen.threshold, screen.method) == (0.99, "phash")
        assert len(screen.groups) == 2
        head = str(screen.query_one("#groups-head").render())
        # phash proposes by perceptual hash: no cosine is named over its groups.
        assert "phash" in head and "cosine" not in head and "threshold" not in head


@pytest.fixture
def tiered(settings, tmp_path, trash_home):
    from PIL import ImageEnhance
    from sklearn.datasets import load_sample_image

    from anagnorisis_tui.core.library import Library

    root = tmp_path / "photos"
    root.mkdir()
    china = Image.fromarray(load_sample_image("china.jpg"))
    china.thumbnail((256, 256))
    china.save(root / "china.jpg", quality=92)
    china.resize((china.width // 2, china.height // 2)).save(root / "china-half.jpg", quality=90)
    # Far brighter than a light edit (clipped highlights, gain beyond the fit): only "similar".
    ImageEnhance.Brightness(china).enhance(1.6).save(root / "china-bright.jpg", quality=92)
    library = Library(settings)
    library.catalogue.set_root(root)
    library.catalogue.scan(root)
    yield library, root
    library.close()


async def test_similar_members_are_never_preselected_and_tiers_filter(
    tiered, trash_home, make_test_app, settle
):
    library, root = tiered
    app = make_test_app(library)
    async with app.run_test(size=(120, 32)) as pilot:
        screen = await _open_groups(app, pilot, settle)
        assert len(screen.groups) == 1
        group = screen.groups[0].group
        tier = {Path(m.path).name: m.tier for m in group.members}
        assert tier == {
            "china.jpg": "keeper",
            "china-half.jpg": "same",
            "china-bright.jpg": "similar",
        }
        assert "tier similar" in str(screen.query_one("#groups-head").render())
        table = screen.query_one("#member-table")
        rows = {str(table.get_row_at(r)[1]): str(table.get_row_at(r)[0]) for r in range(3)}
        assert rows == {
            "china.jpg": "★ keep",
            "china-half.jpg": "✗ trash",
            "china-bright.jpg": "· stays",
        }
        why = {str(table.get_row_at(r)[1]): str(table.get_row_at(r)[2]) for r in range(3)}
        assert why["china-half.jpg"].startswith("same picture, 50% size")

        await pilot.press("t")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert _files(root) == {"china.jpg", "china-bright.jpg"}  # the similar one stayed
        await pilot.press("u")
        await settle(pilot)
        assert _files(root) == {"china.jpg", "china-half.jpg", "china-bright.jpg"}

        # Filter by tier: "bytes" shows nothing here, "similar" shows the group again.
        await pilot.press("T")  # bytes
        await settle(pilot)
        assert screen.groups == []
        for _ in range(6):  # pixels, same, edited, raw-pair, series, similar
            await pilot.press("T")
        await settle(pilot)
        assert screen.tier_filter == "similar" and len(screen.groups) == 1

        # i marks the similar member for the trash explicitly.
        grid = screen.query_one("#members")
        names = [Path(e.path).name for e in grid.source.entries]
        grid.go_to(names.index("china-bright.jpg"))
        await settle(pilot)
        await pilot.press("i")
        assert "china-bright.jpg" in {Path(p).name for p in screen.to_trash(0)}


async def test_b_keeps_the_member_you_rated_highest_and_marks_the_rest(
    dupes, make_test_app, settle
):
    library, root = dupes
    first = library.duplicates.group_report().groups[0]
    favourite = first.members[-1]  # not the suggested keeper
    library.ratings.set(favourite.hash, 9)
    app = make_test_app(library)
    async with app.run_test(size=(120, 32)) as pilot:
        screen = await _open_groups(app, pilot, settle)
        row = next(r for r in screen.groups if favourite.path in {m.path for m in r.group.members})
        screen._go(screen.groups.index(row))
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert screen.keeper_of(screen.index) == favourite.path
        others = {m.path for m in row.group.members} - {favourite.path}
        assert set(screen.to_trash(screen.index)) == others
        table = screen.query_one("#member-table")
        ratings = {
            str(table.get_row_at(r)[1]): str(table.get_row_at(r)[6])
            for r in range(len(row.group.members))
        }
        assert ratings[Path(favourite.path).name] == "9"


async def test_opening_the_review_again_looks_at_no_pair_twice(
    dupes, make_test_app, settle, monkeypatch
):
    """Each opening of the review groups again; the thumbnails' looks are remembered (looks.py),
    so the second opening compares none and shows the same groups, tiers and keepers."""
    from anagnorisis_tui.core.duplicates import moments

    library, _root = dupes
    calls = []
    real = moments.compare

    def compare(first: Image.Image, second: Image.Image, *, flat: bool = False) -> object:
        calls.append(1)
        return real(first, second, flat=flat)

    monkeypatch.setattr(moments, "compare", compare)
    app = make_test_app(library)

    def shown(screen: GroupsScreen) -> list[tuple[object, ...]]:
        return [
            (g.keeper, [(m.path, m.tier, m.why) for m in g.group.members]) for g in screen.groups
        ]

    async with app.run_test(size=(100, 32)) as pilot:
        screen = await _open_groups(app, pilot, settle)
        first = shown(screen)
        looked = len(calls)
        assert looked >= 1 and first
        await pilot.press("escape")
        await settle(pilot)
        again = await _open_groups(app, pilot, settle)
        assert again is not screen
        assert shown(again) == first
        assert len(calls) == looked
