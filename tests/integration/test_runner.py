"""Heavy work in a child process: results, cancel, kill at any moment, crashes, user errors."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from anagnorisis_tui.core.base import db as dbmod
from anagnorisis_tui.core.catalogue import thumbnails
from anagnorisis_tui.core.work.runner import ChildTask, TaskFailed, run_task
from tests.support import childhooks
from tests.support.imagefiles import jpeg_bytes, noise, save, write

pytestmark = pytest.mark.slow


def _library(root: Path, count: int) -> Path:
    for i in range(count):
        write(root / f"d{i % 3}" / f"x{i:03d}.jpg", jpeg_bytes(i, (64, 48)))
    return root


def test_ingest_in_a_child_returns_its_summaries(settings, tmp_path):
    root = _library(tmp_path / "lib", 12)
    seen = []
    result = run_task("ingest", settings, {"root": str(root)}, progress=seen.append)
    assert result["scan"]["new"] == 12 and not result["scan"]["cancelled"]
    assert result["ingest"]["thumbnails"] == 12 and result["ingest"]["phashed"] == 12
    assert {p.stage for p in seen} >= {"walk", "catalogue", "ingest"}
    cache = thumbnails.cache_dir(settings.data_dir)
    assert len(list(cache.rglob("*.jpg"))) == 12
    db = dbmod.connect(settings.database)
    assert db.execute("SELECT count(*) FROM images WHERE phash IS NULL").fetchone() == (0,)


def test_file_events_stream_to_the_caller(settings, tmp_path):
    root = _library(tmp_path / "lib", 4)
    events = []
    run_task("ingest", settings, {"root": str(root), "files": True}, on_event=events.append)
    assert sorted(e["status"] for e in events if e["kind"] == "file") == ["new"] * 4


def test_a_user_error_in_the_task_is_its_message(settings, tmp_path):
    with pytest.raises(TaskFailed) as failed:
        run_task("ingest", settings, {"root": str(tmp_path / "nowhere")})
    assert not failed.value.crashed and failed.value.kind == "ScanError"
    assert "nowhere" in str(failed.value)


def test_a_crashing_decoder_kills_only_the_child(settings, tmp_path, monkeypatch):
    childhooks.install(tmp_path, monkeypatch, childhooks.CRASH_ON_DECODE)
    root = _library(tmp_path / "lib", 3)
    save(root / "evil.png", noise(*childhooks.CRASH_SIZE))
    with pytest.raises(TaskFailed) as failed:
        run_task("ingest", settings, {"root": str(root)})
    assert failed.value.crashed
    assert "SIGSEGV" in str(failed.value)
    db = dbmod.connect(settings.database)
    assert dbmod.integrity_ok(db)
    assert db.execute("SELECT count(*) FROM files").fetchone() == (4,)  # the catalogue is kept


def _slow_child(tmp_path, monkeypatch, delay: float) -> None:
    childhooks.install(tmp_path, monkeypatch, childhooks.SLOW_DECODE.format(delay=delay))


def _start(task: ChildTask, **kw) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def run() -> None:
        try:
            out["result"] = task.run(**kw)
        except BaseException as exc:  # handed to the test
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def _wait_for_ingest(task: ChildTask, done: int = 3) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        p = task.last_progress
        if p is not None and p.stage == "ingest" and p.done >= done:
            return
        time.sleep(0.02)
    raise AssertionError("the child never got into the ingest pass")


def test_cancel_returns_what_was_finished(settings, tmp_path, monkeypatch):
    _slow_child(tmp_path, monkeypatch, 0.05)
    root = _library(tmp_path / "lib", 60)
    task = ChildTask("ingest", settings, {"root": str(root)})
    cancel = threading.Event()
    thread, out = _start(task, cancel=cancel)
    _wait_for_ingest(task)
    cancel.set()
    thread.join(60)
    result = out["result"]
    assert result["scan"]["cancelled"] and result["ingest"]["cancelled"]
    assert 0 < result["ingest"]["phashed"] < 60


def test_kill_at_any_moment_keeps_committed_work_and_the_next_run_finishes(
    settings, tmp_path, monkeypatch
):
    _slow_child(tmp_path, monkeypatch, 0.05)
    root = _library(tmp_path / "lib", 60)
    task = ChildTask("ingest", settings, {"root": str(root)})
    thread, out = _start(task)
    _wait_for_ingest(task)
    db = dbmod.connect(settings.database)
    committed = "SELECT count(*) FROM images WHERE phash IS NOT NULL"
    deadline = time.monotonic() + 300
    while db.execute(committed).fetchone()[0] == 0:
        assert time.monotonic() < deadline, "no ingest batch committed in 300 s"
        time.sleep(0.05)  # kill once a batch has committed, while others are in flight
    task.kill()
    thread.join(30)
    assert out == {"result": None}  # killed on request: no result, no error
    assert task.process is not None and task.process.poll() is not None
    assert dbmod.integrity_ok(db)
    orphans = (
        "SELECT count(*) FROM files f LEFT JOIN images i ON i.hash = f.hash WHERE i.hash IS NULL"
    )
    assert db.execute(orphans).fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM files").fetchone() == (60,)
    kept = db.execute(committed).fetchone()[0]
    assert 0 < kept < 60
    childhooks.install(tmp_path, monkeypatch, "")  # an ordinary child from here on
    again = run_task("ingest", settings, {"root": str(root)})
    assert again["scan"]["resumed"] and again["ingest"]["total"] == 60 - kept
    assert db.execute("SELECT count(*) FROM images WHERE phash IS NULL").fetchone() == (0,)


def test_training_refused_for_a_reason_is_a_user_error(settings):
    with pytest.raises(TaskFailed) as failed:
        run_task("train", settings, {})
    assert failed.value.user and failed.value.kind == "TrainingError"
    assert "embed" in str(failed.value)  # says what is missing and what to run
