"""Driving the real app in tmux: run tmux commands, read the pane, wait until text shows."""

from __future__ import annotations

import subprocess
import time

DEADLINE = 90.0


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


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
