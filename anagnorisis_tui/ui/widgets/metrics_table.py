"""Held-out metrics of each candidate evaluator beside the constant-mean baseline."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from anagnorisis_tui.ui.state.train_view import MetricsRow


def _num(value: float | None, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


class MetricsTable(Static):
    DEFAULT_CSS = """
    MetricsTable {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown = False

    def on_mount(self) -> None:
        if not self.renderable_is_set:
            self.show_rows([], note="not trained yet: rate some images, then press t")

    @property
    def renderable_is_set(self) -> bool:
        return self._shown

    def show_rows(self, rows: Sequence[MetricsRow], *, note: str = "") -> None:
        self._shown = True
        table = Table(expand=True, box=None, pad_edge=False, header_style="bold")
        table.add_column("model", no_wrap=True, overflow="ellipsis", ratio=1)
        table.add_column("MAE ↓", justify="right")
        table.add_column("Spearman ρ ↑", justify="right")
        table.add_column("pairwise ↑", justify="right")
        scope = None
        for row in rows:
            if row.scope != scope:
                scope = row.scope
                table.add_row(Text(scope, style="italic"), "", "", "")
            style = "bold green" if row.chosen else "dim" if row.baseline else ""
            name = Text("  " + row.name + (" ✓" if row.chosen else ""), style=style)
            table.add_row(
                name,
                _num(row.mae, ".2f"),
                _num(row.spearman, ".3f"),
                _num(row.pairwise, ".1%"),
            )
        if note:
            table.caption = note
            table.caption_justify = "left"
        self._table = table
        self.update(table)

    def plain(self) -> str:
        """What the table shows, as plain text (for tests and the tmux check)."""
        console = Console(width=max(40, self.size.width), color_system=None, record=True)
        console.print(self._table)
        return console.export_text()
