"""Search/Filter mode. Placeholder until issue 7 lands its screen here; shows result lists.

Contract the app relies on: `show_entries(title, entries)` shows a list of ImageEntry (with
scores) in a ThumbnailGrid, e.g. "more like this" from the viewer.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.widgets import Static

from anagnorisis_tui.core.query import ImageEntry
from anagnorisis_tui.ui.screens.base import AppScreen
from anagnorisis_tui.ui.sources import ListSource
from anagnorisis_tui.ui.widgets.thumbnail_grid import ThumbnailGrid


class SearchScreen(AppScreen):
    def compose_body(self) -> ComposeResult:
        yield Static("Search and filters arrive with issue 7.", id="search-title", markup=False)
        yield ThumbnailGrid(empty_text="No results yet.", id="results")

    def show_entries(self, title: str, entries: Sequence[ImageEntry]) -> None:
        self.query_one("#search-title", Static).update(title)
        grid = self.query_one("#results", ThumbnailGrid)
        grid.set_source(ListSource(entries, title=title))
        grid.focus()

    @on(ThumbnailGrid.Selected)
    def _open(self, message: ThumbnailGrid.Selected) -> None:
        self.app.open_viewer(message.grid.source, message.index)  # type: ignore[attr-defined]
