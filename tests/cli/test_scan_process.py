"""Which process does a command-line scan's work: the walk and the comparison with the
catalogue run in the command's own process; the child (core/work/) starts only when there is
something to read or derive, so a scan that finds nothing new loads no decoder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anagnorisis_tui.core.base.config import load_settings
from anagnorisis_tui.core.library import Library
from tests.support.imagefiles import jpeg_bytes, write
from tests.support.waiting import PROCESS_HANG_S

pytestmark = pytest.mark.slow


# A process that runs the command and reports what it imported.
PROBE = """
import contextlib, io, json, sys
from anagnorisis_tui.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""
DECODERS = {"numpy", "PIL.Image", "pillow_heif", "xxhash"}
CHILD_SIDE = {
    "anagnorisis_tui.core.work.runner",
    "anagnorisis_tui.core.catalogue.ingest_pass",
    "anagnorisis_tui.core.catalogue.record_pass",
}


def probe(*argv: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=PROCESS_HANG_S
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def children_started() -> int:
    """Child tasks run so far: each one writes a header line to worker.log."""
    log = Path(os.environ["ANAGNORISIS_DATA_DIR"]) / "worker.log"
    return log.read_text().count(" task ingest") if log.exists() else 0


def records(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    for i in range(3):
        write(root / f"y{i}" / f"p{i}.jpg", jpeg_bytes(i, (40, 30)))
    write(root / "broken.jpg", b"\x00" * 64)
    return root


def test_a_no_change_scan_starts_no_child_and_loads_no_decoder(library):
    first = probe("scan", str(library), "--json")
    assert first["code"] == 0 and children_started() == 1
    assert CHILD_SIDE & set(first["modules"])  # the first scan had files to read: a child
    again = probe("scan", str(library), "--json")
    assert again["code"] == 0
    assert children_started() == 1, "a scan that found nothing to do started the child"
    loaded = set(again["modules"])
    assert not (DECODERS | CHILD_SIDE) & loaded
    lines = records(again["out"])
    assert [x["status"] for x in lines if x["type"] == "file"] == ["unchanged"] * 3
    assert [x["path"].endswith("broken.jpg") for x in lines if x["type"] == "error"] == [True]
    summary = lines[-1]
    assert summary["type"] == "summary" and not summary["cancelled"]
    assert (summary["files"], summary["unchanged"], summary["errors"]) == (3, 3, 1)
    assert (summary["new"], summary["changed"], summary["vanished"], summary["bytes"]) == (
        0,
        0,
        0,
        0,
    )
    text = probe("scan", str(library))
    assert "3 images (0 new, 0 moved or copied, 0 changed, 3 unchanged, 0 gone)" in text["out"]
    assert "1 files could not be read" in text["out"] and children_started() == 1


def _settings():
    return load_settings()


def test_what_the_walk_found_is_carried_on_in_the_child(library):
    assert probe("scan", str(library), "--quiet")["code"] == 0
    with Library(_settings()) as lib:
        moved_hash = lib.ratings.image_hash(library / "y0" / "p0.jpg")
        lib.ratings.set(moved_hash, 8)
    (library / "y0" / "p0.jpg").rename(library / "y0" / "renamed.jpg")
    changed = library / "y1" / "p1.jpg"
    changed.write_bytes(jpeg_bytes(77, (40, 30)))
    os.utime(changed, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
    (library / "y2" / "p2.jpg").unlink()
    write(library / "new" / "n.jpg", jpeg_bytes(78, (20, 10)))

    out = probe("scan", str(library), "--json")
    assert out["code"] == 0 and children_started() == 2
    lines = records(out["out"])
    status = {Path(x["path"]).name: x["status"] for x in lines if x["type"] == "file"}
    assert status == {"renamed.jpg": "moved", "p1.jpg": "changed", "n.jpg": "new"}
    summary = lines[-1]
    # The renamed file's old path is gone too.
    assert (summary["moved"], summary["changed"], summary["new"], summary["vanished"]) == (
        1,
        1,
        1,
        2,
    )
    assert (summary["files"], summary["errors"]) == (3, 1) and not summary["resumed"]
    with Library(_settings()) as lib:
        assert lib.ratings.image_hash(library / "y0" / "renamed.jpg") == moved_hash
        assert lib.ratings.get(moved_hash) == 8  # the moved file kept its rating
        present = lib.db.execute("SELECT count(*) FROM files WHERE present = 1").fetchone()[0]
        assert present == 3
        # Each scan is one record, walked in one process and finished in the other.
        scans = lib.db.execute("SELECT finished FROM scans ORDER BY id").fetchall()
        assert len(scans) == 2 and all(f is not None for (f,) in scans)


def test_pending_derived_work_alone_starts_the_child(library):
    assert probe("scan", str(library), "--quiet")["code"] == 0
    with Library(_settings()) as lib, lib.db.conn:
        lib.db.execute("UPDATE images SET phash = NULL")
        lib.db.execute("UPDATE images SET taken_read = 0")
    out = probe("scan", str(library), "--json")
    assert out["code"] == 0 and children_started() == 2
    assert records(out["out"])[-1]["unchanged"] == 3
    with Library(_settings()) as lib:
        left = lib.db.execute(
            "SELECT count(*) FROM images WHERE phash IS NULL OR taken_read = 0"
        ).fetchone()[0]
        assert left == 0


def test_the_walk_travels_to_the_child_exactly(tmp_path):
    """Names that are not UTF-8 survive the handover (JSON keeps lone surrogates)."""
    from anagnorisis_tui.core.catalogue.scan import Walked
    from anagnorisis_tui.core.catalogue.scan_types import ScanSummary

    odd = os.fsdecode(b"/lib/\xff\xfe.jpg")
    summary = ScanSummary(root="/lib", unchanged=4, vanished=2, scan_id=7, resumed=True)
    summary.stage_seconds["walk"] = 0.5
    walked = Walked("/lib", summary, [(odd, "/lib/\\xff\\xfe.jpg", "", "x", True, False)])
    walked.todo.append(("/lib/a.jpg", "/lib/a.jpg", "", "a.jpg", False, True))
    back = Walked.from_payload(json.loads(json.dumps(walked.to_payload())))
    assert back.todo == walked.todo and back.summary == summary and back.root_db == "/lib"
    assert back.seconds >= walked.elapsed


def test_the_error_keys_are_the_duplicates_ones():
    from anagnorisis_tui.core.catalogue import pending
    from anagnorisis_tui.core.duplicates import phash, renditions

    assert pending.PHASH_ERRORS == phash.PHASH_MODEL
    assert pending.RENDITION_ERRORS == renditions.RENDITION_MODEL
