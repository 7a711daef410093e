"""kill -9 in the middle of a scan: the catalogue stays consistent and the next scan finishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from anagnorisis_tui.core.base import db as dbmod
from anagnorisis_tui.core.catalogue.scan import scan
from tests.support.imagefiles import jpeg_bytes, write

pytestmark = pytest.mark.slow


CHILD = textwrap.dedent(
    """
    import sys, threading, time
    from anagnorisis_tui.core.catalogue import record_pass
    from anagnorisis_tui.core.base import db as dbmod
    from anagnorisis_tui.core.catalogue.scan import ScanOptions, scan

    real = record_pass.inspect_file
    count, hung, lock = 0, False, threading.Lock()

    def committed():
        probe = dbmod.connect(sys.argv[1])
        return probe.execute("SELECT count(*) FROM files").fetchone()[0]

    def slow(path):
        # Reading runs ahead of the writer, in chunks: hang one reader (where the kill lands)
        # only once a batch is committed, so batches are committed and one is in flight however
        # the chunks fell. Hanging at a fixed file could hold the first batch's chunk (CI saw
        # none committed after 30 s).
        global count, hung
        with lock:
            count += 1
            mine = count
        if mine >= 40 and not hung:
            wait = mine == 80  # the last file: the writer has every earlier one
            deadline = time.monotonic() + 30
            while not committed() and wait and time.monotonic() < deadline:
                time.sleep(0.05)
            with lock:
                go = not hung and committed() > 0
                hung = hung or go
            if go:
                print("READY", flush=True)
                time.sleep(60)  # killed here, with batches committed and one in flight
        return real(path)

    record_pass.inspect_file = slow
    scan(dbmod.connect(sys.argv[1]), sys.argv[2], ScanOptions(batch_size=7))
    """
)


def test_kill_9_mid_scan_then_resume(tmp_path):
    root = tmp_path / "lib"
    for i in range(80):
        write(root / f"d{i % 4}" / f"{i}.jpg", jpeg_bytes(i, (16, 16)))
    database = tmp_path / "data" / "library.db"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(database), str(root)],
        stdout=subprocess.PIPE,
        cwd=os.getcwd(),
        text=True,
    )
    try:
        assert child.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if child.stdout.readline().strip() == "READY":
                break
        else:
            raise AssertionError("the child scan never got going")
        # READY: batches are committed and one is in flight (the child holds it there).
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert child.returncode == -signal.SIGKILL

    db = dbmod.connect(database)
    assert dbmod.integrity_ok(db)
    committed = db.execute("SELECT count(*) FROM files").fetchone()[0]
    assert 0 < committed < 80
    assert db.execute("SELECT finished FROM scans").fetchall() == [(None,)]
    summary = scan(db, root)
    assert summary.resumed and not summary.cancelled
    assert summary.files == 80 and summary.unchanged == committed and summary.errors == 0
    assert dbmod.integrity_ok(db)
    assert db.execute("SELECT count(*) FROM images WHERE pixel_hash IS NULL").fetchone() == (0,)
