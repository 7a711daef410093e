"""Similarity groups in the app: keep, swap the keeper, trash the rest (confirmed), undo."""

from __future__ import annotations

import os
from pathlib import Path

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
        await pilot.press("a", "n")
        await settle(pilot)
        assert [d.kind for d in screen.decisions.values()] == ["kept", "skipped"]
        assert _files(root) == before
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
        assert "phash, threshold 0.99" in str(screen.query_one("#groups-head").render())
