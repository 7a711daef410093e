"""Run heavy work (ingest, embedding) in a child process that streams its progress back.

The caller's side is one blocking call with the signature every long core function has:
`ChildTask(task, settings, args).run(progress=..., cancel=..., on_event=...)` returns the
task's result (plain JSON data) or raises TaskFailed. The app runs it in a thread worker, the
CLI in its main thread, so both drive the same child.

Why a process: the model (torch, ONNX Runtime) and the decoders never load into the caller,
so a UI stays small and responsive; `kill()` stops the work at once at any moment (every batch
commits in its own SQLite transaction, WAL mode, so the database stays consistent and what was
committed is kept); and a decoder or model that crashes takes down only the child, which the
caller reports as TaskFailed(crashed=True).

Protocol (core/work/child.py, started as `python -c`): the request is one JSON line on the child's stdin; the child
writes JSON lines on its stdout: {"t": "progress", ...Progress fields}, {"t": "event", ...}
for anything task-specific (scan file events), then one {"t": "result", "value": ...} or
{"t": "error", "message": ..., "type": ...}. A line "cancel" on stdin, or stdin closing (the
caller died), makes the child stop between units of work and return what it finished. Its
stderr goes to `worker.log` in the data dir, never to the terminal the app draws on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from anagnorisis_tui.core.base import private
from anagnorisis_tui.core.base.config import Settings
from anagnorisis_tui.core.base.progress import Progress, ProgressCallback

EventCallback = Callable[[dict[str, Any]], None]
LOG_NAME = "worker.log"
# The child imports this very copy of the package, wherever it was started from.
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])
_CHILD_MAIN = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from anagnorisis_tui.core.work.child import run; run()"
)


class TaskFailed(RuntimeError):
    """The task raised (message is the reason a user reads) or the child process died."""

    def __init__(
        self, message: str, *, kind: str = "", user: bool = False, crashed: bool = False
    ) -> None:
        super().__init__(message)
        self.kind = kind  # the exception class name raised in the child, if it raised
        self.user = user  # that exception was a UserError: its message is for the user
        self.crashed = crashed


def settings_payload(settings: Settings) -> dict[str, Any]:
    out = dataclasses.asdict(settings)
    out["data_dir"] = str(settings.data_dir)
    out["config_file"] = str(settings.config_file)
    return out


def settings_from_payload(payload: dict[str, Any]) -> Settings:
    values = dict(payload)
    values["data_dir"] = Path(values["data_dir"])
    values["config_file"] = Path(values["config_file"])
    return Settings(**values)


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


class ChildTask:
    """One task in one child process. Thread-safe: `cancel_now()`/`kill()` from any thread."""

    def __init__(self, task: str, settings: Settings, args: dict[str, Any] | None = None) -> None:
        self.task = task
        self.settings = settings
        self.args = dict(args or {})
        self.process: subprocess.Popen[str] | None = None
        self.last_progress: Progress | None = None
        self.killed = False
        self._lock = threading.Lock()
        self._ended = threading.Event()

    @property
    def log_path(self) -> Path:
        return Path(self.settings.data_dir) / LOG_NAME

    def _start(self) -> subprocess.Popen[str]:
        try:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            # 0600, rotated past a few MB (core/base/private.py); handed to the child.
            log: Any = os.fdopen(private.open_log(self.log_path), "a", encoding="utf-8")
        except OSError:
            # An unwritable data dir: the task itself will say so; its traceback is lost.
            log = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
        try:
            env = dict(os.environ)
            env["PYTHONUNBUFFERED"] = "1"
            process = subprocess.Popen(
                [sys.executable, "-c", _CHILD_MAIN, _PACKAGE_ROOT],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                encoding="utf-8",
                errors="surrogateescape",
                env=env,
                # Its own session: a Ctrl-C or terminal hang-up reaches the caller, which
                # decides; the child stops when told or when its stdin closes.
                start_new_session=True,
                close_fds=True,
            )
        finally:
            log.close()
        request = {
            "task": self.task,
            "settings": settings_payload(self.settings),
            "args": self.args,
        }
        assert process.stdin is not None
        process.stdin.write(json.dumps(request) + "\n")
        process.stdin.flush()
        return process

    def run(
        self,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        on_event: EventCallback | None = None,
    ) -> Any:
        """Start the child and block until it ends; returns the task's result.

        Raises TaskFailed when the task raised or the child died. A child stopped by `kill()`
        returns None (the caller asked for it; what it committed is kept)."""
        with self._lock:
            if self.killed:
                return None
            self.process = process = self._start()
        watcher = threading.Thread(
            target=self._watch_cancel, args=(cancel,), name="child-cancel", daemon=True
        )
        watcher.start()
        result: Any = None
        error: dict[str, Any] | None = None
        got_result = False
        try:
            assert process.stdout is not None
            for line in process.stdout:
                try:
                    message = json.loads(line)
                except json.JSONDecodeError:
                    continue  # not ours: a library that wrote to the protocol stream
                kind = message.pop("t", None)
                if kind == "progress":
                    self.last_progress = Progress.from_json(message)
                    if progress is not None:
                        progress(self.last_progress)
                elif kind == "event":
                    if on_event is not None:
                        on_event(message)
                elif kind == "result":
                    result, got_result = message.get("value"), True
                elif kind == "error":
                    error = message
            code = process.wait()
        finally:
            self._ended.set()
            if process.poll() is None:
                self.kill()
                process.wait()
        if self.killed:
            return None
        if error is not None:
            raise TaskFailed(
                str(error.get("message", "")),
                kind=str(error.get("type", "")),
                user=bool(error.get("user")),
            )
        if got_result and code == 0:
            return result
        raise TaskFailed(self._crash_message(code), crashed=True)

    def _crash_message(self, code: int) -> str:
        how = f"was killed by {_signal_name(code)}" if code < 0 else f"exited with status {code}"
        where = ""
        if self.last_progress is not None and self.last_progress.detail:
            where = f" while working on {self.last_progress.detail}"
        return (
            f"the background {self.task} process {how}{where}; what it had finished is kept "
            f"(details in {self.log_path})"
        )

    def _watch_cancel(self, cancel: threading.Event | None) -> None:
        if cancel is None:
            return
        while not self._ended.is_set():
            if cancel.wait(0.05):
                self.cancel_now()
                return

    def cancel_now(self) -> None:
        """Ask the child to stop between units of work (it returns what it finished)."""
        process = self.process
        if process is None or process.poll() is not None or process.stdin is None:
            return
        try:
            process.stdin.write("cancel\n")
            process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass

    def kill(self) -> None:
        """Stop the child at once (SIGKILL): committed batches are kept, the db is consistent."""
        with self._lock:
            self.killed = True
            process = self.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(OSError):
                process.kill()

    def stop(self, grace: float) -> None:
        """Cancel, give the child `grace` seconds to finish its batch, then kill it."""
        self.cancel_now()
        process = self.process
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(grace)
        self.kill()


def run_task(
    task: str,
    settings: Settings,
    args: dict[str, Any] | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    on_event: EventCallback | None = None,
) -> Any:
    """Run `task` in a child process and return its result (see ChildTask.run)."""
    return ChildTask(task, settings, args).run(progress=progress, cancel=cancel, on_event=on_event)
