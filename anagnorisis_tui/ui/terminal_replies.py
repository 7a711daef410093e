"""What the terminal can draw, asked once before Textual reads the keyboard.

textual-image asks the terminal (a DA1 query for sixel, a kitty graphics query) when it is
imported and waits 0.1 s for each answer. Over SSH an answer takes a round trip, often longer:
the query gave up, the answer arrived later on the same stdin as the keyboard, and Textual read
it as typed keys (`?62;4c` opened the help screen and typed digits); keys typed meanwhile were
read as wrong answers and lost. So textual-image is imported where it asks nothing
(ui/graphics.py) and `settle` asks instead: kitty graphics, XTVERSION, the cell size, the
largest sixel picture (XTSMGRAPHICS) and DA1, then a status report (DSR 5) whose answer
`ESC [ 0 n` comes after every other because terminals answer in order. It reads until that
answer (or a timeout) with echo off, and splits what it read into the terminal's answers and
whatever the user typed meanwhile, which the app replays. (The patterns also accept the tails
of answers to queries given up on, should anything else have asked.)
"""

from __future__ import annotations

import os
import re
import select
import time
from dataclasses import dataclass, field
from typing import Any

# A kitty graphics query (a=q: answer only, store nothing), the terminal's name and version,
# its attributes (4 = sixel), then a status report whose answer ends the exchange.
_KITTY_ID = 0x5A4E  # any number; the answer echoes it
QUERIES = (
    f"\x1b_Gi={_KITTY_ID},s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\"
    "\x1b[>0q"
    "\x1b[16t"  # the cell size in pixels, where the kernel has no pixel size (some SSH)
    "\x1b[?2;1S"  # XTSMGRAPHICS: the largest sixel picture it shows (xterm: 1000x1000)
    "\x1b[c"
    "\x1b[5n"
).encode()
_STATUS = re.compile(rb"\x1b\[[03]n")
# Answers, and the tails of answers whose first bytes textual-image read before giving up
# (it reads one byte at a time and stops at the first that does not fit what it waited for).
_ATTRIBUTES = re.compile(rb"(?:\x1b\[|\[)?\?([0-9;]+)c")
_KITTY = re.compile(rb"(?:\x1b_|_)?G([^\x1b]*)\x1b\\")
_VERSION = re.compile(rb"\x1bP>\|([^\x1b]*)\x1b\\")
_CELL = re.compile(rb"\x1b\[6;(\d+);(\d+)t")
_SIXEL_SIZE = re.compile(rb"\x1b\[\?2;(\d+)(?:;(\d+);(\d+))?S")
# Unicode placeholders, which textual-image's kitty pictures need, came with kitty 0.28.
_KITTY_PLACEHOLDERS = (0, 28)
_XTERM_SIXEL_MAX = (1000, 1000)  # XTerm*maxGraphicSize's default


@dataclass
class Replies:
    """What the terminal said, and what was typed while it was saying it."""

    answered: bool = False  # the status report came back: every answer is in
    attributes: list[set[str]] = field(default_factory=list)  # each DA1 answer
    kitty_ok: bool = False  # a kitty graphics answer said OK
    version: str = ""  # XTVERSION, e.g. "kitty(0.26.5)", "XTerm(390)", "tmux 3.3a"
    cell: tuple[int, int] | None = None  # (width, height) pixels, from a late ESC[16t answer
    # The largest sixel picture shown, pixels; xterm draws nothing at all for a larger one.
    sixel_max: tuple[int, int] | None = None
    typed: bytes = b""
    round_trip: float | None = None  # seconds from asking to the status answer

    @property
    def sixel_limit(self) -> tuple[int, int] | None:
        """The largest sixel picture it shows: its own answer, else xterm's default (which
        xterm 379 does not report: it draws nothing at all for a larger picture)."""
        if self.sixel_max is not None:
            return self.sixel_max
        return _XTERM_SIXEL_MAX if self.version.startswith("XTerm(") else None

    @property
    def sixel(self) -> bool:
        return any("4" in attrs for attrs in self.attributes)

    @property
    def kitty_pictures(self) -> bool:
        """The kitty protocol with the Unicode placeholders textual-image draws with."""
        if not self.kitty_ok:
            return False
        match = re.fullmatch(r"kitty\((\d+)\.(\d+)[^)]*\)", self.version)
        return match is None or (int(match[1]), int(match[2])) >= _KITTY_PLACEHOLDERS

    def best_graphics(self) -> str | None:
        """The protocol to draw with, in textual-image's order (sixel, kitty, half cells);
        None when the terminal never finished answering (then nothing here is known)."""
        if not self.answered:
            return None
        if self.sixel:
            return "sixel"
        return "kitty" if self.kitty_pictures else "halfcell"


def parse(data: bytes) -> Replies:
    """Split what stdin held into the terminal's answers and the keys typed between them."""
    replies = Replies()

    def attributes(match: re.Match[bytes]) -> bytes:
        replies.attributes.append(set(match[1].decode().split(";")))
        return b""

    def kitty(match: re.Match[bytes]) -> bytes:
        replies.kitty_ok = replies.kitty_ok or match[1].endswith(b";OK")
        return b""

    def version(match: re.Match[bytes]) -> bytes:
        replies.version = match[1].decode(errors="replace")
        return b""

    def cell(match: re.Match[bytes]) -> bytes:
        replies.cell = (int(match[2]), int(match[1]))
        return b""

    def sixel_size(match: re.Match[bytes]) -> bytes:
        if match[1] == b"0" and match[2] and match[3]:
            replies.sixel_max = (int(match[2]), int(match[3]))
        return b""

    def status(match: re.Match[bytes]) -> bytes:
        replies.answered = True
        return b""

    rest = _STATUS.sub(status, data)
    rest = _VERSION.sub(version, rest)
    rest = _KITTY.sub(kitty, rest)
    rest = _CELL.sub(cell, rest)
    rest = _SIXEL_SIZE.sub(sixel_size, rest)
    replies.typed = _ATTRIBUTES.sub(attributes, rest)
    return replies


_BEFORE: tuple[int, list[Any]] | None = None  # stdin and its tty settings before the app


def quiet_keyboard(fd: int) -> None:
    """Echo and line editing off on the terminal `fd` until the app takes it (or the process
    ends): keys typed while the app starts stay unread for it, instead of being echoed onto the
    shell's screen (a literal `^[[6~` left above the prompt) or held in a line being edited.
    The settings before are kept (`tty_before`), put back at exit."""
    import atexit
    import termios
    import tty

    global _BEFORE
    if _BEFORE is None:
        try:
            _BEFORE = (fd, termios.tcgetattr(fd))
        except termios.error:
            return
        atexit.register(restore_keyboard)
    # TCSANOW: what was typed already stays to be read (TCSAFLUSH would drop it).
    tty.setcbreak(fd, termios.TCSANOW)


def tty_before() -> list[Any] | None:
    """stdin's tty settings before `quiet_keyboard` changed them (None if it did not)."""
    return None if _BEFORE is None else _BEFORE[1]


def restore_keyboard() -> None:
    """Put back the settings `quiet_keyboard` changed."""
    import contextlib
    import termios

    if _BEFORE is not None:
        with contextlib.suppress(OSError, termios.error):
            termios.tcsetattr(_BEFORE[0], termios.TCSANOW, _BEFORE[1])


def settle(fd_in: int, fd_out: int, timeout: float = 2.0) -> Replies:
    """Ask, then read every answer still on its way (echo off, and left off for the app: see
    `quiet_keyboard`); see the module docstring."""
    import termios
    import tty

    saved = termios.tcgetattr(fd_in)
    tty.setcbreak(fd_in, termios.TCSANOW)
    # Left so where the app quieted the keyboard for its start (`quiet_keyboard`): keys typed
    # from now until Textual reads them are neither echoed nor held in a line being edited.
    keep_quiet = _BEFORE is not None and _BEFORE[0] == fd_in
    data = b""
    answered_at = None
    try:
        os.write(fd_out, QUERIES)
        asked = time.monotonic()
        deadline = asked + timeout
        while not _STATUS.search(data):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd_in], [], [], left)[0]:
                break
            chunk = os.read(fd_in, 4096)
            if not chunk:
                break
            data += chunk
            answered_at = time.monotonic()
    finally:
        if not keep_quiet:
            termios.tcsetattr(fd_in, termios.TCSANOW, saved)
    replies = parse(data)
    if replies.answered and answered_at is not None:
        replies.round_trip = answered_at - asked
    return replies


def typed_keys(typed: bytes) -> list[tuple[str, str | None]]:
    """(Textual key name, character) for each key in `typed`, read by the app's own parser
    (ui/key_input.py): arrows and PageDown typed before the first paint count too (they were
    dropped, and a page flip typed at start-up over SSH was lost). What is not a key (an
    answer to a query given up on, noise) gives none."""
    from textual import events

    from anagnorisis_tui.ui.key_input import EscapeAwareParser

    text = typed.decode(errors="ignore")
    keys: list[tuple[str, str | None]] = []
    if not text:  # (an empty feed is the parser's end of input)
        return keys
    parser = EscapeAwareParser()
    for event in [*parser.feed(text), *parser.feed("")]:  # the end: a lone Escape is one
        if isinstance(event, events.Key):
            keys.append((event.key, event.character))
    return keys
