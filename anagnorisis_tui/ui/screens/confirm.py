"""A yes/no question in a modal dialog: `push_screen(ConfirmScreen(...), callback)` -> bool."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    """Asks before anything that moves files. Enter/y confirms, Escape/n cancels."""

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
    }
    ConfirmScreen > #dialog {
        width: 72;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        border: thick $warning 80%;
        background: $surface;
        padding: 1 2;
    }
    ConfirmScreen #title {
        text-style: bold;
        margin-bottom: 1;
    }
    ConfirmScreen #body {
        height: auto;
        max-height: 20;
        overflow-y: auto;
    }
    ConfirmScreen #buttons {
        height: auto;
        align-horizontal: right;
        margin-top: 1;
    }
    ConfirmScreen Button {
        margin-left: 2;
    }
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Confirm"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no", tooltip="Cancel"),
    ]

    def __init__(
        self, title: str, body: str | Text, *, confirm_label: str = "Yes", danger: bool = True
    ) -> None:
        super().__init__()
        self._title = title
        # Plain str bodies are shown as text (file names may hold markup-like brackets).
        self._body = body if isinstance(body, Text) else Text(body)
        self._confirm_label = confirm_label
        self._danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(self._title), id="title")
            yield Static(self._body, id="body")
            with Horizontal(id="buttons"):
                yield Button("Cancel (n)", id="no")
                yield Button(
                    f"{self._confirm_label} (y)",
                    id="yes",
                    variant="error" if self._danger else "primary",
                )

    def on_mount(self) -> None:
        # Focus Cancel so a stray Enter never moves files.
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
