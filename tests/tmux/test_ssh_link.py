"""The real app over a real SSH connection (tests/support/sshlink.py: sshd on the loopback in
the test's own folder, a relay throttling each direction), on a pty answering as xterm with
sixel would. At 2 Mbit/s (+40 ms each way) `auto` turns to low quality while paging (as soon as
the link has shown a backlog), and `q` typed while a page's pictures are on their way ends the
output within a bounded number of bytes (the app keeps what the link cannot carry at once, and
drops it on quit). With no throttle, `auto` stays high. Times are printed, not asserted
(bench/bench_ssh.py measures them).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.photo_library import library
from tests.support.ptylink import XTERM_SIXEL, Link, PtyApp
from tests.support.sshlink import EXIT_MARK, SshLink, available

pytestmark = [pytest.mark.tmux]
if (why := available()) is not None:
    pytestmark.append(pytest.mark.skip(reason=why))

NOTICE = b"Slow link"
PAGE_DOWN = b"\x1b[6~"
# What may still arrive after `q` reaches the app: the bytes in flight (the link's budget at
# 2 Mbit/s, ui/link.py) and one picture being written, far below SSH's 2 MB channel window.
AFTER_QUIT_MAX = 160_000


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root, env = library(tmp_path_factory.mktemp("ssh-photos"), 60)
    return root, {**env, "ANAGNORISIS_PICTURES": "auto"}


def _start(link: SshLink, root: Path, env: dict[str, str]) -> PtyApp:
    app = PtyApp(
        [],
        env,
        size=(120, 40),
        link=Link(),
        answers=XTERM_SIXEL,
        command=link.command([str(root), "--graphics", "sixel"], env),
    )
    app.watch(NOTICE)
    app.watch(EXIT_MARK.encode())
    app.start()
    return app


def test_auto_goes_low_and_q_ends_the_output_at_once_at_2_mbit(photos, tmp_path):
    root, env = photos
    with SshLink(tmp_path / "ssh", mbit_s=2, delay_ms=40) as link:
        app = _start(link, root, env)
        try:
            app.pump_until_quiet(quiet=2.5, timeout=180, seen=b"photo0000", pictures=1)
            flips = 0
            while app.watched[NOTICE] < 0 and flips < 6:
                # Loaded 10x its cores, the app made pictures slower than the link took them
                # during the first screen: measured only once the link had a backlog.
                flip = app.send(PAGE_DOWN)
                app.pump_until_quiet(quiet=2.0, timeout=60, after=flip)
                flips += 1
            app.send(PAGE_DOWN)
            pictures = app.sixels
            deadline = time.monotonic() + 30
            while app.sixels < pictures + 1 and time.monotonic() < deadline:
                app.pump(0.005)  # until the next page's pictures are arriving
            before = app.delivered
            quit_key = app.send(b"q")
            deadline = time.monotonic() + 60
            while app.watched[EXIT_MARK.encode()] < 0 and time.monotonic() < deadline:
                app.pump(0.005)
            after_quit = app.delivered - before
            took = app.last_output_at - quit_key.sent_at
            app.wait_exit(10)
        finally:
            app.kill()
    print(
        f"\n2 Mbit/s over ssh: low after {flips} flips; q to the shell {took * 1000:.0f} ms, "
        f"{after_quit} bytes after q"
    )
    assert app.watched[NOTICE] >= 0  # "Slow link": auto turned low
    assert app.watched[EXIT_MARK.encode()] >= 0  # the shell had its turn
    assert after_quit < AFTER_QUIT_MAX


def test_auto_stays_high_without_a_throttle(photos, tmp_path):
    root, env = photos
    with SshLink(tmp_path / "ssh", mbit_s=None, delay_ms=0) as link:
        app = _start(link, root, env)
        try:
            app.pump_until_quiet(quiet=2.5, timeout=180, seen=b"photo0000", pictures=1)
            for _ in range(2):
                flip = app.send(PAGE_DOWN)
                app.pump_until_quiet(quiet=2.0, timeout=60, after=flip)
            app.send(b"q")
            deadline = time.monotonic() + 60
            while app.watched[EXIT_MARK.encode()] < 0 and time.monotonic() < deadline:
                app.pump(0.01)
        finally:
            app.kill()
    assert app.pictures >= 2
    assert app.watched[NOTICE] < 0  # never said "Slow link"
    assert app.watched[EXIT_MARK.encode()] >= 0
