"""The child side of core/work/runner.py: `python -m anagnorisis_tui.core.work.child`.

Reads one JSON request line from stdin, runs the task from core/work/tasks.py with a progress
callback that writes JSON lines to the protocol stream and a cancel event that a "cancel" line
(or stdin closing) sets, then writes the result or the error and exits.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
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


def _listen(cancel: threading.Event) -> None:
    for line in sys.stdin:
        if line.strip() == "cancel":
            break
    cancel.set()  # asked to, or the caller went away


def main() -> int:
    from anagnorisis_tui.core.base.private import private_umask

    private_umask()
    # The protocol keeps the real stdout; anything a library prints goes to the log instead.
    channel = Channel(os.fdopen(os.dup(1), "w", encoding="utf-8", errors="surrogateescape"))
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    request = json.loads(sys.stdin.readline())
    cancel = threading.Event()
    threading.Thread(target=_listen, args=(cancel,), name="cancel-listener", daemon=True).start()

    from anagnorisis_tui.core.work import tasks
    from anagnorisis_tui.core.work.runner import settings_from_payload

    print(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} task {request['task']}", file=sys.stderr)
    try:
        fn = tasks.TASKS[request["task"]]
        settings = settings_from_payload(request["settings"])
        value = fn(settings, request.get("args") or {}, channel, cancel)
    except Exception as exc:  # reported to the caller, who shows it as a notice
        traceback.print_exc(file=sys.stderr)
        from anagnorisis_tui.core.errors import UserError

        user = isinstance(exc, UserError)
        channel.send({"t": "error", "type": type(exc).__name__, "message": str(exc), "user": user})
        return 1
    channel.send({"t": "result", "value": value})
    channel.stream.flush()
    return 0


def run() -> None:
    """main(), then exit at once: every batch is committed, and a model still loading in a
    thread (the task was cancelled before it needed it) must not hold the exit up."""
    code = main()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
