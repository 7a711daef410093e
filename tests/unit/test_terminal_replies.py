"""The start-up answers of a terminal told apart from keys typed meanwhile (ui/terminal_replies)."""

from __future__ import annotations

import os
import select
import termios
import time
import tty

from anagnorisis_tui.ui.terminal_replies import QUERIES, parse, settle, typed_keys


def test_late_answers_and_their_tails_are_not_keys():
    # textual-image gave up on its attributes query and read "\x1b[" of the answer while
    # waiting for a kitty answer: the tail "?62;4c" is still an answer, not "?", "6", ...
    data = b"?62;4c\x1b_Gi=23118;OK\x1b\\/red\x1bP>|kitty(0.35.1)\x1b\\\x1b[?62;4c\x1b[0n"
    replies = parse(data)
    assert replies.answered
    assert replies.typed == b"/red"
    assert replies.sixel and replies.kitty_ok
    assert replies.best_graphics() == "sixel"


def test_graphics_follow_what_the_terminal_said():
    tmux = parse(b"\x1b[?1;2c\x1bP>|tmux 3.3a\x1b\\\x1b[0n")
    assert tmux.best_graphics() == "halfcell"
    kitty = parse(b"\x1b_Gi=1;OK\x1b\\\x1bP>|kitty(0.35.1)\x1b\\\x1b[?62;c\x1b[0n")
    assert kitty.best_graphics() == "kitty"
    # Debian 12's kitty answers the graphics query but predates the Unicode placeholders.
    old_kitty = parse(b"\x1b_Gi=1;OK\x1b\\\x1bP>|kitty(0.26.5)\x1b\\\x1b[?62;c\x1b[0n")
    assert old_kitty.best_graphics() == "halfcell"
    unfinished = parse(b"\x1b[?62;4c")  # the status report never came: nothing is known
    assert unfinished.best_graphics() is None


def test_a_late_cell_size_answer_is_read():
    assert parse(b"\x1b[6;20;9t\x1b[0n").cell == (9, 20)


def test_typed_keys_replay_every_key_typed_before_the_first_paint():
    keys = typed_keys(b"/a b\r\x1b[A\x1b")
    assert keys == [
        ("slash", "/"),
        ("a", "a"),
        ("space", " "),
        ("b", "b"),
        ("enter", "\r"),
        ("up", None),
        ("escape", "\x1b"),
    ]


def test_page_flips_typed_while_the_app_starts_are_kept():
    # Over SSH three PageDown typed before the first paint gave page 3, not 4: the escape
    # sequences read while the terminal was being asked were dropped.
    assert typed_keys(b"\x1b[6~\x1b[6~\x1b[6~") == [("pagedown", None)] * 3
    assert typed_keys(b"") == []  # nothing typed: the usual start


def test_settle_reads_until_the_status_report():
    master, slave = os.openpty()
    try:
        # Echo off first, as a terminal app has it: the bytes written below must not come back
        # to the far end as echo (whether they do depends on when the line discipline runs).
        tty.setcbreak(slave, termios.TCSANOW)
        # The far end has already answered and a key was typed between the answers.
        os.write(master, b"\x1b[?63;4cx\x1b[0n")
        replies = settle(slave, slave, timeout=2.0)
        assert os.read(master, 4096) == QUERIES  # what the terminal was asked
    finally:
        os.close(master)
        os.close(slave)
    assert replies.answered and replies.sixel
    assert replies.typed == b"x"


def test_settle_gives_up_on_a_terminal_that_never_answers():
    master, slave = os.openpty()
    try:
        replies = settle(slave, slave, timeout=0.2)
    finally:
        os.close(master)
        os.close(slave)
    assert not replies.answered and replies.best_graphics() is None


def test_the_largest_sixel_picture_from_the_answer_else_xterms_default():
    answered = parse(b"\x1b[?2;0;1920;1080S\x1bP>|XTerm(390)\x1b\\\x1b[?63;4c\x1b[0n")
    assert answered.sixel_limit == (1920, 1080) and answered.typed == b""
    xterm = parse(b"\x1bP>|XTerm(379)\x1b\\\x1b[?63;1;2;4;6c\x1b[0n")  # 379 does not answer
    assert xterm.sixel_limit == (1000, 1000)
    foot = parse(b"\x1bP>|foot(1.16.2)\x1b\\\x1b[?62;4c\x1b[0n")
    assert foot.sixel_limit is None


def test_keys_typed_while_the_app_starts_wait_unechoed_for_it(monkeypatch):
    # Over SSH keys typed before the first paint were echoed onto the shell's screen (a literal
    # ^[[6~ above the prompt after quitting) and one was lost. The keyboard is quieted first
    # thing (TCSANOW: a key already typed stays to be read) and stays quiet until Textual
    # reads it; its settings before are put back at exit.
    from anagnorisis_tui.ui import terminal_replies

    monkeypatch.setattr(terminal_replies, "_BEFORE", None)
    master, slave = os.openpty()
    try:
        before = termios.tcgetattr(slave)
        os.write(master, b"\x1b[6~")  # typed while the line was still cooked
        terminal_replies.quiet_keyboard(slave)
        os.write(master, b"\x1b[6~q")  # typed while the app starts
        assert _read(slave, 9) == b"\x1b[6~\x1b[6~q"  # every key is there for the app
        assert terminal_replies.tty_before() == before
        terminal_replies.restore_keyboard()
        assert termios.tcgetattr(slave) == before
        # What the line echoed, up to a key typed now that echo is back on (echoes keep their
        # order, so no clock decides when an echo would have been there).
        os.write(master, b"Z")
        echoed = _read(master, until=b"Z")
        assert b"q" not in echoed  # nothing typed after the app started was echoed
    finally:
        os.close(master)
        os.close(slave)


def _read(fd: int, size: int = 0, *, until: bytes = b"", deadline: float = 30.0) -> bytes:
    """Bytes from `fd` until there are `size` of them (or `until` is among them)."""
    got = b""
    give_up = time.monotonic() + deadline
    while (len(got) < size if size else until not in got) and time.monotonic() < give_up:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready:
            got += os.read(fd, 4096)
    return got
