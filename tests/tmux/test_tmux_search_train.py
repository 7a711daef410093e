"""The real app in tmux, through search and training: `/`, a query, Enter, ranked results on
screen; F4, train, the metrics on screen; the rate-next queue in the viewer, a number key rates.

The library is generated shapes, scanned and embedded with the shipped tiny CLIP before the app
starts (configured in the settings file, as a user would), with 40 ratings of a simulated user.
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
from tests.support.tmuxdrive import DEADLINE, kill_session, start_app, tmux, wait_for

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

REPO = Path(__file__).resolve().parents[2]


def _ratings(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM ratings").fetchone()[0]


@pytest.fixture
def embedded(tmp_path: Path, tiny_embedder) -> tuple[Path, Path, Path]:
    root = tmp_path / "Pictures"
    specs = write_library(root, 80, size=64, seed=1)
    data, config = tmp_path / "data", tmp_path / "config.toml"
    settings = load_settings(
        data_dir=data, config_file=config, overrides={"model": "tiny-clip", "device": "cpu"}
    )
    library = Library(settings)
    settings.save()  # the settings file names the model, as a user's would
    library.catalogue.set_root(root)  # saved in the data dir's catalogue
    library.catalogue.scan(root)
    library._embedder = tiny_embedder
    library.semantic.embed()
    for path, spec in sorted(specs.items())[::2]:
        library.ratings.set(library.views.entry(path).hash, 8 if spec.colour == "red" else 3)
    library.close()
    return root, data, config


def test_search_then_train_then_rate_next_in_tmux(embedded):
    root, data, config = embedded
    rated = _ratings(data / "library.db")
    done = root.parent / "exit-status"
    env = {"ANAGNORISIS_DATA_DIR": str(data), "ANAGNORISIS_CONFIG": str(config)}
    session = start_app([str(root), "--graphics", "unicode"], env, done, size=(140, 44), name="ui2")
    try:
        wait_for(session, "Library", " 1 / ")  # the grid has items (names may be cut short)
        tmux("send-keys", "-t", session, "/")
        wait_for(session, "describe images")
        tmux("send-keys", "-t", session, "-l", "red circle")
        tmux("send-keys", "-t", session, "Enter")
        screen = wait_for(session, "search: red circle", "results", "score 0.")
        first_row = next(line for line in screen.splitlines() if "red-circle" in line)
        assert "red-circle" in first_row  # the best matches are on screen, scores shown

        tmux("send-keys", "-t", session, "F4")
        wait_for(session, "Train image evaluator")
        tmux("send-keys", "-t", session, "t")
        screen = wait_for(session, "held-out", "baseline (mean)", "trained on 40 rated")
        assert "Spearman" in screen and "Rate next" in screen
        wait_for(session, "images ─")  # the queue filled (its panel says how many)

        tmux("send-keys", "-t", session, "n")  # the queue, in the viewer
        wait_for(session, "Resolution")
        tmux("send-keys", "-t", session, "7")
        end = time.monotonic() + DEADLINE
        while _ratings(data / "library.db") == rated and time.monotonic() < end:
            time.sleep(0.2)
        assert _ratings(data / "library.db") == rated + 1
        tmux("send-keys", "-t", session, "q")
        end = time.monotonic() + DEADLINE
        while not done.exists() and time.monotonic() < end:
            time.sleep(0.2)
        assert done.read_text().strip() == "0"
    finally:
        kill_session(session)
