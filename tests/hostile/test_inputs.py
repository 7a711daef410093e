"""Item 8 and what already held: `errors` one line per file, bad settings, pickled weights, a
full and a read-only data dir: clear messages, nothing lost, nothing outside the data dir."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.hostile.conftest import Nas
from tests.support.imagefiles import write

pytestmark = pytest.mark.slow  # see README: the two test lanes


def test_errors_is_one_line_per_file_and_says_when_there_are_none(nas: Nas):
    assert nas.cli("scan", str(nas.root)).returncode == 0
    assert nas.cli("errors").stdout == "no errors\n"
    assert nas.cli("errors", "--json").stdout == ""
    write(nas.root / "a" / "bad\x1b]0;pwned\x07.jpg", b"\xff\xd8\xff" + b"\x00" * 64)
    assert nas.cli("scan", str(nas.root)).returncode == 0
    # A decoder's reason with a newline and escape sequences, as a hostile file could cause.
    con_path = nas.data / "library.db"
    import sqlite3

    con = sqlite3.connect(con_path)
    con.execute("UPDATE scan_errors SET reason = 'line one\nline two \x1b[2J'")
    con.commit()
    con.close()
    out = nas.cli("errors").stdout
    assert out.count("\n") == 1 and "\x1b" not in out and "\x07" not in out
    assert "line one\\x0aline two \\x1b[2J" in out


def test_bad_toml_is_a_clear_error(nas: Nas):
    nas.config.write_text("[library\nroots = 3\n")
    out = nas.cli("scan", str(nas.root))
    assert out.returncode == 2 and out.stderr.startswith("error: ")
    assert "not valid TOML" in out.stderr


def test_pickled_evaluator_weights_are_never_unpickled(kept_ratings: Nas):
    nas = kept_ratings
    marker = nas.home / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    models = nas.data / "models"
    models.mkdir(exist_ok=True)
    evil = models / "evil.safetensors"
    evil.write_bytes(pickle.dumps(Payload()))
    import sqlite3

    con = sqlite3.connect(nas.data / "library.db")
    con.execute(
        "INSERT INTO evaluators(id, embed_model_id, kind, created, path, metrics, active) "
        "VALUES ('evil', (SELECT coalesce(max(model_id), 'm') FROM embed_models), 'ridge', 0, ?, "
        "'{}', 1)",
        [str(evil)],
    )
    con.commit()
    con.close()
    for command in (["next"], ["list", "--count"]):
        nas.cli(*command)
    assert not marker.exists()


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)])
    return done.returncode == 0


@pytest.fixture
def small_data_dir(nas: Nas):
    if not _mount_tmpfs(nas.data, "64k"):
        pytest.skip("needs root to mount a small tmpfs")
    try:
        yield nas
    finally:
        subprocess.run(["umount", "-l", str(nas.data)], check=False)


def test_a_full_data_dir_is_a_clear_error(small_data_dir: Nas):
    nas = small_data_dir
    for i in range(40):
        write(nas.root / "more" / f"m{i}.jpg", os.urandom(2048))
    state = nas.state()
    out = nas.cli("scan", str(nas.root))
    assert out.returncode == 2
    assert out.stderr.startswith("error: ") and "disk is full" in out.stderr
    assert nas.state() == state


def test_a_read_only_data_dir_keeps_every_rating(rated: Nas):
    nas = rated
    before = nas.ratings()
    subprocess.run(["mount", "--bind", str(nas.data), str(nas.data)], check=False)
    ro = subprocess.run(["mount", "-o", "remount,bind,ro", str(nas.data)])
    if ro.returncode != 0:
        subprocess.run(["umount", str(nas.data)], check=False)
        pytest.skip("needs root to make a read-only bind mount")
    try:
        out = nas.cli("rate", str(nas.root / "a" / "p1.jpg"), "5")
        assert out.returncode == 2 and out.stderr.startswith("error: ")
        assert "read-only" in out.stderr
        listing = nas.cli("list")
        assert listing.returncode in (0, 2)
    finally:
        subprocess.run(["umount", str(nas.data)], check=False)
    assert nas.ratings() == before
