"""The app behind a slow link: tests/support/ptylink.py relays its pty at 2 and 10 Mbit/s with
50-150 ms each way and a 256 kB send buffer, as SSH over a slow connection would. Page flips,
opening an image and rating all get their answer, the rating is stored, the link drains once
the keys stop (nothing keeps piling up) and `q` ends the app. Sixel pictures at `auto` quality,
so the link meter's switch to small frames is exercised too. Times are printed, not asserted.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from tests.support.photo_library import library
from tests.support.ptylink import XTERM_SIXEL, Link, PtyApp

pytestmark = [pytest.mark.tmux]

LINKS = {"2mbit-150ms": Link.mbit(2, 150), "10mbit-50ms": Link.mbit(10, 50)}


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    return library(tmp_path_factory.mktemp("slow-link"), 60)


def _ratings(env: dict[str, str]) -> list[float]:
    with sqlite3.connect(Path(env["ANAGNORISIS_DATA_DIR"]) / "library.db") as conn:
        return [row[0] for row in conn.execute("SELECT value FROM ratings")]


@pytest.mark.parametrize("name", list(LINKS))
def test_flip_open_rate_over_a_slow_link(photos, name: str):
    root, env = photos
    with sqlite3.connect(Path(env["ANAGNORISIS_DATA_DIR"]) / "library.db") as conn:
        conn.execute("DELETE FROM ratings")
    link = LINKS[name]
    app = PtyApp(
        [str(root), "--graphics", "sixel"], env, size=(120, 40), link=link, answers=XTERM_SIXEL
    )
    app.start()
    try:
        app.pump_until_quiet(quiet=2.0, timeout=180, seen=b"photo0000")
        flips = [app.send(b"\x1b[6~") for _ in range(3)]  # three PageDown typed together
        app.pump_until_quiet(quiet=2.0, timeout=120, after=flips[-1])
        opened = app.send(b"\r")
        app.pump_until_quiet(quiet=2.0, timeout=120, after=opened, seen=b"Resolution")
        rated = app.send(b"7")
        end = time.monotonic() + 60
        while not _ratings(env) and time.monotonic() < end:
            app.pump(0.1)
        before = app.delivered
        waited = app.pump_until_quiet(quiet=2.0, timeout=120, after=rated)
        drained = app._queued == 0
        tail = (
            f"waited {waited:.1f} s, {(app.delivered - before) / 1000:.0f} kB delivered meanwhile"
        )
        tail += f", {app._queued / 1000:.0f} kB still queued, screen: {app.seen_text[-400:]!r}"
        quit_key = app.send(b"q")
        exited = app.wait_exit(60)
        print(
            f"\n{name}: first change after flip {[f'{r.first_s:.2f}' for r in flips]} s, "
            f"open {opened.first_s:.2f} s, rate {rated.first_s:.2f} s; "
            f"quit {exited} s; most queued {app.max_backlog / 1000:.0f} kB"
        )
    finally:
        app.kill()
    assert all(r.first_at is not None for r in flips)
    assert opened.first_at is not None and rated.first_at is not None
    assert _ratings(env) == [7.0]
    assert drained, tail  # the app stopped sending once the keys were answered
    assert quit_key.mark >= 0 and exited is not None


def test_kitty_page_flip_draws_its_text_before_sending_its_pictures(photos):
    # kitty pictures were sent while the frame was being drawn, so ahead of it: a page flip's
    # first changed cell came after all of its picture data (about 1 MB at high quality). The
    # frame now goes first, its placeholder cells show each picture when it arrives after it.
    root, env = photos
    app = PtyApp(
        [str(root), "--graphics", "kitty"],
        {**env, "ANAGNORISIS_PICTURES": "high"},
        size=(120, 40),
        link=Link.mbit(10, 20),
    )
    app.start()
    flips = []
    try:
        app.pump_until_quiet(quiet=2.0, timeout=180, seen=b"photo0000", pictures=1)
        for _ in range(2):  # pages never shown: their pictures are sent
            flips.append(app.send(b"\x1b[6~"))
            app.pump_until_quiet(quiet=2.0, timeout=120, after=flips[-1])
    finally:
        app.kill()
    for flip in flips:
        assert flip.picture_offset >= 0  # the new page's pictures were sent
        assert 0 <= flip.changed_offset < flip.picture_offset  # after its text
