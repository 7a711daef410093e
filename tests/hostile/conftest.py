"""The hostile suite: a user's library on a shared NAS, and the real command line run on it.

Every case runs the real program in its own process, bounded by a timeout (a hang fails the
test instead of the suite), with the usual NAS umask 022, and checks what the issue asks of
all of them: no traceback reaches the user, nothing outside the data dir changed that the
command was not asked to change, and no rating was lost.
"""

from __future__ import annotations

import faulthandler
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.hostile.builders import tree_state
from tests.support.imagefiles import jpeg_bytes, write
from tests.support.waiting import PROCESS_HANG_S

TIMEOUT = PROCESS_HANG_S  # seconds a single command may take before the case fails as a hang
IN_PROCESS = 600  # seconds a whole case may take


@dataclass
class Nas:
    home: Path
    root: Path  # the library folder (others can write into it)
    data: Path  # the app's data dir
    outside: Path  # the user's private files elsewhere (what a planted link points at)
    config: Path
    env: dict[str, str] = field(default_factory=dict)

    def cli(self, *args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
        """Run `anagnorisis-tui ARGS` as the user would; no traceback may reach them."""
        env = dict(os.environ)
        env.update(self.env)
        env.pop("ANAGNORISIS_USER_UMASK", None)
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "anagnorisis_tui",
                "--data-dir",
                str(self.data),
                "--config",
                str(self.config),
                *args,
            ],
            capture_output=True,
            text=True,
            errors="replace",
            env=env,
            timeout=timeout,
            preexec_fn=lambda: os.umask(0o022),
        )
        both = out.stdout + out.stderr
        assert "Traceback" not in both, both[-3000:]
        return out

    def state(self) -> dict[str, tuple[int, int, bytes | str]]:
        """Everything outside the data dir (library and the user's other files)."""
        return tree_state(self.root, self.outside, skip=(self.data,))

    def ratings(self) -> dict[str, float]:
        db = self.data / "library.db"
        if not db.exists():
            return {}
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return dict(con.execute("SELECT hash, value FROM ratings").fetchall())
        finally:
            con.close()

    def query(self, sql: str, *params: object) -> list[tuple]:
        con = sqlite3.connect(f"file:{self.data / 'library.db'}?mode=ro", uri=True)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()


@pytest.fixture(autouse=True)
def _bounded():
    """Cases that run in the test's own process are bounded too: past IN_PROCESS seconds the
    run stops with every thread's stack (a hang fails loudly instead of stalling the suite)."""
    faulthandler.dump_traceback_later(IN_PROCESS, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def nas(tmp_path: Path) -> Nas:
    """A small library of real photos, and a private folder of the user's beside it."""
    root = tmp_path / "photos"
    for i in range(4):
        write(root / ("a" if i < 2 else "b") / f"p{i}.jpg", jpeg_bytes(i, (64, 48)))
    outside = tmp_path / "private"
    write(outside / "secret.txt", b"the user's own file\n")
    write(outside / "holiday.jpg", jpeg_bytes(99, (64, 48)))
    return Nas(tmp_path, root, tmp_path / "data", outside, tmp_path / "config.toml")


@pytest.fixture
def rated(nas: Nas) -> Nas:
    """The library scanned, with two ratings that no case may lose."""
    out = nas.cli("scan", str(nas.root))
    assert out.returncode == 0, out.stderr
    for path, value in ((nas.root / "a" / "p0.jpg", "7"), (nas.root / "b" / "p3.jpg", "3")):
        assert nas.cli("rate", str(path), value).returncode == 0
    assert len(nas.ratings()) == 2
    return nas


@pytest.fixture
def kept_ratings(rated: Nas):
    """Yields the rated library; afterwards, every image rated before must still have a rating
    (a case may change one on purpose: an import; none may lose one)."""
    before = rated.ratings()
    yield rated
    after = rated.ratings()
    assert [h for h in before if h not in after] == [], "a rating was lost"
