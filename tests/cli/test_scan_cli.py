"""The scan/open/errors commands as a user runs them: real processes, real files."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.imagefiles import jpeg_bytes, write
from tests.support.waiting import PROCESS_HANG_S


def run_cli(*args: str, env_extra: dict | None = None, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "anagnorisis_tui", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=PROCESS_HANG_S,
        **kw,
    )


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    for i in range(3):
        write(root / f"y{i}" / f"p{i}.jpg", jpeg_bytes(i, (40, 30)))
    write(root / "broken.jpg", b"\x00" * 64)
    return root


@pytest.mark.slow
def test_help_lists_commands():
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ("open", "scan", "errors"):
        assert command in out.stdout
    assert run_cli("--version").stdout.startswith("anagnorisis-tui ")


@pytest.mark.slow
def test_scan_json_lines_then_summary(library):
    out = run_cli("scan", str(library), "--json")
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    files = [x for x in lines if x["type"] == "file"]
    errors = [x for x in lines if x["type"] == "error"]
    assert len(files) == 3 and len(errors) == 1 and lines[-1]["type"] == "summary"
    for record in files:
        assert {"path", "hash", "width", "height", "size"} <= set(record)
        assert (record["width"], record["height"], record["status"]) == (40, 30, "new")
        assert len(record["hash"]) == 32
    assert errors[0]["path"].endswith("broken.jpg") and errors[0]["reason"]
    assert lines[-1]["files"] == 3 and lines[-1]["errors"] == 1
    # A cron rerun: same shape, everything unchanged, nothing reread.
    again = [
        json.loads(line) for line in run_cli("scan", str(library), "--json").stdout.splitlines()
    ]
    assert {x.get("status") for x in again if x["type"] == "file"} == {"unchanged"}
    assert again[-1]["unchanged"] == 3 and again[-1]["bytes"] == 0
    listed = run_cli("errors", "--json")
    assert [json.loads(x)["path"] for x in listed.stdout.splitlines()] == [errors[0]["path"]]


@pytest.mark.slow
def test_text_and_quiet_output(library):
    out = run_cli("scan", str(library))
    assert (
        out.returncode == 0
        and "3 images" in out.stdout
        and "1 files could not be read" in out.stdout
    )
    quiet = run_cli("scan", str(library), "--quiet")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""


@pytest.mark.slow
def test_user_errors_exit_2(tmp_path, library):
    missing = run_cli("scan", str(tmp_path / "nope"))
    assert missing.returncode == 2 and missing.stderr.startswith("error: library folder not found")
    a_file = run_cli("scan", str(library / "y0" / "p0.jpg"))
    assert a_file.returncode == 2 and a_file.stderr.startswith("error: not a folder")
    assert "Traceback" not in missing.stderr + a_file.stderr
    opened = run_cli(str(tmp_path / "nope"))
    assert opened.returncode == 2 and opened.stderr.startswith("error:")


def _make_read_only(path: Path) -> None:
    if os.geteuid() != 0:
        path.chmod(0o555)
    else:  # root ignores permission bits; an immutable folder refuses even root
        subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)


def _make_writable(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)
    path.chmod(0o755)


@pytest.mark.slow
@pytest.mark.parametrize("existing_catalogue", [False, True])
def test_read_only_data_dir_is_a_clear_error(library, tmp_path, existing_catalogue):
    data = tmp_path / "data"
    env = {"ANAGNORISIS_DATA_DIR": str(data)}
    if existing_catalogue:
        assert run_cli("scan", str(library), "--quiet", env_extra=env).returncode == 0
    else:
        data.mkdir()
    _make_read_only(data)
    try:
        write(library / "new.jpg", jpeg_bytes(50))
        out = run_cli("scan", str(library), env_extra=env)
    finally:
        _make_writable(data)
    assert out.returncode == 2, out
    assert out.stderr.startswith("error:") and "data dir" in out.stderr
    assert "Traceback" not in out.stderr


def test_open_resolves_folder_saved_root_then_demo(library, tmp_path):
    # `open` launches the app (tested with the UI); which library it opens is decided here.
    from anagnorisis_tui.core.base.config import load_settings
    from anagnorisis_tui.core.demo.generate import LibraryNotFound, resolve_library
    from anagnorisis_tui.core.library import Library

    def resolve(arg):
        settings = load_settings()
        lib = Library(settings)
        try:
            return resolve_library(settings, arg, lib), lib.catalogue.roots()
        finally:
            lib.close()

    assert resolve(None) == (None, [])  # nothing saved: the demo (in its own data dir) opens
    assert resolve(str(library))[0] == library  # a folder is saved...
    assert resolve(None) == (library, [str(library)])  # ...and opened next time
    shutil.move(library, tmp_path / "elsewhere")
    with pytest.raises(LibraryNotFound, match="mounted"):
        resolve(None)  # a missing saved root is an error, not the demo


@pytest.mark.slow
def test_demo_library_scans_clean_into_its_own_catalogue():
    out = run_cli("scan", "--demo", "--json")
    summary = json.loads(out.stdout.splitlines()[-1])
    assert out.returncode == 0 and summary["errors"] == 0 and summary["files"] >= 20
    data = Path(os.environ["ANAGNORISIS_DATA_DIR"])
    demo = data / "demo" / "library"
    jpgs = list(demo.rglob("*.jpg"))
    assert len(jpgs) >= 5 and any("scikit-learn" in str(p) for p in jpgs)
    assert summary["root"] == str(demo)
    assert (data / "demo" / "library.db").exists() and not (data / "library.db").exists()
    assert run_cli("list", "--count", "--demo").stdout.strip() == str(summary["files"])


def test_progress_line_is_plain_text_and_overwrites(tmp_path):
    from anagnorisis_tui.cli.scan_cmd import ProgressLine
    from anagnorisis_tui.core.base.progress import Progress

    with open(tmp_path / "tty.txt", "w+", newline="") as stream:
        line = ProgressLine(stream)
        line(Progress("walk", 4096, None, elapsed=1.0, detail="a.jpg"))
        line.last = 0.0
        line(Progress("catalogue", 50, 200, 5_000_000, 2.0, "\x1b[2J[bold]evil[/].jpg"))
        line.clear()
        stream.seek(0)
        text = stream.read()
    assert "4,096 image files found" in text
    assert "50/200 files" in text and "25 files/s" in text and "ETA 00:06" in text
    assert "\x1b" not in text and "\\x1b[2J[bold]evil[/].jpg" in text
    assert text.endswith("\r")


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_the_next_scan_finishes(library, monkeypatch, capsys, tmp_path):
    import signal
    import threading
    import time

    from anagnorisis_tui.cli import main
    from anagnorisis_tui.core.base import db as dbmod
    from tests.support import childhooks

    # The scan's child decodes slowly, so the Ctrl-C surely lands while it works.
    childhooks.install(tmp_path, monkeypatch, childhooks.SLOW_DECODE.format(delay=0.05))
    for i in range(40):
        write(library / "many" / f"{i}.jpg", jpeg_bytes(100 + i, (16, 16)))
    database = Path(os.environ["ANAGNORISIS_DATA_DIR"]) / "library.db"

    # Ctrl-C only while the scan runs, never after: sent late (once `main` had returned), it
    # would land as a KeyboardInterrupt in whatever this worker runs next.
    lock, finished = threading.Lock(), False

    def interrupt_once_catalogued() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                rows = dbmod.connect(database, readonly=True).execute("SELECT count(*) FROM files")
                if rows.fetchone()[0] >= 43:
                    break
            time.sleep(0.05)
        with lock:
            if not finished:
                os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C sends

    thread = threading.Thread(target=interrupt_once_catalogued, daemon=True)
    thread.start()
    try:
        code = main(["scan", str(library)])
    finally:
        with lock:
            finished = True
    thread.join(30)
    assert code == 130, "the scan was not interrupted while it worked"
    assert "scan interrupted" in capsys.readouterr().out
    childhooks.install(tmp_path, monkeypatch, "")
    db = dbmod.connect(database)
    assert dbmod.integrity_ok(db)
    assert main(["scan", str(library), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["resumed"] and summary["files"] == 43 and not summary["cancelled"]


@pytest.mark.slow
def test_json_keeps_non_utf8_names_exact(tmp_path):
    root = tmp_path / "lib"
    root.mkdir()
    raw = os.fsencode(str(root)) + b"/\xff\xfe-photo.jpg"
    with open(raw, "wb") as f:
        f.write(jpeg_bytes(9))
    out = run_cli("scan", str(root), "--json")
    record = json.loads(out.stdout.splitlines()[0])
    assert bytes.fromhex(record["path_bytes_hex"]) == raw
    record["path"].encode("utf-8")  # the text form is valid UTF-8
