"""Item 5 and what already held: bombs under the pixel limit are refused before decoding when
they would not fit the memory budget; large images decode one at a time; a failure for lack
of memory is retried by the next scan; bombs over the pixel limit stay refused."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

import pytest

from anagnorisis_tui.core.base import db as dbmod
from anagnorisis_tui.core.catalogue import decode_budget, ingest_derive, ingest_pass
from anagnorisis_tui.core.catalogue import scan as scanmod
from anagnorisis_tui.core.catalogue.ingest_pass import Products
from anagnorisis_tui.core.catalogue.scan_types import ScanOptions
from tests.hostile.builders import png_bomb, png_header_claiming
from tests.hostile.conftest import Nas
from tests.support.imagefiles import write


@pytest.mark.slow
def test_a_bomb_under_the_pixel_limit_is_refused_by_the_budget_and_retried(nas: Nas):
    bomb = write(nas.root / "b" / "bomb.png", png_bomb(3000, 3000))  # 36 MB of RGBA pixels
    assert bomb.stat().st_size < 100_000
    nas.config.write_text("[library]\ndecode_memory_mb = 16\n")
    out = nas.cli("scan", str(nas.root))
    assert out.returncode == 0, out.stderr
    errors = nas.cli("errors").stdout
    assert "bomb.png" in errors and "memory budget" in errors and "budget 16 MB" in errors
    assert not any(p.endswith("bomb.png") for (p,) in nas.query("SELECT path FROM files"))
    # With more memory allowed, the next scan takes it (it was not recorded as bad for good).
    nas.config.write_text("[library]\ndecode_memory_mb = 64\n")
    assert nas.cli("scan", str(nas.root)).returncode == 0
    assert any(p.endswith("bomb.png") for (p,) in nas.query("SELECT path FROM files"))
    assert nas.cli("errors").stdout.strip() == "no errors"


@pytest.mark.slow
def test_a_bomb_over_the_pixel_limit_is_refused_from_its_header(nas: Nas):
    write(nas.root / "b" / "huge.png", png_header_claiming(40_000, 40_000))
    out = nas.cli("scan", str(nas.root))
    assert out.returncode == 0, out.stderr
    assert "huge.png" in nas.cli("errors").stdout


def test_the_default_budget_is_a_share_of_available_memory():
    free = decode_budget.available_memory()
    assert free is not None and free > 0
    assert decode_budget.budget_bytes() == max(decode_budget.FLOOR, int(free * decode_budget.SHARE))
    assert decode_budget.budget_bytes(100) == 100 * decode_budget.MIB


def test_a_bad_budget_setting_is_a_clear_error(nas: Nas):
    nas.config.write_text('[library]\ndecode_memory_mb = "lots"\n')
    out = nas.cli("scan", str(nas.root))
    assert out.returncode == 2 and out.stderr.startswith("error: ")
    assert "decode_memory_mb" in out.stderr


def _scan(tmp_path: Path, root: Path, **products: object) -> dbmod.Database:
    db = dbmod.connect(tmp_path / "data" / "library.db")
    scanmod.scan(db, root, ScanOptions(products=Products(phash=True, **products)))  # type: ignore[arg-type]
    return db


def test_out_of_memory_is_retried_by_the_next_scan(tmp_path: Path, monkeypatch):
    root = tmp_path / "photos"
    write(root / "big.png", png_bomb(600, 400, seed=1))
    real = ingest_derive._decoded

    def no_memory(*args: object, **kw: object) -> object:
        raise MemoryError

    monkeypatch.setattr(ingest_derive, "_decoded", no_memory)
    db = _scan(tmp_path, root)
    assert db.execute("SELECT count(*) FROM files").fetchone()[0] == 0
    assert "not enough memory" in db.execute("SELECT reason FROM scan_errors").fetchone()[0]
    monkeypatch.setattr(ingest_derive, "_decoded", real)
    _scan(tmp_path, root)
    assert db.execute("SELECT count(*) FROM files").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM scan_errors").fetchone()[0] == 0


@pytest.mark.slow
def test_large_images_decode_one_at_a_time(tmp_path: Path, monkeypatch):
    """Three images each too large for all four workers to hold at once: while one decodes,
    the next waits (a second entering would set `overlap`)."""
    root = tmp_path / "photos"
    for n in range(3):
        write(root / f"large{n}.png", png_bomb(1200, 1000, seed=n))  # 4.8 MB of pixels each
    real = ingest_derive._decoded
    active, overlap = [0], threading.Event()
    lock = threading.Lock()

    def watched(*args: object, **kw: object) -> object:
        with lock:
            active[0] += 1
            if active[0] > 1:
                overlap.set()
        try:
            overlap.wait(1.5)  # a second decode would enter now if the lane let it
            return real(*args, **kw)  # type: ignore[arg-type]
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(ingest_derive, "_decoded", watched)
    monkeypatch.setattr(ingest_pass, "PER_TASK", 1)  # one image per worker task
    db = _scan(tmp_path, root, workers=4, decode_budget=8 * decode_budget.MIB)
    assert db.execute("SELECT count(*) FROM files").fetchone()[0] == 3
    assert not overlap.is_set()


def test_the_large_image_lane_is_shared_across_processes(tmp_path: Path):
    """The lane is also an flock on the data dir's decode.lock: another process holding it
    (here: another open file description) keeps this one waiting."""
    lock_file = tmp_path / decode_budget.LOCK_NAME
    limits = decode_budget.DecodeLimits(100, workers=4, lock_file=lock_file)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    entered = threading.Event()

    def decode() -> None:
        with limits.lane(90):
            entered.set()

    thread = threading.Thread(target=decode)
    thread.start()
    assert not entered.wait(0.5)
    os.close(fd)
    assert entered.wait(10)
    thread.join(10)
    assert not thread.is_alive()
    with limits.lane(10):  # a small image never waits
        pass
