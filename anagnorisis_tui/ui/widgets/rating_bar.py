"""RatingBar: the 0–10 rating as eleven clickable steps (keys are handled by the viewer)."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

STEP = 3  # characters per step: " 7 "


class RatingBar(Widget):
    DEFAULT_CSS = """
    RatingBar { height: 1; width: 33; color: $accent; }
    """

    value: reactive[float | None] = reactive(None)

    class Changed(Message):
        """The user clicked a step: rate `value`."""

        def __init__(self, bar: RatingBar, value: int) -> None:
            super().__init__()
            self.bar = bar
            self.value = value

        @property
        def control(self) -> RatingBar:
            return self.bar

    def render(self) -> Text:
        text = Text(no_wrap=True)
        value = self.value
        for step in range(11):
            label = f"{step:^{STEP}}"
            if value is not None and step <= round(value):
                text.append(label, style="bold reverse" if step == round(value) else "reverse")
            else:
                text.append(label, style="dim")
        return text

    def on_click(self, event: events.Click) -> None:
        step = event.x // STEP
        if 0 <= step <= 10:
            self.post_message(self.Changed(self, step))
