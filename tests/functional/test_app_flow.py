"""The core flow, driven with Pilot: browse the grid, open, rate with number keys, move on."""

from __future__ import annotations

from anagnorisis_tui.core.base.config import replace
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.views.paging import ViewSpec
from anagnorisis_tui.ui.screens.viewer import ViewerScreen
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid


async def test_browse_open_rate_next(library, make_test_app, settle):
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(ThumbnailGrid)
        assert grid.count == 10
        assert grid.has_focus
        await pilot.press("right", "l")
        assert grid.cursor == 2
        await pilot.press("down")
        assert grid.cursor == 2 + grid.columns
        await pilot.press("up", "h")
        assert grid.cursor == 1
        chosen = grid.current_entry
        await pilot.press("enter")
        await settle(pilot)
        viewer = app.screen
        assert isinstance(viewer, ViewerScreen)
        assert viewer.entry == chosen
        await pilot.press("7")
        await settle(pilot)
        assert library.ratings.get(chosen.hash) == 7.0
        assert viewer.index == 2  # rate-and-advance
        second = viewer.entry
        await pilot.press("t")  # ten
        await settle(pilot)
        assert library.ratings.get(second.hash) == 10.0
        await pilot.press("left")
        await settle(pilot)
        assert viewer.index == 2
        await pilot.press("backspace")
        await settle(pilot)
        assert library.ratings.get(viewer.entry.hash) is None
        await pilot.press("escape")
        await settle(pilot)
        grid = app.screen.query_one(ThumbnailGrid)
        assert grid.cursor == 2  # the grid follows the viewer
        rated = grid.entry_at(1)
        assert rated.rating == 7.0  # the grid's cached entry was updated


async def test_viewer_without_auto_advance_and_rating_bar_click(library, make_test_app, settle):
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        viewer = app.screen
        await pilot.press("a")  # auto-advance off
        await pilot.press("3")
        await settle(pilot)
        assert viewer.index == 0
        assert library.ratings.get(viewer.entry.hash) == 3.0
        await pilot.click("#rating", offset=(3 * 9 + 1, 0))  # the "9" step
        await settle(pilot)
        assert library.ratings.get(viewer.entry.hash) == 9.0


async def test_viewer_shows_details_and_image(library, make_test_app, settle):
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        viewer = app.screen
        details = str(viewer.query_one("#details").render())
        entry = viewer.entry
        assert entry.path in details and entry.hash in details and "96×64" in details
        image_view = viewer.query_one("#image")
        assert image_view.image is not None
        assert image_view.image.size[0] <= 120 * 10


async def test_next_past_the_end_stays(library, make_test_app, settle):
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("end", "enter")
        await settle(pilot)
        viewer = app.screen
        assert viewer.index == 9
        await pilot.press("right")
        await settle(pilot)
        assert viewer.index == 9


async def test_more_like_this_shows_neighbours_in_search(library, make_test_app, settle):
    import numpy as np

    from anagnorisis_tui.core.semantic import vectors

    entries = library.views.page(ViewSpec(), 0, 100)
    model_id = library.semantic.model_id  # resolved from the settings without loading a model
    vectors.register_model(library.db, model_id, 4, dtype="float32")
    # The first image's nearest neighbour is the third, then the second.
    matrix = np.eye(4, dtype=np.float32)[[0, 2, 0, 1, 3, 3, 2, 1, 1, 2]]
    matrix[2] += np.array([0.9, 0, 0, 0], dtype=np.float32)
    matrix[1] += np.array([0.5, 0, 0, 0], dtype=np.float32)
    vectors.put_vectors(library.db, model_id, [e.hash for e in entries], matrix)
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert app.current_mode == "search"
        grid = app.screen.query_one("#results", ThumbnailGrid)
        shown = [grid.entry_at(i) for i in range(grid.count)]
        assert shown[0].hash == entries[2].hash and shown[0].score is not None
        assert entries[0].hash not in {e.hash for e in shown}  # itself excluded
        # Back in the viewer, an image without a vector says so instead of failing.
        library.db.execute("DELETE FROM vectors WHERE hash = ?", [entries[4].hash])
        library.db.conn.commit()
        await pilot.press("f1")
        await settle(pilot)
        app.screen.query_one(ThumbnailGrid).go_to(4)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.entry.hash == entries[4].hash
        await pilot.press("m")
        await settle(pilot)
        assert any("No similar images" in str(n.message) for n in app._notifications)


async def test_embed_without_a_model_gives_a_notice(library, make_test_app, settle):
    chosen = replace(library.settings, model="ViT-B-32", pretrained="/no/such/weights.safetensors")
    library = Library(chosen)  # settings never change: a library opened with the chosen model
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        messages = [str(n.message) for n in app._notifications]
        assert any("Semantic search is off" in m and "weights" in m for m in messages), messages
        assert not app.jobs.running("embed")
