"""`?`: the keys in force (after the user's keymap), how to rate 10, and the graphics in use."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from anagnorisis_tui.ui.graphics import protocol_name
from anagnorisis_tui.ui.host import HostApp

INTRO = (
    "Library: choose a folder (o), it is scanned in the background; arrows or hjkl move, "
    "Enter opens. Viewer: 0–9 rate and move on, t rates 10, ⌫ clears, ←/→ browse, "
    "m finds similar images. Every action is also in the command palette (ctrl+p). "
    "Rebind keys in the settings file under [keymap] with the ids below."
)

WEIGHTS = (
    "Model weights: search needs the CLIP model's weights. The shipped tiny-clip "
    "(--model tiny-clip) is always here and works offline, but knows only coloured shapes. "
    "Any other model's weights come from the model hub (huggingface.co, or the mirror "
    "HF_ENDPOINT names) on first use, into the hub cache (HF_HOME, HF_HUB_CACHE); "
    "`anagnorisis-tui embed` fetches them and computes the vectors. With HF_HUB_OFFLINE=1 or "
    "no internet, run that once where there is internet, or copy the weights file here and pass "
    "--pretrained /path/to/it; until then browsing, rating and filters work, search does not. "
    'The Library sidebar\'s "search:" line says which applies.'
)


def _compact(keys: list[str]) -> str:
    """'0, 1, …, 9' as '0–9' (the rating keys); other key lists joined with commas."""
    if len(keys) > 3 and all(len(k) == 1 and k.isdigit() for k in keys):
        digits = sorted(int(k) for k in keys)
        if digits == list(range(digits[0], digits[-1] + 1)):
            return f"{digits[0]}–{digits[-1]}"
    return ", ".join(keys)


class HelpScreen(ModalScreen[None]):
    app = getters.app(HostApp)

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 110; height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(INTRO), id="help-intro")
            yield Static(Text(WEIGHTS), id="help-weights")
            yield Static(self._keys_table(), id="help-keys")
            graphics = protocol_name(self.app.image_class)
            yield Static(
                Text(f"Images are drawn with: {graphics} (--graphics or [ui] graphics to change)"),
                id="help-graphics",
            )

    def _keys_table(self) -> Table:
        table = Table(box=None, expand=True, pad_edge=False)
        table.add_column("Keys", style="bold", no_wrap=True)
        table.add_column("Action")
        # A Text header: a str would be read as markup, and "[keymap]" would vanish as a tag.
        table.add_column(Text("Id (for [keymap])"), style="dim", no_wrap=True)
        # The screen under this modal: its bindings and the app's, as the keymap left them.
        below = self.app.screen_stack[-2] if len(self.app.screen_stack) > 1 else self.app.screen
        # One row per action text: the ten rating keys share one row.
        rows: dict[str, tuple[list[str], list[str]]] = {}
        for active in below.active_bindings.values():
            binding = active.binding
            if not binding.description:
                continue
            text = binding.tooltip or binding.description
            keys, ids = rows.setdefault(text, ([], []))
            # key_display summarises a group ("0-9" on the 0 key): list the real key here.
            keys.append(binding.key if binding.key_display else self.app.get_key_display(binding))
            if binding.id and binding.id not in ids:
                ids.append(binding.id)
        self.rows = []
        for text, (keys, ids) in rows.items():
            shown_keys = _compact(list(dict.fromkeys(keys)))
            shown_ids = ", ".join(ids) if len(ids) < 3 else f"{ids[0]} … {ids[-1]}"
            self.rows.append((shown_keys, text, shown_ids))
            table.add_row(Text(shown_keys), Text(text), Text(shown_ids))
        return table

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
