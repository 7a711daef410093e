"""How the app's jobs and workers reach the screens (the app's job wiring).

- A library shown is wired to the jobs (`attach`): the thumbnails its cache lacks, and the
  vector of an image queried by, are made in a child process (ui/jobs.py), never in the UI.
- A job's progress and result (`JobProgressed`, `JobFinished`, posted by ui/jobs.py) update the
  job, run its `on_done` on the UI thread, and are published on the app's job signal, which the
  mode bar, the job panel and the screens follow.
- A worker that fails becomes a notice (never a traceback on screen) and a traceback in the
  data dir's private errors.log; every worker that ends is published on the job signal too.

The app (ui/app.py) holds one `JobEvents` and passes these messages on to it.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.signal import Signal
from textual.worker import Worker, WorkerState

from anagnorisis_tui.core.catalogue.thumbnails import ThumbnailStore
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.ui.jobs import Jobs
from anagnorisis_tui.ui.messages import JobFinished, JobProgressed


def attach(library: Library, jobs: Jobs, thumbnails: ThumbnailStore) -> None:
    """Make `library`'s missing thumbnails and query-image vectors in child processes."""
    thumbnails.maker = jobs.make_thumbnails
    library.semantic.use_image_encoder(jobs.image_vector)


class JobEvents:
    """The app's jobs and workers, reported on its job signal and as notices."""

    def __init__(
        self,
        app: App[Any],
        jobs: Jobs,
        signal: Signal[str],
        data_dir: Callable[[], str | os.PathLike[str]],
    ) -> None:
        self._app = app
        self._jobs = jobs
        self._signal = signal
        self._data_dir = data_dir  # where errors.log is written (the app's settings')

    def progressed(self, message: JobProgressed) -> None:
        job = self._jobs.jobs.get(message.job)
        if job is not None:
            job.progress = message.progress
        self._signal.publish(message.job)

    def finished(self, message: JobFinished) -> None:
        job = self._jobs.jobs.get(message.job)
        if job is not None and job.on_done is not None:
            job.on_done(message.result)
        self._signal.publish(message.job)

    def worker_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures become notices (never a traceback on screen)."""
        worker = event.worker
        if event.state != WorkerState.ERROR or worker.error is None:
            if event.state in (WorkerState.SUCCESS, WorkerState.CANCELLED, WorkerState.ERROR):
                self._signal.publish(worker.group)
            return
        error = worker.error
        self._log_error(worker, error)
        self._app.notify(
            f"{worker.name or worker.group}: {error}",
            title="Something went wrong",
            severity="error",
            timeout=10,
            markup=False,
        )
        self._signal.publish(worker.group)

    def _log_error(self, worker: Worker[Any], error: BaseException) -> None:
        try:
            log = Path(self._data_dir()) / "errors.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            from anagnorisis_tui.core.base import private

            with os.fdopen(private.open_log(log), "a", encoding="utf-8") as fh:
                fh.write(f"--- {worker.name} ({worker.group})\n")
                fh.write("".join(traceback.format_exception(error)))
        except OSError:
            pass
