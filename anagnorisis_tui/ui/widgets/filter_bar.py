"""One line that says, at a glance, what the Search/Filter grid is showing and how many."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from anagnorisis_tui.ui.state.search_state import SearchState


class FilterBar(Static):
    DEFAULT_CSS = """
    FilterBar {
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    """

    def __init__(self, state: SearchState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._state = state
        self._status = ""
        self._list_sort: str | None = None  # a fixed list is shown, in this order

    def on_mount(self) -> None:
        self._paint()

    def show(self, state: SearchState, status: str | None = None) -> None:
        self._state = state
        self._list_sort = None
        if status is not None:
            self._status = status
        self._paint()

    def show_list(self, status: str, sort: str) -> None:
        """A fixed list (more like this) instead of the state's results: its order, no filters."""
        self._status = status
        self._list_sort = sort
        self._paint()

    def set_status(self, status: str) -> None:
        self._status = status
        self._paint()

    def _paint(self) -> None:
        # Built as Text, never markup: queries and concepts are user text. One line, the count
        # first: a bar that grew and shrank would re-lay out the grid on every search.
        line = Text(no_wrap=True, overflow="ellipsis")
        if self._status:
            line.append(self._status, style="italic")
            line.append("  ·  ", style="dim")
        chips = self._state.chips() if self._list_sort is None else [f"sort: {self._list_sort} ↓"]
        for i, chip in enumerate(chips):
            if i:
                line.append("  ·  ", style="dim")
            label, sep, rest = chip.partition(": ")
            if sep and label in {"search", "sort"}:
                line.append(label + ": ", style="dim")
                line.append(rest, style="bold")
            else:
                line.append(chip, style="bold")
        self.update(line)
