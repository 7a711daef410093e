"""Each filter and sort of the Search screen changes the grid as it should (real scan, SQLite)."""

from __future__ import annotations

import threading

import pytest
from PIL import Image
from textual.widgets import Input

from anagnorisis_tui.core.library import Library
from anagnorisis_tui.ui.screens.search import SearchScreen
from anagnorisis_tui.ui.widgets.filter_bar import FilterBar
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid

# name: (width, height, JPEG quality); sizes chosen so each filter splits them differently.
PHOTOS = {
    "wide.jpg": (400, 100, 90),  # 0.04 MP, panorama
    "tall.jpg": (100, 300, 90),  # 0.03 MP, portrait/tall
    "square.jpg": (210, 200, 90),  # 0.042 MP, square within 5%
    "big.jpg": (600, 400, 95),  # 0.24 MP, landscape
    "small.jpg": (80, 60, 60),  # tiny
}


@pytest.fixture
def photos(settings, tmp_path) -> Library:
    root = tmp_path / "photos"
    root.mkdir()
    for i, (name, (w, h, q)) in enumerate(PHOTOS.items()):
        noise = Image.effect_noise((w, h), 40 + 10 * i).convert("RGB")
        noise.save(root / name, "JPEG", quality=q)
    library = Library(settings)
    library.catalogue.set_root(root)
    assert library.catalogue.scan(root).files == len(PHOTOS)
    yield library
    library.close()


def names(grid: ThumbnailGrid) -> list[str]:
    return [grid.entry_at(i).name for i in range(grid.count or 0)]


async def _search_screen(app, pilot, settle) -> SearchScreen:
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, SearchScreen)
    return screen


async def _type(pilot, screen, control: str, text: str, settle) -> None:
    box = screen.query_one(f"#{control}", Input)
    box.focus()
    box.value = ""
    await pilot.press(*text, "enter") if text else await pilot.press("enter")
    await settle(pilot)


async def test_each_filter_narrows_the_grid(photos, make_test_app, settle):
    app = make_test_app(photos)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _search_screen(app, pilot, settle)
        grid = screen.query_one("#results", ThumbnailGrid)
        assert sorted(names(grid)) == sorted(PHOTOS)

        await _type(pilot, screen, "min_mp", "0.1", settle)
        assert names(grid) == ["big.jpg"]
        await _type(pilot, screen, "min_mp", "", settle)
        await _type(pilot, screen, "max_mp", "0.035", settle)
        assert sorted(names(grid)) == ["small.jpg", "tall.jpg"]
        await _type(pilot, screen, "max_mp", "", settle)

        await _type(pilot, screen, "min_ratio", "2:1", settle)
        assert names(grid) == ["wide.jpg"]
        await _type(pilot, screen, "min_ratio", "", settle)
        await _type(pilot, screen, "max_ratio", "0.9", settle)
        assert names(grid) == ["tall.jpg"]
        await _type(pilot, screen, "max_ratio", "", settle)

        sizes = {e.name: e.size for e in (grid.entry_at(i) for i in range(grid.count))}
        cut = sorted(sizes.values())[2]
        await _type(pilot, screen, "min_size", str(cut), settle)
        assert sorted(names(grid)) == sorted(n for n, s in sizes.items() if s >= cut)
        status = str(screen.query_one(FilterBar).render())
        assert "size ≥" in status and "3 results" in status
        await pilot.press("escape", "x")  # clear everything
        await settle(pilot)
        assert grid.count == len(PHOTOS)


async def test_shape_sorts_direction_and_random_seed(photos, make_test_app, settle):
    app = make_test_app(photos)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _search_screen(app, pilot, settle)
        grid = screen.query_one("#results", ThumbnailGrid)
        await pilot.press("escape")
        screen.query_one("#shape").value = "portrait"
        await settle(pilot)
        assert names(grid) == ["tall.jpg"]
        screen.query_one("#shape").value = "any"
        screen.query_one("#sort").value = "resolution"
        await settle(pilot)
        assert names(grid) == ["big.jpg", "square.jpg", "wide.jpg", "tall.jpg", "small.jpg"]
        await pilot.press("d")  # flip the direction
        await settle(pilot)
        assert names(grid) == ["small.jpg", "tall.jpg", "wide.jpg", "square.jpg", "big.jpg"]
        screen.query_one("#sort").value = "proportion"
        await settle(pilot)
        assert names(grid)[0] == "tall.jpg" and names(grid)[-1] == "wide.jpg"

        await pilot.press("r")  # random order with a fresh seed
        await settle(pilot)
        seed, first = screen.state.seed, names(grid)
        assert screen.state.sort == "random" and sorted(first) == sorted(PHOTOS)
        await _type(pilot, screen, "seed", str(seed), settle)  # same seed: same order
        assert names(grid) == first
        orders = {tuple(first)}
        for _ in range(4):  # reshuffles give other orders (5! orders: all equal is ~1e-8)
            await pilot.press("escape", "r")
            await settle(pilot)
            orders.add(tuple(names(grid)))
        assert len(orders) > 1


async def test_rating_filter_and_sort_use_the_users_ratings(photos, make_test_app, settle):
    by_name = {}
    for name in PHOTOS:
        entry = next(e for e in photos.views.page(_spec(), 0, 10) if e.name == name)
        by_name[name] = entry.hash
    photos.ratings.set(by_name["big.jpg"], 9)
    photos.ratings.set(by_name["tall.jpg"], 4)
    app = make_test_app(photos)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _search_screen(app, pilot, settle)
        grid = screen.query_one("#results", ThumbnailGrid)
        screen.query_one("#sort").value = "rating"
        await settle(pilot)
        assert names(grid)[:2] == ["big.jpg", "tall.jpg"]  # unrated images last, not dropped
        assert grid.count == len(PHOTOS)
        await _type(pilot, screen, "min_rating", "5", settle)
        assert names(grid) == ["big.jpg"]


def _spec():
    from anagnorisis_tui.core.views.paging import ViewSpec

    return ViewSpec()


async def test_bad_filter_values_are_refused_in_place(photos, make_test_app, settle):
    app = make_test_app(photos)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _search_screen(app, pilot, settle)
        grid = screen.query_one("#results", ThumbnailGrid)
        await _type(pilot, screen, "min_mp", "0.1", settle)
        await _type(pilot, screen, "max_mp", "0.01", settle)
        assert "minimum is above the maximum" in str(screen.query_one("#filter-error").render())
        assert names(grid) == ["big.jpg"]  # the last good filters stay in force
        await _type(pilot, screen, "min_size", "lots", settle)
        assert "not a file size" in str(screen.query_one("#filter-error").render())


async def test_a_newer_search_supersedes_one_still_running(photos, make_test_app, settle):
    """The older request's results never reach the grid, whatever order they finish in."""
    release = threading.Event()
    real_count = photos.views.count

    def slow_count(spec):
        if spec.filters.min_megapixels == 0.1:
            release.wait(10)
        return real_count(spec)

    photos.views.count = slow_count  # the real core, held back for one request
    app = make_test_app(photos)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _search_screen(app, pilot, settle)
        grid = screen.query_one("#results", ThumbnailGrid)
        box = screen.query_one("#min_mp", Input)
        box.focus()
        await pilot.press("0", ".", "1", "enter")  # held back
        await pilot.pause()
        box.value = ""
        await pilot.press("0", ".", "0", "4", "enter")  # the newer one
        release.set()
        await settle(pilot)
        assert screen.state.min_megapixels == 0.04
        assert sorted(names(grid)) == ["big.jpg", "square.jpg", "wide.jpg"]
        assert "3 results" in str(screen.query_one(FilterBar).render())
