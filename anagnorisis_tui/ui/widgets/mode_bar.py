"""The bar at the top of every mode's screen: the modes as clickable tabs, and running jobs."""

from __future__ import annotations

from rich.text import Text
from textual import events, getters
from textual.widget import Widget

from anagnorisis_tui.core.base.progress import format_eta
from anagnorisis_tui.ui.host import HostApp

MODE_TITLES = {"library": "Library", "search": "Search", "viewer": "Viewer", "train": "Train"}

# What each stage of a long job is doing, in the words the status line uses.
STAGE_WORDS = {
    "walk": "finding files",
    "catalogue": "reading files",
    "ingest": "pictures and vectors",
    "thumbnails": "thumbnails",
    "dates": "capture dates",
    "index": "search index",
}


class ModeBar(Widget):
    app = getters.app(HostApp)

    DEFAULT_CSS = """
    ModeBar {
        height: 1;
        width: 100%;
        background: $panel;
        color: $text;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._spans: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        self.app.job_signal.subscribe(self, lambda _: self.refresh())
        self.app.mode_change_signal.subscribe(self, lambda _: self.refresh())

    def _key_for(self, mode: str) -> str:
        for active in self.screen.active_bindings.values():
            action = active.binding.action
            if action == f"switch_mode('{mode}')" or (mode, action) == ("viewer", "view_current"):
                return self.app.get_key_display(active.binding)
        return ""

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        self._spans = []
        current = self.app.current_mode
        for mode, title in MODE_TITLES.items():
            key = self._key_for(mode)
            start = len(text)
            style = "bold reverse" if mode == current else ""
            text.append(f" {title} ", style=style)
            if key:
                text.append(f"{key} ", style="dim" if mode != current else "bold reverse dim")
            self._spans.append((start, len(text), mode))
            text.append(" ")
        status = self._job_status()
        if status:
            pad = self.size.width - len(text) - len(status)
            text.append(" " * max(1, pad))
            text.append(status, style="italic")
        return text

    def _job_status(self) -> str:
        parts = []
        for job in self.app.jobs.jobs.values():
            if job.running and job.progress is not None:
                p = job.progress
                pct = f" {p.fraction:.0%}" if p.fraction is not None else f" {p.done:,}"
                title = {"download": "Model download", "prepare": "Preparing model"}.get(p.stage)
                if title is None:
                    # A scan runs stage after stage: "100% ETA 00:00" alone read as done.
                    step = STAGE_WORDS.get(p.stage)
                    title = f"{job.title} · {step}" if step else job.title
                parts.append(f"{title}{pct} ETA {format_eta(p.eta)}")
            elif job.running:
                parts.append(f"{job.title}…")
        return "  ".join(parts)

    def on_click(self, event: events.Click) -> None:
        for start, end, mode in self._spans:
            if start <= event.x < end:
                if mode == "viewer":
                    self.app.action_view_current()
                else:
                    self.app.switch_mode(mode)
                return
