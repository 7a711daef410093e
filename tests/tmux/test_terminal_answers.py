"""A terminal that answers the start-up queries over a link with a round trip longer than
textual-image waits (0.1 s): its late answers must not reach the app as keys (`?63;1;2;4c`
opened the help screen and typed digits), `auto` still finds the sixel support they report, and
keys typed while the answers were on their way are not lost. And xterm's largest sixel picture
(1000x1000 pixels: it draws nothing for a larger one; the viewer stayed black) is respected.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.photo_library import library
from tests.support.ptylink import XTERM_SIXEL, Link, PtyApp

pytestmark = [pytest.mark.tmux]

HELP_TEXT = b"Rebind keys in the settings file"


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    return library(tmp_path_factory.mktemp("answers"), 12)


def test_late_answers_are_not_keys_and_auto_finds_sixel(photos):
    root, env = photos
    app = PtyApp([str(root)], env, size=(120, 40), link=Link(delay=0.15), answers=XTERM_SIXEL)
    app.start()
    try:
        app.pump_until_quiet(quiet=2.0, timeout=120, seen=b"photo0000", pictures=1)
        shown = app.seen_text
        app.send(b"q")
        exited = app.wait_exit(60)
    finally:
        app.kill()
    assert HELP_TEXT not in shown  # the answer's "?" was not read as the help key
    assert app.sixels > 0  # auto drew sixel, as the (late) attributes answer says it can
    assert exited is not None


def test_keys_typed_while_the_terminal_answers_are_replayed(photos):
    root, env = photos
    app = PtyApp(
        [str(root), "--graphics", "halfcell"],
        env,
        size=(120, 40),
        link=Link(delay=0.15),
        answers=XTERM_SIXEL,
    )
    app.watch(HELP_TEXT)  # wherever it would arrive, however much output follows
    app.start()
    try:
        app.send(b"/zebra stripes")  # typed at once, before the app has asked anything
        # Until the query shows, then a few seconds more (the scan of 300 photos keeps the
        # screen changing, so waiting for quiet waited for the whole scan).
        app.pump_until_quiet(quiet=0.0, timeout=120, seen=b"zebra stripes")
        app.pump(3.0)
        shown = app.seen_text
        app.send(b"\x11")  # ctrl+q
        exited = app.wait_exit(60)
    finally:
        app.kill()
    assert HELP_TEXT not in shown and app.watched[HELP_TEXT] < 0
    assert b"zebra stripes" in shown or app.watched[b"zebra stripes"] >= 0
    assert exited is not None


def test_the_viewer_fits_xterms_largest_sixel_picture(photos):
    root, env = photos
    # 160x48 cells of 10x20 pixels: the viewer's picture area is about 1200x900 pixels.
    app = PtyApp([str(root), "--graphics", "sixel"], env, size=(160, 48), answers=XTERM_SIXEL)
    app.start()
    try:
        app.pump_until_quiet(quiet=2.0, timeout=120, seen=b"photo0000", pictures=1)
        before = len(app.sixel_sizes)
        opened = app.send(b"\r")
        # Wait for the viewer's picture (its text can scroll out of the bounded text buffer
        # behind a large sixel picture, so no text is waited for).
        app.pump_until_quiet(quiet=2.0, timeout=120, after=opened, pictures=app.pictures + 1)
        viewer = app.sixel_sizes[before:]
        app.send(b"\x11")
        exited = app.wait_exit(60)
    finally:
        app.kill()
    assert viewer, "the viewer sent no picture"
    assert max(w for w, _ in viewer) > 600  # the large picture, not only thumbnails
    assert all(w <= 1000 and h <= 1000 for w, h in viewer), viewer
    assert exited is not None
