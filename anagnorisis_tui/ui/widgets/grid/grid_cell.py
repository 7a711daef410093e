"""The thumbnail grid's parts: a recycled cell, its caption, and the position scrollbar."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PIL import Image as PILImage
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.message import Message
from textual.widget import Widget

from anagnorisis_tui.core.base import rating_text
from anagnorisis_tui.core.views.paging import ImageEntry
from anagnorisis_tui.ui.state.text import safe

if TYPE_CHECKING:
    from anagnorisis_tui.ui.graphics import PictureWidget


def caption(entry: ImageEntry | None) -> Text:
    """A cell's caption: the file name as plain text (never markup), then rating or score."""
    if entry is None:
        return Text("…", style="dim")
    text = Text(safe(entry.name), no_wrap=True, overflow="ellipsis", end="")
    # The user's rating, else the model's prediction marked as one (~ and ☆); a search or
    # concept score is always shown, since it is why the image is where it is.
    if entry.rating is not None:
        text = Text.assemble((f"{rating_text.user_rating(entry.rating)}★ ", "bold yellow"), text)
    elif entry.predicted is not None:
        text = Text.assemble((f"{rating_text.prediction(entry.predicted)}☆ ", "italic"), text)
    if entry.score is not None:
        text = Text.assemble((f"{entry.score:.2f} ", "cyan"), text)
    return text


class GridCell(Widget):
    """One recycled cell: the picture, centred; the caption is drawn in the bottom border.

    Two widgets per cell (the cell and its image), so a screenful of cells is cheap to style,
    lay out and rebind. A placeholder ("unreadable", "…") is the cell's own content, shown
    while the image widget is hidden.
    """

    DEFAULT_CSS = """
    GridCell {
        layout: vertical;
        align: center middle;
        content-align: center middle;
        border: round $panel;
        border-subtitle-align: left;
        border-subtitle-color: $text;
        color: $text-muted;
        padding: 0;
    }
    GridCell.-cursor {
        border: round $accent;
        background: $accent 15%;
    }
    GridCell.-empty {
        border: round transparent;
    }
    GridCell > .thumb {
        width: auto;
        height: auto;
    }
    """

    class Clicked(Message):
        def __init__(self, cell: GridCell, chain: int) -> None:
            super().__init__()
            self.cell = cell
            self.chain = chain

    def __init__(self, image_class: type[PictureWidget], slot: int) -> None:
        super().__init__()
        self.slot = slot
        self.index: int | None = None
        self.entry: ImageEntry | None = None
        self._shown: PILImage.Image | None = None
        self._placeholder_text = ""
        self._caption = Text("")
        # Made here, not in compose, so a cell can be bound before it is mounted.
        self._thumb = image_class(classes="thumb")
        self._thumb.display = False

    def compose(self) -> ComposeResult:
        yield self._thumb

    def render(self) -> Text:
        return Text(self._placeholder_text, no_wrap=True, overflow="ellipsis")

    @property
    def shown_image(self) -> PILImage.Image | None:
        return self._shown

    @property
    def caption_text(self) -> str:
        """The caption as the user reads it (file name, rating or prediction, score)."""
        return self._caption.plain

    @property
    def placeholder_text(self) -> str:
        return self._placeholder_text

    def bind(
        self,
        index: int | None,
        entry: ImageEntry | None,
        image: PILImage.Image | None,
        placeholder: str = "",
    ) -> None:
        """Show `entry` at `index` (None: an empty slot past the end)."""
        same_entry = entry is not None and self.entry == entry and self.index == index
        self.index = index
        self.entry = entry
        self.set_class(index is None, "-empty")
        if not same_entry:
            self._caption = caption(entry) if index is not None else Text("")
            self.border_subtitle = self._caption
        self.set_image(image, placeholder if index is not None else "")

    def set_image(self, image: PILImage.Image | None, placeholder: str = "") -> None:
        if image is self._shown and (image is not None or placeholder == self._placeholder_text):
            return
        self._shown = image
        self._thumb.image = image
        self._thumb.display = image is not None
        new_placeholder = "" if image is not None else placeholder
        if new_placeholder != self._placeholder_text:
            self._placeholder_text = new_placeholder
            self.refresh()

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Clicked(self, event.chain))


class GridScrollbar(Widget):
    """A one-column position indicator for the grid; click or drag to jump (`scroll_to` takes
    the fraction of the way down)."""

    DEFAULT_CSS = """
    GridScrollbar { width: 1; height: 100%; color: $accent; background: $panel; }
    """

    def __init__(self, scroll_to: Callable[[float], None]) -> None:
        super().__init__()
        self._jump_to = scroll_to
        self.total_rows = 0
        self.window_rows = 0
        self.top_row = 0

    def set_position(self, total_rows: int, window_rows: int, top_row: int) -> None:
        if (total_rows, window_rows, top_row) != (self.total_rows, self.window_rows, self.top_row):
            self.total_rows, self.window_rows, self.top_row = total_rows, window_rows, top_row
            self.refresh()

    def render(self) -> Text:
        height = self.size.height
        if height <= 0 or self.total_rows <= self.window_rows:
            return Text("\n".join(" " * height))
        size = max(1, round(height * self.window_rows / self.total_rows))
        span = max(1, self.total_rows - self.window_rows)
        start = round((height - size) * self.top_row / span)
        return Text("\n".join("█" if start <= y < start + size else " " for y in range(height)))

    def _jump(self, y: int) -> None:
        if self.size.height > 0:
            self._jump_to(y / max(1, self.size.height - 1))

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self.capture_mouse()
        self._jump(event.y)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self.app.mouse_captured is self:
            self._jump(event.y)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self.release_mouse()
