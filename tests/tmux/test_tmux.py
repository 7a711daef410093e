"""The real app in a real terminal: started in tmux, driven with send-keys, read with capture-pane.

Textual draws on stderr, so nothing is redirected; the pane is the screen. Waits poll the pane
(or the database) until the expected state appears, with a generous deadline; no timings are
asserted.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from tests.support.app_library import make_images
from tests.support.tmuxdrive import DEADLINE, kill_session, start_app, tmux, wait_for

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

REPO = Path(__file__).resolve().parents[2]


def _rating(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT value FROM ratings").fetchall()


def test_app_in_tmux_scans_browses_rates_and_quits(tmp_path: Path):
    root = tmp_path / "Pictures"
    make_images(root, [f"day{i}.jpg" for i in range(4)])
    data = tmp_path / "data"
    env = {
        "ANAGNORISIS_DATA_DIR": str(data),
        "ANAGNORISIS_CONFIG": str(tmp_path / "config.toml"),
        # No model weights: the app says so in a notice and never imports torch (fast test).
        "ANAGNORISIS_PRETRAINED": str(tmp_path / "no-such-weights.safetensors"),
    }
    done = tmp_path / "exit-status"
    session = start_app(
        [str(root), "--graphics", "unicode"], env, done, size=(120, 40), name="test"
    )
    try:
        screen = wait_for(session, "day0.jpg")  # scanned and shown in the grid
        assert "Library" in screen and "Search" in screen
        tmux("send-keys", "-t", session, "Right", "Enter")
        screen = wait_for(session, "Resolution")
        assert "day1.jpg" in screen and "96×64" in screen
        tmux("send-keys", "-t", session, "7")
        end = time.monotonic() + DEADLINE
        while not _rating(data / "library.db") and time.monotonic() < end:
            time.sleep(0.2)
        assert _rating(data / "library.db") == [(7.0,)]
        wait_for(session, "day2.jpg")  # rated and moved on
        tmux("send-keys", "-t", session, "q")
        end = time.monotonic() + DEADLINE
        while not done.exists() and time.monotonic() < end:
            time.sleep(0.2)
        assert done.read_text().strip() == "0"
    finally:
        kill_session(session)
    with sqlite3.connect(data / "library.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert os.path.exists(data / "thumbnails")
