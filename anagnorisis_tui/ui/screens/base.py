"""AppScreen: the frame every mode's screen shares (mode bar on top, footer at the bottom).

Subclasses implement `compose_body()`. Screens of other modes (Search, Train) subclass it too.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from anagnorisis_tui.ui.messages import ForwardWorkerErrors
from anagnorisis_tui.ui.widgets.mode_bar import ModeBar


class AppScreen(ForwardWorkerErrors, Screen):
    def compose(self) -> ComposeResult:
        yield ModeBar()
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()
