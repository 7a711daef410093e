"""However the app ends, the terminal is left as it was: main screen, cursor shown, no mouse
reporting, the tty back in its cooked mode (`stty -a` in the same pane after the app).

Killed with SIGKILL (nothing in the process runs: the watchdog restores it), with SIGTERM and
SIGHUP (a quit), and quit with `q`, each while the first scan and thumbnails are under way.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.app_library import make_images
from tests.support.tmuxdrive import DEADLINE, app_pid, start_app, tmux, wait_for

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

MODES = "#{alternate_on} #{cursor_flag} #{mouse_any_flag} #{mouse_sgr_flag}"


def _wait_file(path: Path) -> str:
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if path.exists() and path.read_text().strip():
            return path.read_text()
        time.sleep(0.1)
    raise AssertionError(f"{path} never written")


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM", "SIGHUP", "q"])
def test_terminal_is_restored_however_the_app_ends(tmp_path: Path, how: str):
    root = tmp_path / "Pictures"
    make_images(root, [f"p{i:03d}.jpg" for i in range(60)])
    env = {
        "ANAGNORISIS_DATA_DIR": str(tmp_path / "data"),
        "ANAGNORISIS_CONFIG": str(tmp_path / "config.toml"),
        "ANAGNORISIS_PRETRAINED": str(tmp_path / "no-such-weights.safetensors"),
    }
    done, stty = tmp_path / "exit-status", tmp_path / "stty.txt"
    session = start_app(
        [str(root), "--graphics", "unicode"],
        env,
        done,
        size=(120, 40),
        name=f"term-{how.lower()}",
        after=f"stty -a > {stty}; sleep 120",
    )
    try:
        wait_for(session, "Library")
        pid = app_pid(session)
        assert tmux("display-message", "-p", "-t", session, MODES).split()[:3] == ["1", "0", "1"]
        if how == "q":
            tmux("send-keys", "-t", session, "q")
        else:
            os.kill(pid, getattr(signal, how))
        status = _wait_file(done).strip()
        settings = _wait_file(stty)
    finally:
        shown = tmux("display-message", "-p", "-t", session, MODES).split()
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    expected = {"SIGKILL": "137", "SIGTERM": "143", "SIGHUP": "129", "q": "0"}[how]
    assert status == expected
    assert shown == ["0", "1", "0", "0"]  # main screen, cursor visible, no mouse reporting
    words = settings.split()
    assert "icanon" in words and "echo" in words  # cooked again, echoing
