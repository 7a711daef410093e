"""kill -9 in the middle of a scan: the catalogue stays consistent and the next scan finishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from anagnorisis_tui.core.base import db as dbmod
from anagnorisis_tui.core.catalogue.scan import scan
from tests.support.imagefiles import jpeg_bytes, write

pytestmark = pytest.mark.slow


CHILD = textwrap.dedent(
    """
    import sys, time
    from anagnorisis_tui.core.catalogue import record_pass
    from anagnorisis_tui.core.base import db as dbmod
    from anagnorisis_tui.core.catalogue.scan import ScanOptions, scan

    real = record_pass.Writer.write
    written = 0

    def held(self, batch):
        # The writer commits two batches, then holds the third in flight: the kill lands there
        # whatever order the reading threads ran in. (Holding a reader instead depended on which
        # chunk that reader was in: held in the first chunk, nothing could commit, and a loaded
        # CI run saw the child never get going.)
        global written
        written += 1
        if written == 3:
            print("READY", flush=True)
            time.sleep(120)  # killed here
        return real(self, batch)

    record_pass.Writer.write = held
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
        # The first line the child prints is READY; an empty line is the child's end. The
        # child holds (and prints) only after two batches are committed; the watchdog is only
        # for a child that hangs elsewhere (the read then ends with an empty line).
        watchdog = threading.Timer(600, child.kill)
        watchdog.start()
        try:
            line = child.stdout.readline().strip()
        finally:
            watchdog.cancel()
        assert line == "READY", f"the child scan ended before it was held: {child.wait(10)}"
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
