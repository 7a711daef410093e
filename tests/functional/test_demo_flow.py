"""The demo library offline is the whole product: its shapes are embedded by the shipped tiny
model and searchable, and the screen names the model. A photo library never gets the tiny
model without being asked."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from anagnorisis_tui.core.base.config import DEFAULT_MODEL, DEFAULT_PRETRAINED, replace
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.ui.screens.search import SearchScreen
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid

pytestmark = pytest.mark.slow


def _label(app) -> str:
    return str(app.screen.query_one("#root-label", Static).render())


async def _until(pilot, check, rounds: int = 6000) -> bool:
    """Wait for `check` (at most 5 minutes: a loaded machine imports torch slowly)."""
    for _ in range(rounds):
        if check():
            return True
        await pilot.pause(0.05)
    return False


def _open(tmp_path: Path, *argv: str):
    """What `anagnorisis-tui [argv]` opens: (the user's settings, the library, its folder)."""
    from anagnorisis_tui.cli import build_parser
    from anagnorisis_tui.cli.open_cmd import library_from_args

    data, config = str(tmp_path / "data"), str(tmp_path / "c.toml")
    args = build_parser(["open_cmd"]).parse_args(
        ["open", "--data-dir", data, "--config", config, *argv]
    )
    return library_from_args(args)


async def test_the_demo_is_embedded_with_the_tiny_model_and_searchable(
    tmp_path: Path, tiny_embedder, settle
):
    from anagnorisis_tui.ui.app import make_app

    settings, library, root = _open(tmp_path)  # nothing saved: the demo, in its own data dir
    assert library.settings.demo and library.data_dir == tmp_path / "data" / "demo"
    assert root == tmp_path / "data" / "demo" / "library"
    assert not settings.demo and library.settings.session_model == "tiny-clip"
    assert library.semantic.model_choice().name == "tiny-clip"
    library.semantic.use_embedder(tiny_embedder)
    app = make_app(settings, library=library, graphics="unicode")
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        assert "tiny-clip, the demo's shipped model" in _label(app)

        def embedded() -> bool:
            done, total = library.semantic.vector_counts()
            return done == total > 40

        assert await _until(pilot, lambda: embedded() and not app.jobs.any_running())
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"a red circle", "enter")
        await settle(pilot)
        grid = app.screen.query_one("#results", ThumbnailGrid)
        top = [Path(grid.entry_at(i).path).name for i in range(5)]
        # (palette.png, a crimson disc among the odd files, is a fair match too)
        assert any("red-circle" in name for name in top[:3]), top
        assert sum("red-" in name for name in top) >= 2, top
    app.close_libraries()
    # Nothing about the demo's model reached the settings file, nor the demo the user's data.
    assert not settings.config_file.exists() or "tiny" not in settings.config_file.read_text()
    user = Library(settings)
    assert user.catalogue.roots() == []
    assert user.db.execute("SELECT count(*) FROM files").fetchone()[0] == 0
    user.close()
    # `--demo` opens it again once a library of one's own is saved.
    photos = tmp_path / "photos"
    photos.mkdir()
    _open(tmp_path, str(photos))[1].close()
    _, demo, demo_folder = _open(tmp_path, "--demo")
    assert demo.settings.demo and demo_folder == root and demo.catalogue.roots() == [str(root)]
    demo.close()
    _, mine, folder = _open(tmp_path)
    assert folder == photos and not mine.settings.demo
    mine.close()


async def test_a_photo_library_keeps_the_configured_model(
    library: Library, photo_root: Path, make_test_app, settle
):
    settings = library.settings
    assert not settings.demo and not settings.session_model
    app = make_test_app(library)
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        assert f"{DEFAULT_MODEL} ({DEFAULT_PRETRAINED})" in _label(app).replace("\n", " ")
        await pilot.press("e")  # no weights here and no hub: told so, no tiny model instead
        assert await _until(pilot, lambda: not app.jobs.running("embed"))
        await settle(pilot)
        messages = [str(n.message) for n in app._notifications]
        assert any(f"cannot get the weights for {DEFAULT_MODEL}" in m for m in messages), messages
    assert library.db.execute("SELECT count(*) FROM vectors").fetchone()[0] == 0
    assert library.semantic.model_choice().name == DEFAULT_MODEL


async def test_a_chosen_tiny_model_on_photos_says_what_it_is(
    library: Library, photo_root: Path, make_test_app, settle
):
    library = Library(replace(library.settings, model="tiny-clip", pretrained=""))
    app = make_test_app(library)
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        assert "knows coloured shapes only, not photos" in _label(app)


async def test_while_the_demo_is_made_the_grid_says_so_and_a_folder_leaves_it_behind(
    tmp_path: Path, settle, monkeypatch
):
    """The empty grid shows the demo's making and scanning, not "Press o"; choosing a folder
    from the demo shows the user's own catalogue on every screen, even while the demo's scan
    still runs, and the demo's rating stays in the demo."""
    from anagnorisis_tui.ui.app import make_app
    from tests.support.app_library import make_images

    settings, library, _root = _open(tmp_path)
    app = make_app(settings, library=library, graphics="unicode", embed_after_scan=False)
    photos = tmp_path / "photos"
    make_images(photos, [f"mine{i}.jpg" for i in range(5)])
    # Every text the Library grid is given from the app's first moment, with whether the demo's
    # scan job was running then. Read after the app had started, a loaded machine showed a grid
    # already filled: the demo had been made and scanned before the test's first look.
    given: list[tuple[str, bool]] = []
    set_empty_text = ThumbnailGrid.set_empty_text

    def record(grid: ThumbnailGrid, text: str) -> None:
        if grid.id == "grid":
            given.append((text, app.jobs.running("scan")))
        set_empty_text(grid, text)

    monkeypatch.setattr(ThumbnailGrid, "set_empty_text", record)
    async with app.run_test(size=(140, 44)) as pilot:
        grid = app.screen.query_one("#grid", ThumbnailGrid)
        assert await _until(pilot, lambda: any(running for _, running in given))
        during = [text for text, running in given if running]
        assert during[0].startswith(("Making the demo", "Scanning the demo")), given
        assert all(text.startswith(("Making the demo", "Scanning the demo")) for text in during)
        assert "the demo" in _label(app)
        demo_db = library.db
        with demo_db.transaction():  # a rating given in the demo
            demo_db.execute("INSERT INTO ratings(hash, value, updated) VALUES ('d', 8, 0)")
        app.screen._library_chosen(str(photos))  # what `o` and Enter do, the scan still running
        assert not app.on_demo and app.library is not library
        assert await _until(pilot, lambda: grid.count == 5 and not app.jobs.any_running())
        await settle(pilot)
        assert str(photos) in _label(app) and "the demo" not in _label(app)
        assert "the demo's shipped model" not in _label(app)
        await pilot.press("f4")
        await settle(pilot)
        assert app.screen.library is app.library  # every mode made again on the user's library
        user = app.library
        assert user.db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 0
        assert user.catalogue.roots() == [str(photos)]
        assert user.db.execute("SELECT count(*) FROM files").fetchone()[0] == 5
    app.close_libraries()
