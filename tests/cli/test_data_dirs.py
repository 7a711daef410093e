"""Two data dirs never cross: each command without a folder works on its own data dir's library."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.cli.test_scan_cli import run_cli
from tests.support.imagefiles import jpeg_bytes, write

pytestmark = pytest.mark.slow  # see README: the two test lanes


def test_embed_without_a_folder_uses_the_data_dirs_own_library(tmp_path: Path):
    one, two = tmp_path / "one", tmp_path / "two"
    for i in range(3):
        write(one / f"a{i}.jpg", jpeg_bytes(i, (32, 24)))
    for i in range(2):
        write(two / f"b{i}.jpg", jpeg_bytes(10 + i, (32, 24)))
    data_a, data_b = tmp_path / "data-a", tmp_path / "data-b"
    assert run_cli("scan", str(one), "--data-dir", str(data_a)).returncode == 0
    assert run_cli("scan", str(two), "--data-dir", str(data_b)).returncode == 0
    # A settings file from before roots lived in the catalogue names the other library.
    Path(os.environ["ANAGNORISIS_CONFIG"]).write_text(f'[library]\nroots = ["{one}"]\n')

    out = run_cli("--data-dir", str(data_b), "embed", "--model", "tiny-clip", "--device", "cpu")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"{two}: embedded 2 images"), out.stdout
    with sqlite3.connect(data_a / "library.db") as conn:
        assert conn.execute("SELECT count(*) FROM vectors").fetchone()[0] == 0
    # The settings file is the one data dir A adopts it from; B left it alone.
    assert str(one) in Path(os.environ["ANAGNORISIS_CONFIG"]).read_text()
