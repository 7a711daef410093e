"""The demo stays the demo, in the real app in tmux: a new user opens the app (the demo, made and
scanned while the empty grid says so), rates a demo image, then opens their own folder with `o`.
From then on search, Train, the rate-next queue and the command line's `list`, `next` and
`groups` on the same data dir see only the user's images; `--demo` brings the demo back.

The user's folder is generated shapes (names start with four digits); the settings file names
the shipped tiny model, as a user's would, so search works offline on both libraries.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anagnorisis_tui.core.demo.shapes import write_library
from tests.support.tmuxdrive import DEADLINE, REPO, kill_session, screen, start_app, tmux, wait_for
from tests.support.waiting import PROCESS_HANG_S

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

USER_IMAGES = 24
SLOW = 300.0  # the demo's first scan prepares the model once: minutes on a loaded machine


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


def _wait(check, seconds: float = SLOW) -> None:
    end = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.3)


def _wait_for(session: str, *texts: str, seconds: float = SLOW) -> str:
    end = time.monotonic() + seconds
    while True:
        try:
            return wait_for(session, *texts)
        except AssertionError:
            if time.monotonic() > end:
                raise


def _cli(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "anagnorisis_tui", *args],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(REPO)},
        cwd=REPO,
        timeout=PROCESS_HANG_S,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_demo_then_my_folder_and_only_mine_is_seen(tmp_path: Path):
    import os

    photos = tmp_path / "Pictures"
    write_library(photos, USER_IMAGES, size=64, seed=3)
    data, config = tmp_path / "data", tmp_path / "config.toml"
    config.write_text('[model]\nname = "tiny-clip"\npretrained = ""\ndevice = "cpu"\n')
    env = {"ANAGNORISIS_DATA_DIR": str(data), "ANAGNORISIS_CONFIG": str(config)}
    done = tmp_path / "exit-status"
    session = start_app(["--graphics", "unicode"], env, done, size=(140, 44), name="demo")
    demo_db, user_db = data / "demo" / "library.db", data / "library.db"
    try:
        # The demo opens, apart: the empty grid says what is being made or scanned meanwhile.
        shown = _wait_for(session, "Library: the demo")
        assert "No images yet" not in shown
        _wait_for(session, " 1 / ")
        _wait(lambda: "Scanning" not in screen(session).splitlines()[0])
        tmux("send-keys", "-t", session, "Enter")  # the first demo image, in the viewer
        _wait_for(session, "Resolution")
        tmux("send-keys", "-t", session, "7")
        _wait(lambda: _count(demo_db, "SELECT count(*) FROM ratings") == 1)

        # The user's own folder: typed into `o`, from the Library.
        tmux("send-keys", "-t", session, "F1")
        _wait_for(session, "the demo (o opens your")
        tmux("send-keys", "-t", session, "o")
        _wait_for(session, "Library folder:")
        tmux("send-keys", "-t", session, "-l", str(photos))
        tmux("send-keys", "-t", session, "Enter")
        shown = _wait_for(session, f"All images  {USER_IMAGES}")
        assert "Library: the demo" not in shown and "Pictures" in shown
        _wait(lambda: "Scanning" not in screen(session).splitlines()[0])

        # Search sees the user's images only (the demo's 100-odd would be among them).
        tmux("send-keys", "-t", session, "/")
        _wait_for(session, "describe images")
        tmux("send-keys", "-t", session, "-l", "red")
        tmux("send-keys", "-t", session, "Enter")
        _wait_for(session, f"{USER_IMAGES} results", "search: red", "╰─ 0.")

        def captions() -> list[str]:
            return re.findall(r"╰─ \d\.\d\d (\S+)", screen(session))

        _wait(lambda: len(captions()) >= 8)  # the grid painted its first rows
        assert all(re.match(r"\d{4}-", c) for c in captions()), captions()

        # Train: none of the demo's ratings; the queue holds the user's images only.
        tmux("send-keys", "-t", session, "F4")
        shown = _wait_for(session, "ratings: none yet", f"{USER_IMAGES} images ─")
        queue = [line for line in shown.splitlines() if re.search(r"│ \d+ +\S+\.png", line)]
        assert queue and all(re.search(r"│ \d+ +\d{4}-", line) for line in queue), queue

        tmux("send-keys", "-t", session, "q")
        _wait(lambda: done.exists(), DEADLINE)
        assert done.read_text().strip() == "0"
    finally:
        kill_session(session)

    # The command line on the same data dir: the user's images, never the demo's.
    cli_env = {**os.environ, **env}
    assert _cli(cli_env, "list", "--count").strip() == str(USER_IMAGES)
    listed = _cli(cli_env, "list")
    assert "/demo/" not in listed and str(photos) in listed
    assert "/demo/" not in _cli(cli_env, "next")
    assert "/demo/" not in _cli(cli_env, "groups")
    assert _count(user_db, "SELECT count(*) FROM ratings") == 0
    assert _count(user_db, "SELECT count(*) FROM files WHERE path LIKE '%/demo/%'") == 0
    # The demo is still there, with its rating, for `--demo`.
    demo_files = _count(demo_db, "SELECT count(*) FROM files")
    assert demo_files > 100 and _cli(cli_env, "list", "--count", "--demo").strip() == str(
        demo_files
    )
    assert _count(demo_db, "SELECT count(*) FROM ratings") == 1
