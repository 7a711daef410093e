"""However the app ends, the terminal is left as it was: main screen, cursor shown, no mouse
reporting, the tty back in its cooked mode (`stty -a` in the same pane after the app), and the
catalogue consistent.

Killed with SIGKILL (nothing in the process runs: the watchdog restores it), with SIGTERM and
SIGHUP (a quit), and quit with `q`, each while the first scan and thumbnails are under way; and
`q` while the app's event loop is held up (as a repaint on a loaded CPU holds it).
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import textwrap
import time
from pathlib import Path

import pytest

from tests.support.app_library import make_images
from tests.support.tmuxdrive import DEADLINE, REPO, app_pid, kill_session, start_app, tmux, wait_for

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
        # After SIGKILL the watchdog, a process of its own, gives the terminal back: the shell
        # may run on before it has (on a loaded machine it read raw mode). Wait for cooked mode,
        # at most 10 s, then record what the terminal is.
        after=(
            "for i in $(seq 50); do stty -a | tr ' ;' '\\n\\n' | grep -qx icanon && break; "
            f"sleep 0.2; done; stty -a > {stty}; sleep 120"
        ),
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
        kill_session(session)
    expected = {"SIGKILL": "137", "SIGTERM": "143", "SIGHUP": "129", "q": "0"}[how]
    assert status == expected
    assert shown == ["0", "1", "0", "0"]  # main screen, cursor visible, no mouse reporting
    words = settings.split()
    assert "icanon" in words and "echo" in words  # cooked again, echoing
    with sqlite3.connect(tmp_path / "data" / "library.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# In the app's process only (a sitecustomize that waits for the app module to be imported):
# once the file `hold` appears, the event loop is held for longer than the test waits.
HOLD_LOOP = """
import importlib.abc, importlib.util, sys, time
from pathlib import Path

HERE = Path(__file__).parent

def _patch(module):
    mount = module.AnagnorisisApp.on_mount

    def on_mount(self):
        mount(self)

        def hold():
            if (HERE / "hold").exists():
                (HERE / "held").write_text("")
                time.sleep(300)
                (HERE / "let-go").write_text("")

        self.set_interval(0.1, hold)

    module.AnagnorisisApp.on_mount = on_mount

class _Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "anagnorisis_tui.ui.app":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            _patch(module)

        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, _Hook())
"""


def test_q_quits_while_the_event_loop_is_held_up(tmp_path: Path):
    root = tmp_path / "Pictures"
    make_images(root, [f"p{i:03d}.jpg" for i in range(20)])
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(textwrap.dedent(HOLD_LOOP))
    env = {
        "PYTHONPATH": os.pathsep.join([str(hook), str(REPO)]),
        "ANAGNORISIS_DATA_DIR": str(tmp_path / "data"),
        "ANAGNORISIS_CONFIG": str(tmp_path / "config.toml"),
        "ANAGNORISIS_PRETRAINED": str(tmp_path / "no-such-weights.safetensors"),
    }
    done = tmp_path / "exit-status"
    session = start_app(
        [str(root), "--graphics", "unicode"],
        env,
        done,
        size=(120, 40),
        name="term-held",
        after="sleep 120",
    )
    try:
        wait_for(session, "Library", "p000.jpg")
        (hook / "hold").write_text("")
        _wait_file_exists(hook / "held")
        tmux("send-keys", "-t", session, "q")
        status = _wait_file(done).strip()
        shown = tmux("display-message", "-p", "-t", session, MODES).split()
    finally:
        kill_session(session)
    assert not (hook / "let-go").exists()  # it quit while the loop was still held
    assert status == "0"
    assert shown == ["0", "1", "0", "0"]


def _wait_file_exists(path: Path) -> None:
    end = time.monotonic() + DEADLINE
    while not path.exists():
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.1)
