"""The demo library offline is the whole product: its shapes are embedded by the shipped tiny
model and searchable, and the screen names the model. A photo library never gets the tiny
model without being asked."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from anagnorisis_tui.core.base.config import DEFAULT_MODEL, DEFAULT_PRETRAINED, load_settings
from anagnorisis_tui.core.demo.generate import resolve_library, use_demo_model
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


async def test_the_demo_is_embedded_with_the_tiny_model_and_searchable(
    tmp_path: Path, tiny_embedder, settle
):
    from anagnorisis_tui.ui.app import make_app

    settings = load_settings(data_dir=tmp_path / "data", config_file=tmp_path / "c.toml")
    library = Library(settings)
    root = resolve_library(settings, None, library)
    assert use_demo_model(settings, root)  # no model chosen: the demo's own
    assert library.semantic.model_choice().name == "tiny-clip"
    library.semantic.use_embedder(tiny_embedder)
    app = make_app(settings, library=library, graphics="unicode", root=str(root))
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
    library.close()
    # Nothing about the demo's model reached the settings file.
    assert not settings.config_file.exists() or "tiny" not in settings.config_file.read_text()


async def test_a_photo_library_keeps_the_configured_model(
    library: Library, photo_root: Path, make_test_app, settle
):
    settings = library.settings
    assert not use_demo_model(settings, photo_root)
    app = make_test_app(library, root=str(photo_root))
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
    library.settings.model, library.settings.pretrained = "tiny-clip", ""
    app = make_test_app(library, root=str(photo_root))
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        assert "knows coloured shapes only, not photos" in _label(app)
