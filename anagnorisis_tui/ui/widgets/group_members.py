"""The groups view's side panel: one row per member of the shown group (keep, trash or stays,
why it is in the group, resolution, size, folder, rating) above the summary of what moved."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from anagnorisis_tui.core.base.rating_text import effective
from anagnorisis_tui.core.views.paging import ImageEntry
from anagnorisis_tui.ui.state.search_state import format_size


class GroupMembers(VerticalScroll):
    DEFAULT_CSS = """
    GroupMembers {
        width: 2fr;
        max-width: 90;
        height: 1fr;
        border-left: vkey $foreground 20%;
    }
    GroupMembers #member-table {
        height: auto;
        max-height: 50%;
    }
    GroupMembers #groups-log {
        height: 1fr;
        padding: 1 1 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        table: DataTable[str | Text] = DataTable(
            id="member-table", cursor_type="row", zebra_stripes=True
        )
        table.can_focus = False  # the thumbnails have the keys; the table follows them
        yield table
        yield Static("", id="groups-log")

    def on_mount(self) -> None:
        table = self.query_one("#member-table", DataTable)
        table.add_columns("", "image", "why", "resolution", "size", "folder", "rating")

    def show_members(
        self,
        members: list[ImageEntry],
        *,
        keeper: str,
        suggested: str,
        trash: set[str],
        why: dict[str, str],
    ) -> None:
        """The rows of one group (none: an empty table); names are text, never markup."""
        table = self.query_one("#member-table", DataTable)
        table.clear()
        for entry in members:
            if entry.path == keeper:
                mark = Text("★ keep", style="bold green")
            elif entry.path in trash:
                mark = Text("✗ trash", style="red")
            else:
                mark = Text("· stays", style="dim")
            resolution = f"{entry.width}×{entry.height}" if entry.width and entry.height else "?"
            # Yours (7★), else the personal model's prediction (~6.4): picking from a series.
            rating = effective(entry.rating, entry.predicted, none="")
            table.add_row(
                mark,
                Text(entry.name),
                Text("suggested keeper" if entry.path == suggested else why.get(entry.path, "")),
                resolution,
                format_size(entry.size),
                Text(entry.folder or "."),
                rating,
                key=entry.path,
            )

    def show_log(self, log: Text) -> None:
        self.query_one("#groups-log", Static).update(log)

    def highlight(self, row: int) -> None:
        table = self.query_one("#member-table", DataTable)
        if table.row_count:
            table.move_cursor(row=row)
