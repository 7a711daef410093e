"""The protocol stream a child task writes to (core/work/child.py), in a module of its own:
the tasks (core/work/tasks.py) write to it, and the child runs the tasks, so neither imports
the other for it."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, TextIO

from anagnorisis_tui.core.base.progress import Progress

PROGRESS_EVERY = 0.1  # seconds between progress lines (the last of a stage always goes)


class Channel:
    """The protocol stream: JSON lines, written by any thread, one whole line at a time."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lock = threading.Lock()
        self.last_progress = 0.0

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message, ensure_ascii=False, default=str) + "\n"
        with self.lock:
            self.stream.write(line)
            self.stream.flush()

    def progress(self, p: Progress) -> None:
        now = time.monotonic()
        finished = p.total is not None and p.done >= p.total
        if not finished and now - self.last_progress < PROGRESS_EVERY:
            return
        self.last_progress = now
        self.send({"t": "progress", **p.to_json()})

    def event(self, message: dict[str, Any]) -> None:
        """A task's own event (core/work/results.py: its `to_json`)."""
        self.send({"t": "event", **message})
