"""ThumbnailGrid: a virtualised grid of thumbnails over any GridSource.

Never one widget per image: the grid owns a fixed pool of cells, as many as fit on screen, and
rebinds them to entries as the view moves. Reading pages and loading thumbnails (with the token
guard against late results) is the base class's job: grid_loading.GridLoader.

Reuse: `ThumbnailGrid(source, image_class=, thumbnails=)` with a `ViewSource` (paged SQL) or a
`ListSource` (search results, similar images), the picture widget class and the thumbnail store
the app holds; `set_source`, `reload`, `go_to`; it posts `Highlighted` and `Selected`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.message import Message
from textual.widgets import Static

from anagnorisis_tui.core.catalogue.thumbnails import ThumbnailStore
from anagnorisis_tui.core.views.paging import ImageEntry
from anagnorisis_tui.ui.messages import ForwardWorkerErrors
from anagnorisis_tui.ui.state.sources import GridSource
from anagnorisis_tui.ui.typeahead import TypeAhead, TypeAheadTarget
from anagnorisis_tui.ui.widgets.grid.grid_cell import GridCell, GridScrollbar, caption
from anagnorisis_tui.ui.widgets.grid.grid_loading import (
    LOADING,
    PAGE_SIZE,
    GridLoader,
    Wanted,
    box_of,
)

if TYPE_CHECKING:
    from anagnorisis_tui.ui.graphics import PictureWidget

__all__ = ["PAGE_SIZE", "GridCell", "GridScrollbar", "ThumbnailGrid", "caption"]

CELL_WIDTH = 22  # target characters per cell, borders included
CELL_HEIGHT = 11  # target lines per cell: picture plus one caption line


class ThumbnailGrid(ForwardWorkerErrors, TypeAheadTarget, GridLoader, can_focus=True):
    """A virtualised, keyboard- and mouse-driven grid of thumbnails over a GridSource."""

    DEFAULT_CSS = """
    ThumbnailGrid {
        layout: horizontal;
        height: 1fr;
    }
    ThumbnailGrid > #cells {
        layout: grid;
        width: 1fr;
        height: 100%;
        grid-columns: 1fr;
        grid-rows: 1fr;
    }
    ThumbnailGrid > #empty {
        width: 1fr;
        height: 100%;
        content-align: center middle;
        color: $text-muted;
        display: none;
    }
    ThumbnailGrid.-empty > #empty { display: block; }
    ThumbnailGrid.-empty > #cells { display: none; }
    """

    BINDINGS = [
        Binding("up,k", "move(-1, 0)", "Up", show=False, id="grid.up"),
        Binding("down,j", "move(1, 0)", "Down", show=False, id="grid.down"),
        Binding("left,h", "move(0, -1)", "Left", show=False, id="grid.left"),
        Binding("right,l", "move(0, 1)", "Right", show=False, id="grid.right"),
        Binding("pageup,ctrl+b", "page(-1)", "Page up", show=False, id="grid.page_up"),
        Binding("pagedown,ctrl+f,space", "page(1)", "Page down", show=False, id="grid.page_down"),
        Binding("home,g", "go_to(0)", "First", show=False, id="grid.first"),
        Binding("end,G", "go_to(-1)", "Last", show=False, id="grid.last"),
        Binding("enter", "select", "Open", id="grid.open", tooltip="Open the image in the viewer"),
    ]

    class Highlighted(Message):
        """The cursor moved to `index` (entry None while its page is still loading)."""

        def __init__(self, grid: ThumbnailGrid, index: int, entry: ImageEntry | None) -> None:
            super().__init__()
            self.grid = grid
            self.index = index
            self.entry = entry

        @property
        def control(self) -> ThumbnailGrid:
            return self.grid

    class Selected(Message):
        """The user opened `entry` (Enter or double click)."""

        def __init__(self, grid: ThumbnailGrid, index: int, entry: ImageEntry) -> None:
            super().__init__()
            self.grid = grid
            self.index = index
            self.entry = entry

        @property
        def control(self) -> ThumbnailGrid:
            return self.grid

    class Counted(Message):
        """The source's size is known (after `set_source` or `reload`)."""

        def __init__(self, grid: ThumbnailGrid, count: int) -> None:
            super().__init__()
            self.grid = grid
            self.count = count

        @property
        def control(self) -> ThumbnailGrid:
            return self.grid

    def __init__(
        self,
        source: GridSource | None = None,
        *,
        image_class: type[PictureWidget],
        thumbnails: ThumbnailStore,
        cell_size: tuple[int, int] = (CELL_WIDTH, CELL_HEIGHT),
        empty_text: str = "No images here.",
        typeahead: TypeAhead | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(
            source, image_class=image_class, thumbnails=thumbnails, id=id, classes=classes
        )
        self.typeahead = typeahead  # the app's key gate: pages flipped past get no pictures
        self.cell_size = cell_size
        self.empty_text = empty_text
        self._top_row = 0
        self._cols = 1
        self._rows = 1

    # -- public API ------------------------------------------------------------------------
    @property
    def source(self) -> GridSource | None:
        return self._source

    @property
    def columns(self) -> int:
        return self._cols

    @property
    def visible_rows(self) -> int:
        return self._rows

    @property
    def top_index(self) -> int:
        return self._top_row * self._cols

    @property
    def cells(self) -> list[GridCell]:
        return list(self._cells)

    def set_source(self, source: GridSource | None, cursor: int = 0) -> None:
        """Show another source (a folder, search results); the cursor goes to `cursor`."""
        self._source = source
        self._select_when_loaded = None
        self.cursor = max(0, cursor)
        self._top_row = 0
        self.reload()

    def go_to(self, index: int) -> None:
        """Move the cursor to `index` (negative counts from the end)."""
        if not self.count:
            self.cursor = max(0, index)
            return
        if index < 0:
            index += self.count
        self._set_cursor(index)

    def typeahead_ready(self) -> bool:
        """Keys typed ahead wait (ui/typeahead.py) until the count and the cursor's entry are in."""
        if self._source is None:
            return True
        return self.count is not None and (self.count == 0 or self.current_entry is not None)

    def scroll_to_fraction(self, fraction: float) -> None:
        total_rows = self._total_rows
        top = round(max(0.0, min(1.0, fraction)) * max(0, total_rows - self._rows))
        self._scroll_rows_to(top)

    # -- handlers ---------------------------------------------------------------------------
    @on(GridCell.Clicked)
    def _cell_clicked(self, message: GridCell.Clicked) -> None:
        message.stop()
        cell = message.cell
        if cell.index is None:
            return
        self.focus()
        self._set_cursor(cell.index)
        if message.chain >= 2 and cell.entry is not None:
            self.post_message(self.Selected(self, cell.index, cell.entry))

    def on_resize(self, event: events.Resize) -> None:
        self._layout_pool()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self._scroll_rows_to(self._top_row + 1)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self._scroll_rows_to(self._top_row - 1)

    # -- actions ----------------------------------------------------------------------------
    def action_move(self, rows: int, columns: int) -> None:
        if not self.count:
            return
        target = self.cursor + rows * self._cols + columns
        if rows and not 0 <= target < self.count:
            target = self.cursor  # moving up/down past the edge does nothing
        self._set_cursor(max(0, min(self.count - 1, target)))

    def action_page(self, pages: int) -> None:
        if not self.count:
            return
        step = self._rows * self._cols * pages
        top = max(0, min(self._top_row + self._rows * pages, self._max_top))
        self._top_row = top
        self._set_cursor(max(0, min(self.count - 1, self.cursor + step)))

    def action_go_to(self, index: int) -> None:
        self.go_to(index)

    def action_select(self) -> None:
        entry = self.current_entry
        if entry is not None:
            self.post_message(self.Selected(self, self.cursor, entry))
        elif self.count is None or self.cursor < self.count:
            # Its page is being read (a new source not counted yet) or read again (a scan just
            # finished, say): open it on arrival rather than dropping the key.
            self._select_when_loaded = self.cursor

    # -- layout and binding -----------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(self.empty_text, id="empty", markup=False)
        yield Container(id="cells")
        yield GridScrollbar(self.scroll_to_fraction)

    def on_mount(self) -> None:
        self.set_class(True, "-empty")
        if self._source is not None:
            self.reload()

    @property
    def _total_rows(self) -> int:
        return math.ceil((self.count or 0) / self._cols) if self._cols else 0

    @property
    def _max_top(self) -> int:
        return max(0, self._total_rows - self._rows)

    def _layout_pool(self) -> None:
        width, height = self.size.width - 1, self.size.height  # one column for the scrollbar
        if width <= 0 or height <= 0:
            return
        cols = max(1, width // self.cell_size[0])
        rows = max(1, height // self.cell_size[1])
        if (cols, rows) != (self._cols, self._rows) or len(self._cells) != cols * rows:
            # Keep the cursor's row on screen at the same place relative to the data.
            self._cols, self._rows = cols, rows
            container = self.query_one("#cells", Container)
            container.styles.grid_size_columns = cols
            container.styles.grid_size_rows = rows
            wanted = cols * rows
            if len(self._cells) > wanted:
                extra = self._cells[wanted:]
                del self._cells[wanted:]
                for cell in extra:
                    cell.remove()
            elif len(self._cells) < wanted:
                new = [
                    GridCell(self._image_class, slot) for slot in range(len(self._cells), wanted)
                ]
                self._cells.extend(new)
                container.mount_all(new)
            self._top_row = min(self._top_row, self._max_top)
            self._ensure_cursor_visible()
        self._bind()

    def _cursor_page_loaded(self) -> None:
        self.post_message(self.Highlighted(self, self.cursor, self.current_entry))
        pending, self._select_when_loaded = self._select_when_loaded, None
        if pending == self.cursor and self.current_entry is not None:
            self.action_select()

    def set_empty_text(self, text: str) -> None:
        """What the grid says while it has nothing to show (e.g. a scan's progress)."""
        if text != self.empty_text:
            self.empty_text = text
            if self.is_mounted:
                self.query_one("#empty", Static).update(text)

    def _set_count(self, count: int) -> None:
        self.count = count
        self.set_class(count == 0, "-empty")
        self.query_one("#empty", Static).update(self.empty_text)
        if count:
            self.cursor = max(0, min(self.cursor, count - 1))
        else:
            self.cursor = 0
        self._top_row = min(self._top_row, self._max_top)
        self._ensure_cursor_visible()
        self._bind()
        self.post_message(self.Counted(self, count))
        if count:
            entry = self.current_entry
            self.post_message(self.Highlighted(self, self.cursor, entry))

    def _set_cursor(self, index: int) -> None:
        if self.count:
            index = max(0, min(self.count - 1, index))
        moved = index != self.cursor
        self.cursor = index
        self._ensure_cursor_visible()
        self._bind()
        if moved:
            self.post_message(self.Highlighted(self, index, self.current_entry))

    def _ensure_cursor_visible(self) -> None:
        row = self.cursor // self._cols if self._cols else 0
        if row < self._top_row:
            self._top_row = row
        elif row >= self._top_row + self._rows:
            self._top_row = row - self._rows + 1
        self._top_row = max(0, min(self._top_row, self._max_top))

    def _scroll_rows_to(self, top: int) -> None:
        top = max(0, min(top, self._max_top))
        if top == self._top_row:
            return
        self._top_row = top
        # The cursor stays on screen: pulled to the nearest visible row.
        row = self.cursor // self._cols
        if row < top or row >= top + self._rows:
            col = self.cursor % self._cols
            new_row = top if row < top else top + self._rows - 1
            self._set_cursor(min((self.count or 1) - 1, new_row * self._cols + col))
        else:
            self._bind()

    def _bind(self) -> None:
        """Point every cell at the entry it now shows; ask for what is missing."""
        if not self._cells or self.count is None:
            return
        count = self.count
        first = self._top_row * self._cols
        wanted_thumbs: list[Wanted] = []
        store = self._store
        # More keys are waiting (a burst of PageDown, a slow link delivering several at once):
        # this page will be flipped past, so its pictures are not sent; they come once the
        # keys have been handled.
        typeahead = self.typeahead
        passing = typeahead is not None and typeahead.backlog > 0
        if typeahead is not None and passing:
            typeahead.when_drained(self._bind)
        for slot, cell in enumerate(self._cells):
            index = first + slot
            if index >= count:
                cell.bind(None, None, None)
                cell.set_class(False, "-cursor")
                continue
            entry = self.entry_at(index)
            if entry is None:
                self._request_page(index // PAGE_SIZE)
                cell.bind(index, None, None, LOADING)
            else:
                image = None if passing else store.peek(entry.hash)
                failure = store.failure(entry.hash) if image is None else None
                cell.bind(index, entry, image, "unreadable" if failure else LOADING)
                if image is None and failure is None and not passing:
                    wanted_thumbs.append((entry.hash, entry.os_path, box_of(cell)))
            cell.set_class(index == self.cursor, "-cursor")
        # Prefetch the next screen's page so a page flip finds its entries in memory.
        next_page_index = first + len(self._cells) * 2
        if next_page_index < count:
            self._request_page(next_page_index // PAGE_SIZE)
        self.query_one(GridScrollbar).set_position(self._total_rows, self._rows, self._top_row)
        self.border_subtitle = f"{self.cursor + 1:,} / {count:,}" if count else ""
        if not passing:
            self._load_thumbnails(first, wanted_thumbs)
