"""In the app: the best matches above a score, newest first; a date range; the viewer's date."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from PIL import Image
from textual.widgets import Input

from anagnorisis_tui.core.base.config import load_settings
from anagnorisis_tui.core.demo.shapes import ShapeSpec, render
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.views.filters import parse_date
from anagnorisis_tui.ui.screens.search import SearchScreen
from anagnorisis_tui.ui.screens.viewer import ViewerScreen
from anagnorisis_tui.ui.widgets.filter_bar import FilterBar
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid

SPECS = [ShapeSpec("red", "circle", "white"), ShapeSpec("blue", "square", "black")]


@pytest.fixture
def dated(tmp_path: Path, tiny_embedder):
    root = tmp_path / "photos"
    root.mkdir()
    for i in range(10):
        spec = SPECS[i % 2]
        exif = Image.Exif()
        exif[0x8769] = {0x9003: f"{2014 + i}:03:04 05:06:07", 0x9011: "+01:00"}
        render(spec, size=96, rng=random.Random(i)).save(
            root / f"{spec.slug}-{i}.jpg", quality=92, exif=exif.tobytes()
        )
    settings = load_settings(
        data_dir=tmp_path / "data",
        config_file=tmp_path / "c.toml",
        overrides={"model": "tiny-clip", "pretrained": "", "device": "cpu"},
    )
    lib = Library(settings)
    lib.catalogue.set_root(root)
    lib.catalogue.scan(root)
    lib.semantic.use_embedder(tiny_embedder)
    lib.semantic.embed()
    yield lib
    lib.close()


async def _type(pilot, screen, control: str, text: str, settle) -> None:
    box = screen.query_one(f"#{control}", Input)
    box.focus()
    box.value = ""
    await pilot.press(*text, "enter")
    await settle(pilot)


async def test_search_above_a_score_newest_first_then_a_date_range(dated, make_test_app, settle):
    app = make_test_app(dated)
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        await pilot.press(*"a red circle", "enter")
        await settle(pilot)
        grid = screen.query_one("#results", ThumbnailGrid)
        assert grid.count == 10
        screen.query_one("#min_score", Input).value = "0.2"
        screen.query_one("#sort").value = "taken"
        await settle(pilot, rounds=20)
        entries = [grid.entry_at(i) for i in range(grid.count)]
        assert 0 < len(entries) < 10 and all(e.score >= 0.2 for e in entries)
        taken = [e.taken for e in entries]
        assert taken == sorted(taken, reverse=True)  # relevance first, then newest first
        bar = str(screen.query_one(FilterBar).render())
        assert "score ≥ 0.20" in bar and "sort: date taken ↓" in bar

        await _type(pilot, screen, "taken_from", "2016", settle)
        await _type(pilot, screen, "taken_to", "2019-12", settle)
        ranged = [grid.entry_at(i).taken for i in range(grid.count)]
        assert ranged == [
            t for t in taken if parse_date("2016") <= t <= parse_date("2019", end=True)
        ]
        assert "taken 2016–2019-12" in str(screen.query_one(FilterBar).render())

        await _type(pilot, screen, "taken_to", "2015", settle)  # before the start: not applied
        assert "start is after the end" in str(screen.query_one("#filter-error").render())
        assert [grid.entry_at(i).taken for i in range(grid.count)] == ranged

        grid.focus()
        await pilot.press("enter")
        await settle(pilot)
        viewer = app.screen
        assert isinstance(viewer, ViewerScreen)
        details = str(viewer.query_one("#details").render())
        assert "Taken" in details and "+01:00" in details and "05:06:07" in details
