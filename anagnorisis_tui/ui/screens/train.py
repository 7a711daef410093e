"""Train mode. Placeholder until issue 7 lands its screen here."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from anagnorisis_tui.ui.screens.base import AppScreen


class TrainScreen(AppScreen):
    def compose_body(self) -> ComposeResult:
        yield Static("Training the personal evaluator arrives with issue 7.", markup=False)
