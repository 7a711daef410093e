"""Every main flow typed at full speed in one tmux send-keys gives what it gives typed slowly.

Search `red circle`, open the second result, rate two images (each rating moves on), back to
the results, a page down, open, rate, back, sort by rating, a text-concept filter, quit: once as one burst of keys (as
a paste, a fast typist or a laggy SSH link delivers them), once key by key waiting for the
screen to stop changing between keys. The ratings stored (which image got which value), the
line that says what is in force and the exit status must be the same. Escape and the key after
it reach the app in one read in the burst: Escape then Space was read as Space (the next image)
before ui/key_input.py, and the third rating went to the wrong image.

And keys typed on a first run, while the library is still being scanned and embedded (the
search waits for the model and the index): none of them is lost.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from anagnorisis_tui.core.base.config import load_settings
from anagnorisis_tui.core.demo.shapes import write_library
from anagnorisis_tui.core.library import Library
from tests.support.tmuxdrive import DEADLINE, kill_session, screen, start_app, tmux, wait_for

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

# tmux key names; "-l" sends the text that follows literally.
FLOW: list[list[str]] = [
    ["/"],
    ["-l", "red circle"],
    ["Enter"],
    ["l"],
    ["Enter"],
    ["7"],
    ["8"],
    ["Escape"],
    ["Space"],
    ["Enter"],
    ["9"],
    ["Escape"],
    ["o"],
    ["F"],  # the filter panel: sort, order, seed, min score, then the text concept
    ["Tab"],
    ["Tab"],
    ["Tab"],
    ["Tab"],
    ["-l", "blue"],
    ["Enter"],
    ["Escape"],
]


@pytest.fixture
def embedded(tmp_path: Path, tiny_embedder) -> tuple[Path, Path, Path]:
    root = tmp_path / "Pictures"
    write_library(root, 60, size=64, seed=2)
    data, config = tmp_path / "data", tmp_path / "config.toml"
    settings = load_settings(
        data_dir=data, config_file=config, overrides={"model": "tiny-clip", "device": "cpu"}
    )
    settings.save()  # the settings file names the model, as a user's would
    library = Library(settings)
    library.catalogue.set_root(root)
    library.catalogue.scan(root)
    library._embedder = tiny_embedder
    library.semantic.embed()
    library.close()
    return root, data, config


def _ratings(db: Path) -> list[tuple[str, float]]:
    with sqlite3.connect(db) as conn:
        return sorted(
            conn.execute(
                "SELECT f.name, r.value FROM ratings r JOIN files f ON f.hash = r.hash"
            ).fetchall()
        )


BUSY = ("searching…", "Loading…")  # the app is still at work on the last key


def _settled(session: str, quiet: float = 0.8) -> str:
    """The pane once it has not changed for `quiet` seconds and says it is not busy."""
    end = time.monotonic() + DEADLINE
    last, since = screen(session), time.monotonic()
    while time.monotonic() < end:
        time.sleep(0.1)
        now = screen(session)
        if now != last or any(word in now for word in BUSY):
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return now
    return last


def _quit(session: str, done: Path) -> str:
    """Press q; the app's exit status once its shell has written it."""
    tmux("send-keys", "-t", session, "q")
    end = time.monotonic() + DEADLINE
    while not done.exists() and time.monotonic() < end:
        time.sleep(0.2)
    return done.read_text().strip()


def _run(embedded, name: str, fast: bool) -> tuple[list[tuple[str, float]], str, str]:
    root, data, config = embedded
    done = root.parent / f"exit-{name}"
    env = {"ANAGNORISIS_DATA_DIR": str(data), "ANAGNORISIS_CONFIG": str(config)}
    session = start_app([str(root), "--graphics", "unicode"], env, done, size=(140, 44), name=name)
    try:
        wait_for(session, "Library", " 1 / ")  # the grid has items (names may be cut short)
        _settled(session)
        if fast:
            # One send-keys: the text part as single characters among the named keys.
            flat = [k for keys in FLOW for k in (list(keys[1]) if keys[0] == "-l" else keys)]
            tmux("send-keys", "-t", session, *flat)
        else:
            for keys in FLOW:
                tmux("send-keys", "-t", session, *keys)
                _settled(session)
        wait_for(session, "sort: rating", "only “blue”")
        shown = _settled(session)
        bar = next(line for line in shown.splitlines() if "search: red circle" in line)
        status = _quit(session, done)
    finally:
        kill_session(session)
    return _ratings(data / "library.db"), bar.strip(" │"), status


def test_main_flow_typed_at_full_speed_equals_typed_slowly(embedded):
    fast = _run(embedded, "fast", fast=True)
    with sqlite3.connect(embedded[1] / "library.db") as conn:
        conn.execute("DELETE FROM ratings")
        conn.execute("DELETE FROM rating_history")
    slow = _run(embedded, "slow", fast=False)
    assert sorted(value for _, value in fast[0]) == [7, 8, 9]
    assert fast == slow


FIRST_RUN_FLOW = ["/", *"red circle", "Enter", "Escape", "Enter", "7", "8", "Escape", "o"]


def test_keys_typed_while_the_first_scan_runs_are_all_delivered(tmp_path: Path):
    """The first start on a new library: the scan, thumbnails and embedding run in the child
    while the whole flow is typed at once; the search waits for the model and the index, and
    the keys after Enter wait for its results (before the fix the wait ended when the focus was
    asked for, not when it had moved, and the next Enter could reach the query box)."""
    root = tmp_path / "Pictures"
    write_library(root, 120, size=64, seed=5)
    data, config = tmp_path / "data", tmp_path / "config.toml"
    load_settings(
        data_dir=data, config_file=config, overrides={"model": "tiny-clip", "device": "cpu"}
    ).save()
    done = tmp_path / "exit-first"
    env = {"ANAGNORISIS_DATA_DIR": str(data), "ANAGNORISIS_CONFIG": str(config)}
    session = start_app(
        [str(root), "--graphics", "unicode"], env, done, size=(140, 44), name="first"
    )
    try:
        wait_for(session, "Library", "Scanning")
        tmux("send-keys", "-t", session, *FIRST_RUN_FLOW)
        shown = wait_for(session, "search: red circle", "sort: rating")
        _settled(session)
        status = _quit(session, done)
    finally:
        kill_session(session)
    assert status == "0"
    assert sorted(value for _, value in _ratings(data / "library.db")) == [7, 8], shown
