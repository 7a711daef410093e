"""Item 2: everything the app writes is its user's alone, whatever the umask; an existing data
dir is tightened; a data dir planted by another account is refused; logs rotate."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

import pytest

from anagnorisis_tui.core.base import private
from tests.hostile.conftest import Nas

pytestmark = pytest.mark.slow  # see README: the two test lanes


def _modes(top: Path) -> dict[str, int]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            if not stat.S_ISLNK(st.st_mode):
                out[os.path.relpath(full, top)] = stat.S_IMODE(st.st_mode)
    return out


def test_data_dir_folders_0700_files_0600_under_umask_022(kept_ratings: Nas):
    nas = kept_ratings
    assert nas.cli("ratings", "export", str(nas.data / "backup.csv")).returncode == 0
    assert stat.S_IMODE(nas.data.stat().st_mode) == 0o700
    modes = _modes(nas.data)
    kinds = {Path(p).parts[0] for p in modes}
    assert {"library.db", "thumbnails", "worker.log", "backup.csv"} <= kinds, kinds
    assert any(p.startswith("thumbnails/") and p.endswith(".jpg") for p in modes)
    loose = {
        p: oct(m) for p, m in modes.items() if m != (0o700 if (nas.data / p).is_dir() else 0o600)
    }
    # An export into the data dir keeps the user's umask only outside it... inside, the dir
    # itself is 0700, so nothing there is reachable by another account in any case.
    loose.pop("backup.csv", None)
    assert not loose, loose
    assert nas.config.exists() is False or stat.S_IMODE(nas.config.stat().st_mode) == 0o600


def test_an_old_loose_data_dir_is_tightened_on_open(nas: Nas):
    old = os.umask(0o022)
    try:
        (nas.data / "thumbnails" / "ab").mkdir(parents=True)
        (nas.data / "thumbnails" / "ab" / "x.jpg").write_bytes(b"old thumbnail")
        (nas.data / "worker.log").write_text("old log\n")
        (nas.data / "notes.txt").write_text("a file the app did not make\n")
        nas.data.chmod(0o755)
    finally:
        os.umask(old)
    assert _modes(nas.data)["thumbnails/ab/x.jpg"] == 0o644
    assert nas.cli("errors").returncode == 0
    assert stat.S_IMODE(nas.data.stat().st_mode) == 0o700
    modes = _modes(nas.data)
    assert modes["thumbnails"] == modes["thumbnails/ab"] == 0o700
    assert modes["thumbnails/ab/x.jpg"] == modes["worker.log"] == 0o600
    assert modes["notes.txt"] == 0o644  # not the app's: left as it was (the dir is 0700)


def test_a_data_dir_owned_by_another_account_is_refused(nas: Nas):
    """Someone plants the data dir's name as a link to a folder of theirs: refused, nothing
    written there."""
    theirs = nas.home / "theirs"
    theirs.mkdir()
    os.chown(theirs, 12345, 12345)
    nas.data.symlink_to(theirs)
    out = nas.cli("scan", str(nas.root))
    assert out.returncode == 2 and out.stderr.startswith("error: ")
    assert "another account" in out.stderr
    assert list(theirs.iterdir()) == []


def test_worker_log_rotates(tmp_path: Path):
    log = tmp_path / "worker.log"
    log.write_bytes(b"x" * (private.LOG_BYTES + 1))
    for generation in range(private.LOG_KEEP + 2):
        os.close(private.open_log(log))
        log.write_bytes(b"%d" % generation + b"x" * private.LOG_BYTES)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["worker.log"] + [f"worker.log.{n}" for n in range(1, private.LOG_KEEP + 1)]
    assert all(p.stat().st_size <= private.LOG_BYTES + 2 for p in tmp_path.iterdir())


def test_the_log_is_never_opened_through_a_link(tmp_path: Path):
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep\n")
    (tmp_path / "worker.log").symlink_to(target)
    with contextlib.suppress(OSError):
        os.close(private.open_log(tmp_path / "worker.log"))
    assert target.read_text() == "keep\n"
