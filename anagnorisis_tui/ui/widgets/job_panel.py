"""JobPanel: one line per running or finished long job, with progress, rate and ETA."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from anagnorisis_tui.core.progress import format_eta

JOB_ORDER = ("scan", "thumbnails", "embed")


class JobPanel(Vertical):
    DEFAULT_CSS = """
    JobPanel { height: auto; }
    JobPanel > .job { height: auto; display: none; }
    JobPanel > .job.-shown { display: block; }
    JobPanel ProgressBar { width: 100%; }
    JobPanel Bar { width: 1fr; }
    """

    def compose(self) -> ComposeResult:
        for name in JOB_ORDER:
            with Vertical(classes="job", id=f"job-{name}"):
                yield Static("", classes="label", markup=False)
                yield ProgressBar(show_eta=False, show_percentage=False, classes="bar")

    def on_mount(self) -> None:
        signal = getattr(self.app, "job_signal", None)
        if signal is not None:
            signal.subscribe(self, lambda _: self.refresh_jobs())
        self.refresh_jobs()

    def refresh_jobs(self) -> None:
        jobs = getattr(self.app, "jobs", None)
        if jobs is None:
            return
        for name in JOB_ORDER:
            box = self.query_one(f"#job-{name}", Vertical)
            job = jobs.jobs.get(name)
            shown = job is not None and job.running
            box.set_class(shown, "-shown")
            if not shown or job is None:
                continue
            p = job.progress
            label = Text(job.title, style="bold")
            if p is None:
                label.append("  starting…")
            else:
                total = f" / {p.total:,}" if p.total else ""
                label.append(f"  {p.done:,}{total}")
                if p.fraction is not None:
                    label.append(f"  {p.fraction:.0%}")
                label.append(f"  ETA {format_eta(p.eta)}", style="dim")
                if p.rate:
                    label.append(f"  {p.rate:,.0f}/s", style="dim")
            if job.cancel.is_set():
                label.append("  cancelling…", style="italic")
            box.query_one(".label", Static).update(label)
            bar = box.query_one(ProgressBar)
            if p is not None and p.total:
                bar.update(total=p.total, progress=p.done)
            else:
                bar.update(total=None)
