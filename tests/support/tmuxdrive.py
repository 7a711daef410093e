"""Driving the real app in tmux: run tmux commands, read the pane, wait until text shows."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

DEADLINE = 90.0
REPO = Path(__file__).resolve().parents[2]


# The tests' own tmux server (one per test process): a server started from the default socket
# takes the starting process's environment as its global one, so the tests' data dir and
# config (ANAGNORISIS_*) would reach every tmux session the user opens afterwards.
SOCKET = f"anagnorisis-tests-{os.getpid()}"


def tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=True
    ).stdout


def kill_session(session: str) -> None:
    subprocess.run(["tmux", "-L", SOCKET, "kill-session", "-t", session], capture_output=True)


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def app_pid(session: str) -> int:
    """The app's process id: the child of the pane's shell."""
    shell = tmux("display-message", "-p", "-t", session, "#{pane_pid}").strip()
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        found = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True).stdout
        if found.split():
            return int(found.split()[0])
        time.sleep(0.1)
    raise AssertionError("the app's process never started")


def wait_for(session: str, *texts: str) -> str:
    """The pane once every text is on it; fails with the last screen after DEADLINE seconds."""
    end = time.monotonic() + DEADLINE
    shown = ""
    while time.monotonic() < end:
        shown = screen(session)
        if all(text in shown for text in texts):
            return shown
        time.sleep(0.2)
    raise AssertionError(f"{texts!r} never appeared; the screen was:\n{shown}")


def start_app(
    args: list[str],
    env: dict[str, str],
    done: Path,
    *,
    size: tuple[int, int],
    name: str,
    after: str = "",
) -> str:
    """Start `python -m anagnorisis_tui ARGS` in a new tmux session of `size`; its exit status
    is written to `done`, then the shell runs `after` in the same pane. Returns the session
    name (kill it when finished)."""
    # The tests' model hub settings (tests/conftest.py) reach the app in tmux too.
    hub = {k: os.environ[k] for k in ("HF_ENDPOINT", "HF_HUB_CACHE") if k in os.environ}
    exports = " ".join(
        f"{k}={shlex.quote(v)}" for k, v in {"PYTHONPATH": str(REPO), **hub, **env}.items()
    )
    command = (
        # -u COLUMNS/LINES: a value inherited from the test runner would override the pane size.
        f"cd {shlex.quote(str(REPO))} && env -u COLUMNS -u LINES {exports} "
        f"{shlex.quote(sys.executable)} -m anagnorisis_tui {' '.join(map(shlex.quote, args))}; "
        f"echo $? > {shlex.quote(str(done))}" + (f"; {after}" if after else "")
    )
    session = f"anagnorisis-{name}-{uuid.uuid4().hex[:8]}"
    width, height = (str(n) for n in size)
    tmux("new-session", "-d", "-s", session, "-x", width, "-y", height, command)
    # Keep this size whatever other tmux clients on the machine are doing.
    tmux("set-option", "-t", session, "window-size", "manual")
    tmux("resize-window", "-t", session, "-x", width, "-y", height)
    return session
