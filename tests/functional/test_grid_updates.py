"""Every screen that shows a grid shows what changed: a rating given in the viewer, an image
added to the catalogue. The grid follows the app's rating and library signals itself
(ui/widgets/grid/grid_loading.py); no screen passes them on."""

from __future__ import annotations

from anagnorisis_tui.ui.messages import LibraryChanged, RatingChanged
from anagnorisis_tui.ui.screens.groups import GroupsScreen
from anagnorisis_tui.ui.screens.search import SearchScreen
from anagnorisis_tui.ui.screens.viewer import ViewerScreen
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid
from tests.support.app_library import catalogue, make_images


def _caption(grid: ThumbnailGrid, index: int) -> str:
    cell = next(c for c in grid.cells if c.index == index)
    return cell.caption_text


async def _search_results(app, pilot, settle) -> ThumbnailGrid:
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    assert isinstance(app.screen, SearchScreen)
    await pilot.press("escape")  # from the query box to the results
    grid = app.screen.query_one("#results", ThumbnailGrid)
    assert grid.has_focus and grid.count == 10
    return grid


async def test_a_rating_given_in_the_viewer_opened_from_search_is_in_the_search_grid(
    library, make_test_app, settle
):
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        grid = await _search_results(app, pilot, settle)
        first = grid.entry_at(0)
        assert first.rating is None and "★" not in _caption(grid, 0)
        await pilot.press("enter")
        await settle(pilot)
        viewer = app.screen
        assert isinstance(viewer, ViewerScreen) and viewer.entry.hash == first.hash
        await pilot.press("7")  # rates, then moves on to the second image
        await settle(pilot)
        assert viewer.index == 1
        await pilot.press("left")  # back: the viewer shows the rating it was given
        await settle(pilot)
        assert viewer.entry.hash == first.hash and viewer.entry.rating == 7.0
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        grid = app.screen.query_one("#results", ThumbnailGrid)
        assert library.ratings.get(first.hash) == 7.0
        assert grid.entry_at(0).rating == 7.0
        assert _caption(grid, 0).startswith("7★")
        # Read again (a catalogue change), the first page is not the one kept before the rating.
        app.post_message(LibraryChanged())
        await settle(pilot)
        assert grid.entry_at(0).rating == 7.0


async def test_an_image_added_to_the_catalogue_appears_in_the_search_grid(
    library, photo_root, make_test_app, settle
):
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        grid = await _search_results(app, pilot, settle)
        added = make_images(photo_root, ["c/new.jpg"])
        catalogue(library, photo_root, added)
        app.post_message(LibraryChanged())
        await settle(pilot)
        assert grid.count == 11
        names = {grid.entry_at(i).name for i in range(11)}
        assert "new.jpg" in names


async def test_the_library_grid_follows_ratings_and_catalogue_changes(
    library, photo_root, make_test_app, settle
):
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(ThumbnailGrid)
        assert grid.count == 10
        entry = grid.entry_at(3)
        # A rating from anywhere (here: the signal's message itself) reaches the grid's pages.
        library.ratings.set(entry.hash, 4)
        app.post_message(RatingChanged(entry.hash, 4.0))
        await settle(pilot)
        assert grid.entry_at(3).rating == 4.0
        assert _caption(grid, 3).startswith("4★")
        catalogue(library, photo_root, make_images(photo_root, ["c/new.jpg"]))
        app.post_message(LibraryChanged())
        await settle(pilot)
        assert grid.count == 11


async def test_the_groups_grid_follows_ratings(dupes, make_test_app, settle):
    library, _ = dupes
    app = make_test_app(library)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("escape", "D")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, GroupsScreen)
        grid = screen.query_one(ThumbnailGrid)
        member = grid.entry_at(0)
        assert member.rating is None
        library.ratings.set(member.hash, 9)
        app.post_message(RatingChanged(member.hash, 9.0))
        await settle(pilot)
        assert grid.entry_at(0).rating == 9.0
        assert _caption(grid, 0).startswith("9★")
        assert grid.source.entries[0].rating == 9.0  # and its source: a reload keeps it


async def test_a_rating_given_in_the_viewer_opened_from_the_library_is_in_every_grid(
    library, make_test_app, settle
):
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        search_grid = await _search_results(app, pilot, settle)  # shown once, then left
        await pilot.press("f1")
        await settle(pilot)
        grid = app.screen.query_one("#grid", ThumbnailGrid)
        grid.focus()
        chosen = grid.entry_at(0)
        assert chosen.rating is None
        await pilot.press("enter")
        await settle(pilot)
        viewer = app.screen
        assert isinstance(viewer, ViewerScreen) and viewer.entry.hash == chosen.hash
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.current_mode == "library"
        assert grid.entry_at(0).rating == 6.0 and _caption(grid, 0).startswith("6★")
        # The Search grid, not on screen when the rating was given, has it too.
        index = next(i for i in range(10) if search_grid.entry_at(i).hash == chosen.hash)
        assert search_grid.entry_at(index).rating == 6.0


async def test_a_rating_given_in_the_viewer_opened_from_a_group_is_in_the_group_grid(
    dupes, make_test_app, settle
):
    library, _ = dupes
    app = make_test_app(library)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("escape", "D")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, GroupsScreen)
        grid = screen.query_one("#members", ThumbnailGrid)
        grid.focus()
        member = grid.entry_at(0)
        assert member.rating is None
        await pilot.press("enter")
        await settle(pilot)
        viewer = app.screen
        assert isinstance(viewer, ViewerScreen) and viewer.entry.hash == member.hash
        await pilot.press("a", "8")  # auto-advance off: rates the member shown
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert library.ratings.get(member.hash) == 8.0
        assert grid.entry_at(0).rating == 8.0 and _caption(grid, 0).startswith("8★")


async def test_the_viewer_shows_the_catalogues_rating_not_the_one_a_kept_list_was_read_with(
    library, make_test_app, settle
):
    """A list kept in memory ("more like this", the rate-next queue) can be older than a rating
    (given by another process: an import, the command line); the viewer reads the catalogue's."""
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        entries = [app.screen.query_one("#grid", ThumbnailGrid).entry_at(i) for i in range(3)]
        app.show_results("kept list", entries)
        await settle(pilot)
        library.ratings.set(entries[1].hash, 3)  # no signal: the list still says unrated
        await pilot.press("enter")
        await settle(pilot)
        viewer = app.screen
        assert isinstance(viewer, ViewerScreen) and viewer.entry.hash == entries[0].hash
        await pilot.press("right")
        await settle(pilot)
        assert viewer.entry.hash == entries[1].hash
        assert viewer.entry.rating == 3.0
