"""`/`, type, Enter: results ranked by the shipped tiny CLIP, with their scores; a text concept,
negative terms and an image path as a query, on a real embedded library of generated shapes."""

from __future__ import annotations

from textual.widgets import Input

from anagnorisis_tui.ui.screens.search import SearchScreen
from anagnorisis_tui.ui.widgets.filter_bar import FilterBar
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid
from tests.support.waiting import until

SIZE = (120, 40)


def _top(grid: ThumbnailGrid, shapes_images, n: int):
    return [shapes_images[grid.entry_at(i).path] for i in range(n)]


def _everything(grid: ThumbnailGrid):
    """Every result, past the pages the grid has loaded (read as the grid would)."""
    return list(grid.source.page(0, grid.count))


def _panel_order(screen) -> tuple[object, object]:
    from textual.widgets import Select

    return screen.query_one("#sort", Select).value, screen.query_one("#descending", Select).value


async def _search(pilot, app, settle, query: str) -> ThumbnailGrid:
    screen = app.screen
    box = screen.query_one("#query", Input)
    box.focus()
    box.value = ""
    await pilot.press(*query, "enter")
    await settle(pilot)
    return screen.query_one("#results", ThumbnailGrid)


async def test_slash_type_enter_shows_ranked_results_with_scores(
    shapes_library, shapes_images, make_test_app, settle
):
    app = make_test_app(shapes_library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.current_mode == "library"
        await pilot.press("slash")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        assert screen.query_one("#query", Input).has_focus
        # The filter panel says the order the results have: by path before a query...
        assert _panel_order(screen) == ("path", False)
        await pilot.press(*"red circle", "enter")
        await settle(pilot)
        assert _panel_order(screen) == ("score", True)  # ...and by relevance, best first, after
        grid = screen.query_one("#results", ThumbnailGrid)
        assert grid.has_focus  # arrows move in the results at once
        assert grid.count == len(shapes_images)
        top = _top(grid, shapes_images, 8)
        assert [(s.colour, s.shape) for s in top[:3]] == [("red", "circle")] * 3
        assert sum((s.colour, s.shape) == ("red", "circle") for s in top) >= 6
        scores = [grid.entry_at(i).score for i in range(20)]
        assert scores == sorted(scores, reverse=True)
        first = grid.entry_at(0)
        caption = next(c.caption_text for c in grid.cells if c.entry == first)
        assert caption.startswith(f"{first.score:.2f} ")
        bar = str(screen.query_one(FilterBar).render())
        assert "search: red circle" in bar and "sort: relevance ↓" in bar
        assert f"score {first.score:.3f}" in str(screen.query_one("#highlighted").render())


async def test_negative_terms_and_image_paths_as_queries(
    shapes_library, shapes_images, make_test_app, settle
):
    app = make_test_app(shapes_library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        grid = await _search(pilot, app, settle, "circle -red")
        top = _top(grid, shapes_images, 20)
        assert not any(s.colour == "red" for s in top)
        assert sum(s.shape == "circle" for s in top) >= 6
        example = sorted(shapes_images)[17]
        grid = await _search(pilot, app, settle, example)
        assert grid.entry_at(0).path == example  # an image path finds itself first


async def test_text_concept_keeps_or_excludes_and_composes_with_a_search(
    shapes_library, shapes_images, make_test_app, settle
):
    blue = {p for p, s in shapes_images.items() if s.colour == "blue"}
    app = make_test_app(shapes_library)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        screen = app.screen
        screen.query_one("#concept_threshold", Input).value = "0.52"
        concept = screen.query_one("#concept", Input)
        concept.focus()
        await pilot.press(*"blue", "enter")
        await settle(pilot)
        grid = screen.query_one("#results", ThumbnailGrid)
        assert {e.path for e in _everything(grid)} == blue
        assert all(e.concept >= 0.52 for e in _everything(grid))
        screen.query_one("#concept_exclude").value = True
        await settle(pilot)
        assert grid.count == len(shapes_images) - len(blue)
        assert not {e.path for e in _everything(grid)} & blue
        grid = await _search(pilot, app, settle, "star")  # search + concept filter compose
        top = _top(grid, shapes_images, 10)
        assert sum(s.shape == "star" for s in top) >= 7 and not any(s.colour == "blue" for s in top)
        assert "without “blue” ≥ 0.52" in str(screen.query_one(FilterBar).render())


async def test_a_query_that_cannot_run_says_why(shapes_library, make_test_app, settle):
    app = make_test_app(shapes_library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await _search(pilot, app, settle, "-red")
        bar = str(app.screen.query_one(FilterBar).render())
        assert "error:" in bar and "negative" in bar


async def test_the_query_is_encoded_during_a_pause_in_typing(shapes_library, make_test_app, settle):
    encoded: list[str] = []
    real = shapes_library.views.text_vector

    def recording(text):
        encoded.append(text)
        return real(text)

    shapes_library.views.text_vector = recording
    app = make_test_app(shapes_library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"blue star")
        # The preview search is debounced: wait for it, not for a guess at its delay.
        await until(pilot, lambda: bool(encoded) and encoded[-1] == "blue star")
        await settle(pilot)
        assert encoded and encoded[-1] == "blue star"  # before any Enter
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one("#results").entry_at(0).score is not None


async def test_a_plain_search_paints_the_index_top_page_before_the_exact_ranking(
    shapes_library, shapes_images, make_test_app, settle
):
    import threading

    release = threading.Event()
    real_count = shapes_library.views.count

    def held_count(spec):  # the exact, filterable ranking, held back
        if spec.search:
            release.wait(10)
        return real_count(spec)

    shapes_library.views.count = held_count
    app = make_test_app(shapes_library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press(*"red circle", "enter")
        grid = app.screen.query_one("#results", ThumbnailGrid)
        await until(pilot, lambda: bool(grid.count) and grid.entry_at(0) is not None)
        assert "ranking all" in str(app.screen.query_one(FilterBar).render())
        top = _top(grid, shapes_images, 3)
        assert [(s.colour, s.shape) for s in top] == [("red", "circle")] * 3
        release.set()
        await settle(pilot)
        assert grid.count == len(shapes_images)  # then every image, exactly ranked
        assert "320 results" in str(app.screen.query_one(FilterBar).render())
