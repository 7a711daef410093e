"""Long work (scan and ingest, embeddings, thumbnails) as named jobs with cancel events.

Heavy work runs in a child process (core/work/runner.py; the scan through
core/work/scan_run.py, given to `start` as the job's `stoppable`): the job's thread worker only
reads the child's progress, so the model and the decoders never load into the UI process, a
crash in them becomes a notice, and quitting kills the child at once (`stop_all`) with its
committed batches kept. Lighter jobs run in the thread itself.

Each job runs a core function `fn(progress=..., cancel=...)` in a thread worker of group
`job:<name>` with exit_on_error=False (failures reach the app's one Worker.StateChanged handler
and become notifications). Progress is throttled here and coalesced by the message queue
(JobProgressed.can_replace). Cancelling sets the job's threading.Event; the core polls it
between units of work and returns what it finished, so the database stays consistent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from textual.worker import Worker

from anagnorisis_tui.core.base.config import Settings
from anagnorisis_tui.core.base.progress import Progress, ProgressCallback
from anagnorisis_tui.core.work.runner import ChildTask, EventCallback
from anagnorisis_tui.ui.messages import JobFinished, JobProgressed

if TYPE_CHECKING:
    import numpy as np
    from textual.app import App

    from anagnorisis_tui.core.library import Library

# At most this many progress messages per second per job reach the UI thread.
PROGRESS_RATE = 8.0

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class JobFn(Protocol[T_co]):
    """A core function with the long-call protocol: reports progress, stops on cancel."""

    def __call__(self, *, progress: ProgressCallback, cancel: threading.Event) -> T_co: ...


class Stoppable(Protocol):
    """What a job runs in another process (a ChildTask, a ScanRun): `kill()` stops it now."""

    def kill(self) -> None: ...


@dataclass
class Job(Generic[T]):
    name: str
    title: str
    cancel: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    worker: Worker[T] | None = None
    progress: Progress | None = None
    started: float = field(default_factory=time.monotonic)
    result: T | None = None
    on_done: Callable[[T], None] | None = None
    child: Stoppable | None = None

    @property
    def running(self) -> bool:
        # The thread, not the worker state: a cancelled worker's thread runs until it polls.
        return self.worker is not None and not self.finished.is_set()


class Jobs:
    """The app's long-running jobs, by name (one of each at a time)."""

    def __init__(self, app: App[Any], library: Callable[[], Library]) -> None:
        self.app = app
        self.library = library  # the app's current one: a child opens the same catalogue
        self.jobs: dict[str, Job[Any]] = {}
        self.loose: set[ChildTask] = set()  # children run by screens outside any job

    def settings(self) -> Settings:
        """The library's own settings: a child opens the same catalogue as this process."""
        return self.library().settings

    def running(self, name: str) -> bool:
        job = self.jobs.get(name)
        return job is not None and job.running

    def any_running(self) -> bool:
        return any(job.running for job in self.jobs.values())

    def start(
        self,
        name: str,
        title: str,
        fn: JobFn[T],
        on_done: Callable[[T], None] | None = None,
        *,
        stoppable: Stoppable | None = None,
    ) -> Job[T] | None:
        """Run `fn(progress=, cancel=)` as job `name`; None if one is already running.

        `on_done(result)` runs on the UI thread when `fn` returns (not when it raises);
        `stoppable` is what `stop_all` kills at once (the job's child process).
        """
        if self.running(name):
            return None
        job: Job[T] = Job(name, title, on_done=on_done, child=stoppable)
        self.jobs[name] = job
        last = [0.0]

        def report(progress: Progress) -> None:
            now = time.monotonic()
            done = progress.total is not None and progress.done >= progress.total
            if (done or now - last[0] >= 1.0 / PROGRESS_RATE) and self.jobs.get(name) is job:
                last[0] = now
                self.app.post_message(JobProgressed(name, progress))

        def work() -> T:
            try:
                result = fn(progress=report, cancel=job.cancel)
                job.result = result
                if self.jobs.get(name) is job:  # not a job forgotten (forget_all)
                    self.app.post_message(JobFinished(name, result))
                return result
            finally:
                job.finished.set()

        job.worker = self.app.run_worker(
            work,
            name=title,
            group=f"job:{name}",
            thread=True,
            exit_on_error=False,
        )
        return job

    def run_child(
        self,
        task: str,
        args: dict[str, Any],
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        on_event: EventCallback | None = None,
    ) -> dict[str, Any] | None:
        """Run core task `task` in a child process from a screen's own worker thread and return
        its result's JSON (core/work/results.py reads it), None when quitting killed it;
        quitting stops it like a job's (`stop_all`). Raises TaskFailed."""
        child = ChildTask(task, self.settings(), args)
        self.loose.add(child)
        try:
            return child.run(progress=progress, cancel=cancel, on_event=on_event)
        finally:
            self.loose.discard(child)

    def make_thumbnails(
        self, items: list[tuple[str, str]], size: int, made: Callable[[str, str], bool]
    ) -> None:
        """The ThumbnailStore's maker: the thumbnails the cache lacks, made in one child process
        (the UI never decodes an original); `made(hash, error)` hears of each, False stops it."""
        from anagnorisis_tui.core.catalogue.thumbnails import ThumbnailError
        from anagnorisis_tui.core.work.results import ThumbEvent, event_from_json
        from anagnorisis_tui.core.work.runner import TaskFailed

        cancel = threading.Event()

        def on_event(message: dict[str, Any]) -> None:
            event = event_from_json(message)
            if isinstance(event, ThumbEvent) and not made(event.hash, event.error):
                cancel.set()

        try:
            self.run_child(
                "thumbnails", {"items": items, "size": size}, cancel=cancel, on_event=on_event
            )
        except TaskFailed as exc:
            raise ThumbnailError(str(exc)) from None

    def image_vector(self, path: str) -> np.ndarray:
        """The unit vector of an image file for a query by image, computed in a child process
        (the UI never decodes it or loads the model); a file or model that cannot be used
        raises the child's QueryError or ModelUnavailable with its message."""
        import numpy as np

        from anagnorisis_tui.core.semantic.model_choice import ModelUnavailable
        from anagnorisis_tui.core.semantic.search import QueryError
        from anagnorisis_tui.core.work.results import VectorResult
        from anagnorisis_tui.core.work.runner import TaskFailed

        try:
            result = self.run_child("image_vector", {"path": path})
        except TaskFailed as exc:
            if exc.kind == "ModelUnavailable":
                raise ModelUnavailable(str(exc)) from None
            if exc.user:
                raise QueryError(str(exc)) from None
            raise
        if result is None:  # killed: the app is quitting
            raise QueryError(f"stopped before {path} was read")
        return np.asarray(VectorResult.from_json(result).vector, dtype=np.float32)

    def stop_all(self) -> None:
        """Stop everything now: cancel every job and kill every child process at once.

        Killing loses only the batch in flight (every batch commits on its own, the database
        stays consistent) and frees the CPU for the app's own shutdown at once; on a busy NAS
        a child given time to finish its batch made quitting slower (BENCHMARKS.md)."""
        self.cancel_all()
        # Copies first: this may run in the terminal's input thread (ui/quick_quit.py).
        jobs, loose = list(self.jobs.values()), list(self.loose)
        for child in [*(job.child for job in jobs if job.child is not None), *loose]:
            child.kill()

    def forget_all(self) -> None:
        """Stop everything (`stop_all`) and forget it: the app moved to another library, whose
        jobs start at once; what the old ones still report is dropped."""
        self.stop_all()
        self.jobs.clear()
        self.loose.clear()

    def cancel(self, name: str) -> bool:
        job = self.jobs.get(name)
        if job is None or not job.running:
            return False
        job.cancel.set()
        return True

    def cancel_all(self) -> None:
        for job in list(self.jobs.values()):
            job.cancel.set()

    def wait(self, timeout: float) -> bool:
        """Block until every job thread ended (after cancel_all), at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        for job in self.jobs.values():
            if job.worker is not None:
                job.finished.wait(max(0.0, deadline - time.monotonic()))
        return not self.any_running()
