"""AppScreen: the frame every mode's screen shares (mode bar on top, footer at the bottom).

Subclasses implement `compose_body()`. Screens of other modes (Search, Train) subclass it too.
`self.app` is typed as ui/host.py's HostApp (what screens use of the app, as a Protocol: no
screen imports ui/app.py, which imports them) and `self.library` as the core's Library: a screen
reaches what the app holds (jobs, thumbnails, signals, the library) through those, never by
probing.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import getters
from textual.app import ComposeResult, SystemCommand
from textual.screen import Screen
from textual.widgets import Footer

from anagnorisis_tui.core.library import Library
from anagnorisis_tui.ui.host import HostApp
from anagnorisis_tui.ui.messages import ForwardWorkerErrors
from anagnorisis_tui.ui.widgets.mode_bar import ModeBar


class AppScreen(ForwardWorkerErrors, Screen):
    app = getters.app(HostApp)

    @property
    def library(self) -> Library:
        return self.app.library

    def compose(self) -> ComposeResult:
        yield ModeBar()
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def extra_commands(self) -> Iterable[SystemCommand]:
        """Command-palette entries for actions without a key (none by default)."""
        return ()
