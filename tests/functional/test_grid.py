"""The thumbnail grid: virtualised (a fixed pool of cells), plain-text names, stale results."""

from __future__ import annotations

import time

from textual import events

from anagnorisis_tui.core.library import Library
from anagnorisis_tui.ui.widgets.grid import halfcell
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import GridCell, ThumbnailGrid
from tests.support.app_library import catalogue, make_images
from tests.support.waiting import settled_until, until


def _synthetic_rows(library: Library, n: int) -> None:
    """n catalogue rows without files (the grid must not need them to page)."""
    now = time.time()
    with library.db.conn:
        library.db.conn.executemany(
            "INSERT INTO images(hash, size, width, height, format, first_seen) VALUES (?,?,?,?,?,?)",
            [(f"{i:032x}", 1000, 4000, 3000, "JPEG", now) for i in range(n)],
        )
        library.db.conn.executemany(
            "INSERT INTO files(path, root, folder, name, hash, size, mtime_ns, added, updated) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (
                    f"/nowhere/d{i // 1000:03d}/f{i:06d}.jpg",
                    "/nowhere",
                    f"d{i // 1000:03d}",
                    f"f{i:06d}.jpg",
                    f"{i:032x}",
                    1000,
                    0,
                    now,
                    now,
                )
                for i in range(n)
            ],
        )


async def test_grid_recycles_a_fixed_pool_of_cells(settings, make_test_app, settle):
    library = Library(settings)
    _synthetic_rows(library, 5000)
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(ThumbnailGrid)
        assert grid.count == 5000
        pool = len(app.screen.query(GridCell))
        assert pool == grid.columns * grid.visible_rows < 50
        for _ in range(5):
            await pilot.press("pagedown")
        await settle(pilot)
        assert grid.top_index == 5 * grid.columns * grid.visible_rows
        await pilot.press("end")
        await settle(pilot)
        assert grid.cursor == 4999
        assert len(app.screen.query(GridCell)) == pool
        last = [c for c in grid.cells if c.index == 4999][0]
        assert last.entry.name == "f004999.jpg"
        # Files that do not exist get an "unreadable" placeholder, not an error on screen.
        assert "unreadable" in last.placeholder_text
        await pilot.press("home")
        await settle(pilot)
        assert grid.cursor == 0 and grid.top_index == 0
    library.close()


async def test_mouse_scroll_and_click(library, make_test_app, settle):
    app = make_test_app(library)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(ThumbnailGrid)
        assert grid.visible_rows * grid.columns < 10
        grid.post_message(events.MouseScrollDown(grid, 5, 5, 0, 1, 0, False, False, False))
        await settle(pilot)
        assert grid.top_index == grid.columns
        second = grid.cells[1]
        await pilot.click(second)
        assert grid.cursor == second.index
        await pilot.double_click(second)
        await settle(pilot)
        assert app.current_mode == "viewer"
        assert app.screen.index == second.index


async def test_names_are_plain_text(settings, tmp_path, make_test_app, settle):
    """Markup-like names show literally; control characters show as escapes."""
    root = tmp_path / "odd"
    # "[bold]x[/].jpg" is a folder "[bold]x[" holding "].jpg" on POSIX.
    names = ["[bold]x[/].jpg", "esc\x1b[31mred.jpg", "[link=x]y[i].jpg"]
    paths = make_images(root, names)
    library = Library(settings)
    catalogue(library, root, paths)
    app = make_test_app(library)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(ThumbnailGrid)
        captions = sorted(c.caption_text for c in grid.cells if c.entry)
        assert "[link=x]y[i].jpg" in captions
        assert "esc\\x1b[31mred.jpg" in captions
        assert "].jpg" in captions
        index = next(c.index for c in grid.cells if c.entry and c.entry.name == "].jpg")
        grid.go_to(index)
        await pilot.press("enter")
        await settle(pilot)
        details = str(app.screen.query_one("#details").render())
        assert "[bold]x[/].jpg" in details
    library.close()


async def test_late_thumbnail_for_a_cell_that_moved_on_is_dropped(library, make_test_app, settle):
    app = make_test_app(library)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(ThumbnailGrid)
        before = {c.slot: c.shown_image for c in grid.cells}
        from PIL import Image

        late = Image.new("RGB", (8, 8))
        grid.post_message(ThumbnailGrid._ThumbReady("not-on-screen", late, ""))
        await pilot.pause()
        assert {c.slot: c.shown_image for c in grid.cells} == before
        first = grid.cells[0]
        grid.post_message(ThumbnailGrid._ThumbReady(first.entry.hash, late, ""))
        await pilot.pause()
        assert first.shown_image is late


async def test_folder_tree_scopes_the_grid(library, make_test_app, settle):
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        from anagnorisis_tui.ui.state.scope import Scope
        from anagnorisis_tui.ui.widgets.folder_tree import FolderTree

        tree = app.screen.query_one(FolderTree)
        tree.post_message(FolderTree.ScopeChosen(Scope(library.settings.library_roots[0], "b")))
        await settle(pilot)
        grid = app.screen.query_one(ThumbnailGrid)
        assert grid.count == 4
        assert all(c.entry.folder == "b" for c in grid.cells if c.entry)


async def test_half_cell_pictures_of_the_next_screen_are_painted_ahead(
    library, make_test_app, settle
):
    # 10 images at 80x24: 3 cells a screen, so the next screen is read (and painted) ahead.
    app = make_test_app(library, graphics="halfcell")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(ThumbnailGrid)
        per_screen = len(grid.cells)
        assert 0 < per_screen < 5
        store, image_class = app.thumbnails, app.image_class
        ahead = [grid.entry_at(i) for i in range(per_screen, 2 * per_screen)]

        def painted_ahead() -> bool:
            for cell, entry in zip(grid.cells, ahead, strict=True):
                image = store.peek(entry.hash)
                box = (cell.content_size.width, cell.content_size.height)
                if image is None or not image_class.prerendered(image, box):
                    return False
            return True

        for _ in range(50):  # painted in a thread: under load it may finish after settling
            if painted_ahead():
                break
            await settle(pilot)
        assert painted_ahead()
        await pilot.press("pagedown")
        await until(
            pilot,
            lambda: all(c.entry == e for c, e in zip(grid.cells, ahead, strict=True)),
            deadline=180,
        )
        for cell, entry in zip(grid.cells, ahead, strict=True):
            assert cell.entry == entry and cell.shown_image is store.peek(entry.hash)
            thumb = cell.query_one(image_class)
            # The painted line is the strip made ahead, not a new render.
            made = halfcell.strips(cell.shown_image, *thumb.content_size)
            assert thumb.render_line(0) is made[0]


async def test_search_screen_searches_within_the_folder_chosen_in_the_library(
    library, make_test_app, settle
):
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        from anagnorisis_tui.ui.state.scope import Scope
        from anagnorisis_tui.ui.widgets.folder_tree import FolderTree

        tree = app.screen.query_one(FolderTree)
        tree.post_message(FolderTree.ScopeChosen(Scope(library.settings.library_roots[0], "b")))
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        search = app.screen
        assert (search.state.root, search.state.folder) == (library.settings.library_roots[0], "b")
        results = search.query_one("#results", ThumbnailGrid)
        assert results.count == 4
        assert all(c.entry.folder == "b" for c in results.cells if c.entry)
        # Back in the Library, "All images" widens the search again.
        await pilot.press("f1")
        await settle(pilot)
        tree.post_message(FolderTree.ScopeChosen(Scope(None, None)))
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert search.state.folder is None
        assert search.query_one("#results", ThumbnailGrid).count > 4


async def test_enter_while_the_page_is_read_again_opens_the_image(library, make_test_app, settle):
    # Regression: Enter pressed just as a finished scan reloaded the grid was dropped.
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(ThumbnailGrid)
        grid.go_to(1)
        await settle(pilot)
        expected = grid.current_entry
        grid.reload()
        assert grid.current_entry is None  # the page is being read again
        grid.action_select()
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ViewerScreen"
        assert app.screen.entry == expected


async def test_enter_before_the_first_count_arrives_opens_the_image(library, tmp_path):
    # Regression: Enter reaching a grid whose source was just set and not yet counted (search
    # results shown while the user pressed Escape, Enter) compared the cursor with a count
    # still None and raised TypeError from ThumbnailGrid.action_select.
    import threading

    from textual.app import App
    from textual.widgets import Static

    from anagnorisis_tui.core.catalogue.thumbnails import ThumbnailStore
    from anagnorisis_tui.ui.state.scope import library_spec
    from anagnorisis_tui.ui.state.sources import ListSource, ViewSource

    entries = list(ViewSource(library, library_spec(library.settings.library_roots)).page(0, 4))
    answered = threading.Event()

    class SlowSource(ListSource):
        def count(self) -> int:
            answered.wait(30)
            return super().count()

        def page(self, offset: int, limit: int):
            answered.wait(30)
            return super().page(offset, limit)

    selected: list[int] = []

    class GridApp(App):
        def compose(self):
            yield Static("grid")
            yield ThumbnailGrid(
                SlowSource(entries, title="slow"),
                image_class=Static,
                thumbnails=ThumbnailStore(tmp_path / "thumbs"),
            )

        def on_thumbnail_grid_selected(self, message: ThumbnailGrid.Selected) -> None:
            selected.append(message.index)

    app = GridApp()
    async with app.run_test(size=(120, 40)) as pilot:
        grid = app.query_one(ThumbnailGrid)
        grid.focus()
        await pilot.pause()
        assert grid.count is None and grid.current_entry is None
        await pilot.press("enter")
        answered.set()
        await until(pilot, lambda: bool(selected))
        assert selected == [0]


async def test_thumbnails_the_cache_lacks_are_made_by_a_child_process(
    library, settings, photo_root, make_test_app, settle, monkeypatch
):
    from anagnorisis_tui.core.catalogue import thumbnails

    decoded_here: list[str] = []
    made_here = thumbnails.make_thumbnail

    def spy(source, *args, **kw):
        decoded_here.append(str(source))
        return made_here(source, *args, **kw)

    monkeypatch.setattr(thumbnails, "make_thumbnail", spy)
    broken = photo_root / "a" / "img00.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")  # catalogued, now unreadable
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        grid = app.screen.query_one(ThumbnailGrid)

        def drawn() -> bool:
            cells = [c for c in grid.cells if c.entry is not None]
            return bool(cells) and all(
                c.shown_image is not None or "unreadable" in c.placeholder_text for c in cells
            )

        await settled_until(pilot, settle, drawn)
        by_name = {c.entry.name: c for c in grid.cells if c.entry is not None}
        assert "img00.jpg" in by_name and len(by_name) >= 6
        assert "unreadable" in by_name["img00.jpg"].placeholder_text
        assert all(c.shown_image is not None for name, c in by_name.items() if name != "img00.jpg")
    assert decoded_here == []  # no original was decoded in the app's process
    cache = thumbnails.cache_dir(settings.data_dir)
    made = {p.stem for p in cache.rglob("*.jpg")}  # written by the child
    assert {c.entry.hash for n, c in by_name.items() if n != "img00.jpg"} <= made
