"""JobPanel: one line per running or finished long job, with progress, rate and ETA."""

from __future__ import annotations

from rich.text import Text
from textual import getters
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from anagnorisis_tui.core.base.progress import format_eta
from anagnorisis_tui.ui.host import HostApp

JOB_ORDER = ("scan", "thumbnails", "embed")
# What each stage of a job is doing, in words (core Progress.stage).
STAGES = {
    "demo": "making the demo library",
    "walk": "listing files",
    "catalogue": "reading",
    "ingest": "thumbnails, hashes, vectors",
    "embed": "embedding",
    "index": "search index",
    "predict": "predicting ratings",
}


class JobPanel(Vertical):
    app = getters.app(HostApp)

    DEFAULT_CSS = """
    JobPanel { height: auto; }
    JobPanel > .job { height: auto; display: none; }
    JobPanel > .job.-shown { display: block; }
    JobPanel ProgressBar { width: 100%; }
    JobPanel Bar { width: 1fr; }
    """

    def compose(self) -> ComposeResult:
        # Rows are mounted when a job first runs: nothing to style at the first paint.
        yield from ()

    def _job_row(self, name: str) -> tuple[Vertical, Static, ProgressBar]:
        if name not in self._job_rows:
            label = Static("", classes="label", markup=False)
            bar = ProgressBar(show_eta=False, show_percentage=False, classes="bar")
            row = Vertical(label, bar, classes="job", id=f"job-{name}")
            later = [
                self._job_rows[n][0]
                for n in JOB_ORDER[JOB_ORDER.index(name) + 1 :]
                if n in self._job_rows
            ]
            self.mount(row, before=later[0] if later else None)
            self._job_rows[name] = (row, label, bar)
        return self._job_rows[name]

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._job_rows: dict[str, tuple[Vertical, Static, ProgressBar]] = {}

    def on_mount(self) -> None:
        self.app.job_signal.subscribe(self, lambda _: self.refresh_jobs())
        self.refresh_jobs()

    def refresh_jobs(self) -> None:
        jobs = self.app.jobs
        for name in JOB_ORDER:
            job = jobs.jobs.get(name)
            shown = job is not None and job.running
            if not shown and name not in self._job_rows:
                continue
            box, label_widget, bar = self._job_row(name)
            box.set_class(shown, "-shown")
            if not shown or job is None:
                continue
            p = job.progress
            label = Text(job.title, style="bold")
            if p is None:
                label.append("  starting…")
            elif p.stage in ("download", "prepare"):  # a model's first use, before any image
                from anagnorisis_tui.core.semantic import model_progress

                label.append("  " + model_progress.text(p))
                hint = "the next run resumes" if p.stage == "download" else "it starts again"
                label.append(f"  (x cancels; {hint})", style="dim")
            else:
                label.append(f"  {STAGES.get(p.stage, p.stage)}")
                total = f" / {p.total:,}" if p.total else ""
                label.append(f"  {p.done:,}{total}")
                if p.fraction is not None:
                    label.append(f"  {p.fraction:.0%}")
                label.append(f"  ETA {format_eta(p.eta)}", style="dim")
                if p.rate:
                    label.append(f"  {p.rate:,.0f}/s", style="dim")
            if job.cancel.is_set():
                label.append("  cancelling…", style="italic")
            label_widget.update(label)
            if p is not None and p.total:
                bar.update(total=p.total, progress=p.done)
            else:
                bar.update(total=None)
