"""A modal that asks for the library folder; returns the path typed (validated by the caller)."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class SetLibraryScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    SetLibraryScreen { align: center middle; }
    SetLibraryScreen > Vertical {
        width: 80%;
        max-width: 100;
        height: auto;
        border: thick $accent;
        background: $surface;
        padding: 1 2;
    }
    SetLibraryScreen #error { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="set_library.cancel")]

    def __init__(self, current: str = "", error: str = "") -> None:
        super().__init__()
        self.current = current
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Library folder: the images to catalogue (nothing is written inside it)")
            yield Input(self.current, placeholder="~/Pictures", id="path")
            yield Static(self.error, id="error", markup=False)
            yield Static("Enter saves it and starts the scan · Esc cancels", classes="hint")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if not value:
            self.query_one("#error", Static).update("Type a folder path.")
            return
        path = Path(value).expanduser()
        if not path.is_dir():
            reason = "does not exist" if not path.exists() else "is not a folder"
            self.query_one("#error", Static).update(f"{path} {reason}.")
            return
        self.dismiss(str(path))

    def action_cancel(self) -> None:
        self.dismiss(None)
