"""App-wide messages. Workers post these (post_message is thread-safe); handlers own all state.

Progress messages coalesce: a newer report for the same job replaces one still in the queue, so
a scan reporting thousands of files a second costs the UI one repaint per frame at most.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.worker import Worker, WorkerState

from anagnorisis_tui.core.base.progress import Progress

if TYPE_CHECKING:
    from textual.app import App


class JobProgressed(Message):
    """A long job (scan, embed, thumbnails) reports progress."""

    def __init__(self, job: str, progress: Progress) -> None:
        super().__init__()
        self.job = job
        self.progress = progress

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, JobProgressed) and message.job == self.job


class JobFinished(Message):
    """A long job ended: `result` is its summary (with `cancelled` where it has one)."""

    def __init__(self, job: str, result: Any) -> None:
        super().__init__()
        self.job = job
        self.result = result


class LibraryChanged(Message):
    """The catalogue changed (a scan finished a batch, a root was set): views reload."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LibraryChanged)


class RatingChanged(Message):
    """The user rated (or cleared) an image; grids showing it update their label."""

    def __init__(self, content_hash: str, value: float | None) -> None:
        super().__init__()
        self.content_hash = content_hash
        self.value = value


class ForwardWorkerErrors:
    """Mixin for widgets and screens that run workers: Worker.StateChanged does not bubble, so
    each failure is forwarded to the app, whose one handler turns it into a notification."""

    if TYPE_CHECKING:
        app: App[object]  # the widget's or screen's own `app`

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.node is self:
            event.stop()
            self.app.post_message(Worker.StateChanged(event.worker, event.state))
