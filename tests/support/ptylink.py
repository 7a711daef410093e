"""The real app behind a pseudo-terminal and a simulated network link, counting what it sends.

`PtyApp` starts `python -m anagnorisis_tui ...` on a new pty of a given size (cell pixels set in
the window size, so sixel and kitty pictures are sized as in a real terminal) and reads its output
through a `Link`: a relay with a byte rate, a one-way delay and a send buffer of bounded size, like
SSH over a slow connection (the app's writes block once the buffer is full, as they would when
the TCP window is full). Keys typed go through the same delay.

Each write of keys marks the output position at that moment; the key's *response* starts at the
first byte the app wrote after it, and `Response` says when that byte (and the rest of the burst)
reached the far end, and when the first byte that changes a cell did (`changed_at`: printable
text or the start of a sixel picture; escape sequences alone, such as kitty's picture data or
cursor moves, change none). Nothing here asserts timings: the tests check that responses arrive
and the backlog stays bounded; the benchmark prints the times.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import sys
import termios
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_HALF = "▀".encode()  # pictures: a sixel header, a kitty transmission (f=100) or this
# Escape sequences (CSI, OSC, DCS such as sixel, APC such as kitty graphics) dropped from text.
_TEXT = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[P_\]][^\x1b]*(\x1b\\)?|\x1b.")
CELL_PIXELS = (10, 20)


@dataclass
class Link:
    """A network link: `rate` bytes/s (None: unlimited), `delay` s one way, `buffer` bytes."""

    rate: float | None = None
    delay: float = 0.0
    buffer: int = 256 * 1024

    @classmethod
    def mbit(cls, mbit_s: float, delay_ms: float) -> Link:
        return cls(rate=mbit_s * 1e6 / 8, delay=delay_ms / 1000)


# What a terminal at the far end answers to the queries a program sends at start-up
# (attributes, status report, name and version, kitty graphics), as bytes by query.
XTERM_SIXEL = {
    b"\x1b[c": b"\x1b[?63;1;2;4;6;9;15;16;22;28c",
    b"\x1b[5n": b"\x1b[0n",
    b"\x1b[>0q": b"\x1bP>|XTerm(379)\x1b\\",
}
# Seen in xterm 379 (-ti vt340): no answer to XTSMGRAPHICS, and a sixel picture larger than
# 1000x1000 pixels (maxGraphicSize) is not drawn at all. `sixel_sizes` lists what was sent.
_QUERY = re.compile(rb"\x1b\[c|\x1b\[5n|\x1b\[>0q")
_SIXEL_SIZE = re.compile(rb'\x1bP[0-9;]*q"1;1;(\d+);(\d+)')


@dataclass
class Response:
    sent_at: float
    mark: int  # output offset when the key was written to the app
    first_at: float | None = None  # first byte of the response at the far end
    changed_at: float | None = None  # its first byte that changes a cell (see `Visible`)
    changed_offset: int = -1  # where that byte is in the output
    picture_offset: int = -1  # where its first picture (sixel, kitty transmission) starts
    quiet_at: float | None = None  # the far end had all the response (output quiet since)
    bytes: int = 0

    @property
    def first_s(self) -> float | None:
        return None if self.first_at is None else self.first_at - self.sent_at

    @property
    def changed_s(self) -> float | None:
        return None if self.changed_at is None else self.changed_at - self.sent_at


# The start of a picture: a sixel DCS, or the first message of a kitty transmission (f=100).
_PICTURE_START = re.compile(rb"\x1bP[0-9;]*q|\x1b_G[^;\x1b]*f=100")
_CSI_TAIL = re.compile(rb"[0-?]*[ -/]*[@-~]")  # parameters, intermediates, the final byte
_PRINTABLE = re.compile(rb"[\x20-\x7e\x80-\xff]")  # a character (UTF-8 bytes included)


class Visible:
    """Finds, in a terminal stream fed piece by piece, the bytes that change a cell on screen:
    printable text, or the start of a sixel picture (a DCS whose final byte is `q`). Escape
    sequences by themselves change no cell: CSI (cursor moves, modes), OSC, and APC (kitty
    graphics: a picture transmitted or placed shows only where placeholder text is written) and
    any other DCS. Sequences may be cut anywhere between pieces."""

    def __init__(self) -> None:
        self._head = b""  # an escape sequence cut off at the end of the last piece
        self._in_string = False  # inside an APC, OSC, DCS, PM or SOS string (until ST)
        self._bell_ends = False  # OSC: BEL ends it too

    def feed(self, data: bytes, since: int = 0) -> int | None:
        """Index in `data` of its first byte at or after `since` that changes a cell (None:
        none)."""
        buf = self._head + data
        base = len(self._head)  # buf index - base = data index
        self._head = b""
        since += base
        first: int | None = None
        i, n = 0, len(buf)
        while i < n:
            if self._in_string:
                end = buf.find(b"\x1b\\", i)
                bell = buf.find(b"\x07", i, end if end >= 0 else n) if self._bell_ends else -1
                if bell >= 0:
                    i, self._in_string = bell + 1, False
                elif end >= 0:
                    i, self._in_string = end + 2, False
                else:
                    if buf.endswith(b"\x1b"):
                        self._head = b"\x1b"  # perhaps the first half of ST
                    return None if first is None else first - base
                continue
            esc = buf.find(b"\x1b", i)
            stop = n if esc < 0 else esc
            if first is None and stop > max(i, since):
                text = _PRINTABLE.search(buf, max(i, since), stop)
                if text:
                    first = text.start()
            if esc < 0:
                break
            if esc + 1 >= n:
                self._head = buf[esc:]
                break
            kind = buf[esc + 1]
            if kind in b"[P":
                tail = _CSI_TAIL.match(buf, esc + 2)
                if tail is None:
                    if n - esc < 64:  # cut off: finish it with the next piece
                        self._head = buf[esc:]
                        break
                    i = esc + 2  # malformed: skip its introducer
                    continue
                i = tail.end()
                if kind == ord("P"):  # DCS: a string follows; with `q` it is a sixel picture
                    if buf[i - 1] == ord("q") and first is None and esc >= since:
                        first = esc
                    self._in_string, self._bell_ends = True, False
            elif kind in b"_]^X":
                i = esc + 2
                self._in_string, self._bell_ends = True, kind == ord("]")
            else:
                i = esc + 2
        return None if first is None else first - base


@dataclass
class _Chunk:
    offset: int
    data: bytes
    ready_at: float  # when it may leave the link (its delay)


@dataclass
class PtyApp:
    args: list[str]
    env: dict[str, str]
    size: tuple[int, int] = (160, 48)
    link: Link = field(default_factory=Link)
    # The far end's answers to terminal queries (XTERM_SIXEL), None: a pty nobody answers on.
    answers: dict[bytes, bytes] | None = None
    # Run this instead of the app (tests/support/sshlink.py: the ssh client running it).
    command: list[str] | None = None

    def __post_init__(self) -> None:
        self.pid = 0
        self.fd = -1
        self.produced = 0  # bytes the app wrote (read from the pty)
        self.delivered = 0  # bytes that reached the far end
        self.max_backlog = 0  # most bytes ever waiting in the link
        self._queue: deque[_Chunk] = deque()
        self._queued = 0
        self._sent_budget = 0.0
        self._last_tick = time.monotonic()
        self._keys: deque[tuple[float, bytes, bool]] = deque()  # (due, bytes, typed by a user)
        self._unanswered = b""  # the end of the output, where a query may be half arrived
        self.responses: list[Response] = []
        self.last_output_at = time.monotonic()
        self.tail = b""  # the last bytes delivered, for diagnostics
        self.seen_text = b""  # printable text delivered, without escape sequences (bounded)
        self.pictures = 0  # picture sequences started (sixel DCS, kitty APC) or half-cells seen
        self.sixels = 0  # of which sixel pictures
        self.sixel_sizes: list[tuple[int, int]] = []  # (width, height) pixels of each
        self._visible = Visible()
        # Text to watch for (`watch`): the output offset where each was first delivered.
        self.watched: dict[bytes, int] = {}
        self._picture_head = b""  # the end of the output, where a picture may be half begun

    # -- process ------------------------------------------------------------------------
    def start(self) -> None:
        cols, rows = self.size
        pid, fd = os.forkpty()
        if pid == 0:  # the child: the app on the pty's slave side
            winsize = struct.pack("HHHH", rows, cols, cols * CELL_PIXELS[0], rows * CELL_PIXELS[1])
            fcntl.ioctl(0, termios.TIOCSWINSZ, winsize)
            env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
            env.update({"PYTHONPATH": str(REPO), "TERM": "xterm-256color", **self.env})
            os.chdir(REPO)
            if self.command is not None:
                os.execvpe(self.command[0], self.command, env)
            os.execve(sys.executable, [sys.executable, "-m", "anagnorisis_tui", *self.args], env)
        self.pid, self.fd = pid, fd
        os.set_blocking(fd, False)

    def alive(self) -> bool:
        if not self.pid:
            return False
        done, _ = os.waitpid(self.pid, os.WNOHANG)
        if done:
            self.pid = 0
        return bool(self.pid)

    def wait_exit(self, timeout: float) -> float | None:
        """Seconds until the app exited (pumping its output meanwhile), None if it did not."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            self.pump(0.02)
            if not self.alive():
                return time.monotonic() - start
        return None

    def kill(self) -> None:
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def watch(self, text: bytes) -> None:
        """Note where `text` first arrives (`watched[text]`, -1 until then), however much output
        comes after it (seen_text keeps only the last 64 kB)."""
        self.watched.setdefault(text, -1)

    # -- keys and output ----------------------------------------------------------------
    def send(self, keys: bytes) -> Response:
        """Type `keys` at the far end; they reach the app after the link's delay."""
        now = time.monotonic()
        response = Response(sent_at=now, mark=-1)
        self._keys.append((now + self.link.delay, keys, True))
        self.responses.append(response)
        return response

    def pump(self, seconds: float) -> None:
        """Run the link for `seconds`: keys in, output read (while the buffer has room), out."""
        end = time.monotonic() + seconds
        while True:
            now = time.monotonic()
            while self._keys and self._keys[0][0] <= now:
                _, keys, typed = self._keys.popleft()
                if typed:
                    response = next(r for r in self.responses if r.mark < 0)
                    response.mark = self.produced
                os.write(self.fd, keys)
            self._read(now)
            self._deliver(now)
            if now >= end:
                return
            select.select([self.fd] if self._room() else [], [], [], min(0.005, end - now))

    def pump_until_quiet(
        self,
        quiet: float,
        timeout: float,
        *,
        after: Response | None = None,
        seen: bytes = b"",
        pictures: int = 0,
    ) -> float:
        """Pump until nothing was delivered for `quiet` s, once `after` (a key's response) has
        begun to arrive, `seen` has been delivered and `pictures` pictures have begun; at most
        `timeout` s. Returns elapsed s."""
        start = time.monotonic()
        if seen:
            self.watch(seen)  # a picture's bytes after it can push it out of seen_text at once
        while time.monotonic() - start < timeout:
            self.pump(0.02)
            arrived = not seen or seen in self.seen_text or self.watched[seen] >= 0
            if not arrived or self.pictures < pictures:
                continue
            if after is not None and after.first_at is None:
                continue
            idle = time.monotonic() - self.last_output_at
            if idle >= quiet and not self._queued and not self._keys:
                break
        return time.monotonic() - start

    def _room(self) -> bool:
        return self._queued < self.link.buffer

    def _read(self, now: float) -> None:
        while self._room() and self.fd >= 0:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            except OSError:  # the app exited: the pty is closed
                return
            if not data:
                return
            self._queue.append(_Chunk(self.produced, data, now + self.link.delay))
            self.produced += len(data)
            self._queued += len(data)
            self.max_backlog = max(self.max_backlog, self._queued)

    def _deliver(self, now: float) -> None:
        rate = self.link.rate
        if rate is not None:
            self._sent_budget = min(
                self._sent_budget + (now - self._last_tick) * rate, max(rate * 0.01, 1500)
            )
        self._last_tick = now
        while self._queue and self._queue[0].ready_at <= now:
            chunk = self._queue[0]
            take = len(chunk.data) if rate is None else min(len(chunk.data), int(self._sent_budget))
            if take <= 0:
                return
            self._arrived(chunk.offset, chunk.data[:take], now)
            if rate is not None:
                self._sent_budget -= take
            if take == len(chunk.data):
                self._queue.popleft()
            else:
                self._queue[0] = _Chunk(chunk.offset + take, chunk.data[take:], chunk.ready_at)
            self._queued -= take

    def _arrived(self, offset: int, data: bytes, now: float) -> None:
        self.delivered += len(data)
        self.last_output_at = now
        self.tail = (self.tail + data)[-4096:]
        text = _TEXT.sub(b"", data)
        for watched, at in self.watched.items():
            if at < 0 and watched in self.seen_text[-len(watched) :] + text:
                self.watched[watched] = offset
        self.seen_text = (self.seen_text + text)[-65536:]
        self.sixels += data.count(b"\x1bP0;0;0q")
        self.sixel_sizes += [(int(w), int(h)) for w, h in _SIXEL_SIZE.findall(data)]
        self.pictures += data.count(b"\x1bP0;0;0q") + data.count(b",f=100,") + data.count(_HALF)
        if self.answers is not None:
            self._answer(data, now)
        end = offset + len(data)
        head = self._picture_head
        starts = [offset - len(head) + m.start() for m in _PICTURE_START.finditer(head + data)]
        self._picture_head = (head + data)[-32:]
        waiting = [r for r in self.responses if r.mark >= 0 and r.changed_at is None]
        since = min((r.mark for r in waiting), default=end) - offset
        visible = self._visible.feed(data, max(0, since))
        for response in self.responses:
            if response.mark < 0 or end <= response.mark:
                continue
            if response.first_at is None:
                response.first_at = now
            response.bytes += end - max(offset, response.mark)
            fresh = visible is not None and offset + visible >= response.mark
            if response.changed_at is None and fresh:
                response.changed_at = now
                response.changed_offset = offset + visible
            if response.picture_offset < 0:
                later = [start for start in starts if start >= response.mark]
                response.picture_offset = later[0] if later else -1

    def _answer(self, data: bytes, now: float) -> None:
        """The terminal answers each query that reached it; the answer takes the delay back."""
        assert self.answers is not None
        seen = self._unanswered + data
        end = 0
        for match in _QUERY.finditer(seen):
            self._keys.append((now + self.link.delay, self.answers[match[0]], False))
            end = match.end()
        self._unanswered = seen[max(end, len(seen) - 8) :]
