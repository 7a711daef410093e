"""The link to the terminal measured end to end: bytes in flight, their drain, the round trip.

Over SSH, the app's writes return as soon as the SSH channel takes them: OpenSSH's channel
window (2 MB) and the socket buffers hold seconds of pictures at 2 Mbit/s, so timing the writes
saw a fast link, and `q` or a key's answer waited behind everything already handed to SSH.

`Flight` asks the terminal instead. After each piece of output it may write a status request
(DSR 5, `ESC [ 5 n`); the terminal answers `ESC [ 0 n` only once it has read everything written
before it, so an answer says those bytes crossed the link. From that:

- bytes in flight: written minus answered. Writers wait (`wait_room`) while more than `budget`
  is in flight, about `FLIGHT_S` of the measured rate plus one round trip: pictures wait in the
  app, where a page flip or `q` drops them, never in SSH's buffers. Pictures drawn in a frame
  (sixel) ask first (`admit`): refused, they are drawn when answers make room (`when_room`).
- the rate: the bytes between two answers over the time between them, counted only where the
  link was busy all along (the later request was written at least a round trip before the
  earlier answer came back): a pause of the app's own (encoding on a loaded CPU, idle) is not
  the link, and a link the app cannot keep busy is not what slows it. Over the last
  `RATE_WINDOW` bytes, or sooner where `SLOW_EVIDENCE_BYTES` of them took `SLOW_EVIDENCE_S`
  (a slow link shown). Until it is measured, the budget starts at `MIN_BUDGET` and doubles while
  pictures wait for room and the link idles between requests written under the budget grown
  last (TCP's slow start), so a fast distant link is filled and shows its rate.
- the round trip at rest (`rtt`): the shortest time any request took to be answered. A terminal
  on this machine answers in a few milliseconds: however slowly it draws pictures, it is not a
  slow link (`slow`), and fewer colours would not make it draw faster.

Requests are written only between escape sequences, never inside a sixel or kitty picture (an
ESC there would end it). Answers are taken out of the input before Textual parses it
(ui/key_input.py). It is used only where the terminal answered a status request when the app
asked what it can draw (ui/terminal_replies.py): a terminal that does not answer would stall.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

PROBE = "\x1b[5n"  # device status report; the answer is ANSWER
ANSWER = "\x1b[0n"
PROBE_EVERY = 8 * 1024  # a request after at most this many bytes (at a boundary)
FLIGHT_S = 0.05  # bytes in flight: this much of the rate, plus a round trip
MIN_BUDGET = 32 * 1024  # bytes in flight allowed however slow the link (and before it is known)
MAX_BUDGET = 4 * 1024 * 1024
MAX_START_BUDGET = 512 * 1024  # the most it grows to before the rate is measured
RATE_WINDOW = 96 * 1024  # the rate is taken over at least this many answered bytes
# ...or, to find a slow link sooner, over this many that kept the link busy this long at least
# (at 10 Mbit/s they take 40 ms: read slow only behind answers delayed 110 ms).
SLOW_EVIDENCE_BYTES = 48 * 1024
SLOW_EVIDENCE_S = 0.15
SLOW_LINK_BYTES_S = 625e3  # 5 Mbit/s: below this, `auto` sends low-quality pictures
LOCAL_RTT_S = 0.02  # a terminal answering faster than this at rest is on this machine (or near)
ANSWER_WAIT_S = 2.0  # no answer at all for this long: stop waiting (the terminal went quiet)


class Flight:
    """Bytes written to the terminal that it has not answered for yet; see the module doc."""

    def __init__(self, enabled: bool = True, rtt: float | None = None) -> None:
        self.enabled = enabled
        self.sent = 0  # bytes written, requests included
        self.answered = 0  # bytes the terminal has answered for
        self.probes = 0  # requests written
        self._unprobed = 0
        self._probes: deque[tuple[int, float]] = deque()  # (sent when written, time written)
        # (sent, time) of the last answer, and when its request was written
        self._last_answer: tuple[int, float, float] | None = None
        self._samples: deque[tuple[int, float]] = deque()  # (bytes, seconds) while busy
        self._sample_bytes = 0
        self._sample_seconds = 0.0
        self.rate: float | None = None  # bytes per second, once RATE_WINDOW bytes are answered
        self.rtt = rtt  # seconds, the shortest answer seen
        self._admitted = 0  # bytes of pictures admitted into frames not yet written
        self._unqueued = 0  # of those, admitted since the last frame was queued
        self._queued: deque[int] = deque()  # admitted bytes of each frame queued, not written
        self._window = MIN_BUDGET  # the budget until the rate is measured
        self._grown_at = 0.0
        self._denied = False  # a picture waited for room since the last answer
        self._watching = False  # a timer waits to give up on requests not answered
        self._room_callbacks: list[Callable[[], None]] = []
        self._cv = threading.Condition()

    # -- the writer's side ------------------------------------------------------------------
    @property
    def in_flight(self) -> int:
        return self.sent - self.answered

    @property
    def budget(self) -> int:
        if self.rate is None:  # not measured yet: what the link has shown it takes
            return self._window
        window = self.rate * (FLIGHT_S + (self.rtt or 0.0))
        return int(min(MAX_BUDGET, max(MIN_BUDGET, window)))

    def wrote(self, nbytes: int, boundary: bool) -> str:
        """`nbytes` were written; at a `boundary` (outside any escape string) the request to
        write now, if one is due, else ""."""
        if not self.enabled:
            return ""
        with self._cv:
            self.sent += nbytes
            self._unprobed += nbytes
            due = self._unprobed >= PROBE_EVERY or (self._unprobed and not self._probes)
            if not boundary or not due:
                return ""
            self._unprobed = 0
            self.sent += len(PROBE)
            self.probes += 1
            self._probes.append((self.sent, time.perf_counter()))
            return PROBE

    def frame_queued(self) -> None:
        """A frame was handed to the output thread: the pictures admitted since the last one
        were drawn in it (or not at all: a render Textual did not write), and are pending
        until it is written."""
        with self._cv:
            self._queued.append(self._unqueued)
            self._unqueued = 0

    def frame_written(self) -> None:
        """The oldest frame queued went out: its pictures are in flight now, no longer pending.

        Counted by frame, not by the frame's bytes: a picture admitted into a render that was
        never written (the layout changed meanwhile) held its bytes as pending for good, the
        link's budget shrank to nothing and pictures went out one at a time, never keeping the
        link busy enough to be measured (`auto` stayed high at 2 Mbit/s for a whole screen)."""
        with self._cv:
            if self._queued:
                self._admitted = max(0, self._admitted - self._queued.popleft())
            room = self._room_callbacks and self.in_flight + self._admitted < self.budget
        if room:
            self._call_room()

    def wait_room(self, stop: Callable[[], bool] = lambda: False) -> None:
        """Block until fewer than `budget` bytes are in flight (or `stop()`, or no answer for
        ANSWER_WAIT_S: a terminal that went quiet is not waited for forever)."""
        if not self.enabled:
            return
        with self._cv:
            while self.in_flight >= self.budget and not stop():
                answered = self.answered
                self._cv.wait(ANSWER_WAIT_S)
                if self.answered == answered and self.in_flight >= self.budget:
                    return  # nothing came back: go on rather than hang the output

    def admit(self, nbytes: int) -> bool:
        """May a frame carry a picture of `nbytes` now? Yes if it fits in `budget` with what
        is in flight or admitted, or if nothing is (a picture larger than the budget goes
        alone: it is not cut). True: counted as pending until its frame is written.

        A picture let past the budget once less than it was in flight (as first built) left a
        budget and a picture on the way at `q`: 230 ms of a 2 Mbit/s link to cross before the
        shell's prompt, on top of both ways' delay."""
        if not self.enabled:
            return True
        with self._cv:
            pending = self.in_flight + self._admitted
            if pending and pending + nbytes > self.budget:
                self._denied = True
                return False
            self._admitted += nbytes
            self._unqueued += nbytes
            return True

    def when_room(self, callback: Callable[[], None]) -> None:
        """Call `callback` (in the input thread) once answers make room; if none comes within
        ANSWER_WAIT_S (a terminal that stopped answering), the requests still out are given up
        on and it is called then (in a timer's thread): pictures are never held for good."""
        with self._cv:
            self._room_callbacks.append(callback)
            idle = not self._probes
            answered = self.answered
            watching, self._watching = self._watching, True
        if idle:  # nothing will be answered: there is room now
            self._call_room()
            return
        if watching:  # a timer is out already
            return
        timer = threading.Timer(ANSWER_WAIT_S, self._give_up, args=(answered,))
        timer.daemon = True
        timer.start()

    def _give_up(self, answered: int) -> None:
        with self._cv:
            self._watching = False
            if self.answered != answered or not self._room_callbacks:
                return  # answers came meanwhile
            self._probes.clear()
            self.answered = self.sent
            self._last_answer = None
            self._cv.notify_all()
        self._call_room()

    def wait_answered(self, longest: float = 1.0) -> None:
        """Wait (at most a few round trips, `longest` s) until every status request sent has
        been answered: an answer still on its way when the terminal is given back reaches the
        shell, which prints it ("^[[0n" above the prompt after quitting over SSH)."""
        with self._cv:
            if not self._probes:
                return
            timeout = min(longest, max(0.3, 3 * (self.rtt or 0.1)))
            self._cv.wait_for(lambda: not self._probes, timeout)

    # -- the reader's side ------------------------------------------------------------------
    def answer(self) -> None:
        """The terminal answered a request (in the input thread)."""
        now = time.perf_counter()
        with self._cv:
            if not self._probes:
                return  # an answer to someone else's request
            upto, written_at = self._probes.popleft()
            self.answered = max(self.answered, upto)
            took = now - written_at
            self.rtt = took if self.rtt is None else min(self.rtt, took)
            last = self._last_answer or (0, written_at, written_at)
            # Busy: these bytes were written at least a round trip before the earlier answer
            # came, so they reached the terminal right behind the earlier ones, and the time
            # between the answers is theirs (the terminal's read delays cancel out over a run).
            # Only those: after an idle link the time from writing to answer is mostly round
            # trip, whose noise on a loaded machine made 10 Mbit/s and an unthrottled SSH link
            # read as slow ones. A link the app cannot keep busy is not what slows it.
            busy = written_at <= last[1] - self.rtt
            if busy and upto - last[0] >= PROBE_EVERY:
                self._add_sample(int(upto - last[0]), now - last[1])
            elif self._denied and self.rate is None and min(written_at, last[2]) >= self._grown_at:
                # Pictures waited for room and the link was not kept busy: it may take more
                # (doubled, as TCP's slow start, until the rate is known: grown only until the
                # first busy answer, a window of one picture kept the link idle between
                # pictures and the rate was never measured). Only where both requests around
                # the idle time were written under the window grown last: a gap left by the
                # smaller one before it says nothing of this one (grown on it, the window
                # reached half a second of a 2 Mbit/s link).
                self._window = min(MAX_START_BUDGET, self._window * 2)
                self._grown_at = now
            self._denied = False
            self._last_answer = (upto, now, written_at)
            self._cv.notify_all()
            room = self.in_flight + self._admitted < self.budget
        if room:
            self._call_room()

    def _add_sample(self, nbytes: int, seconds: float) -> None:
        self._samples.append((nbytes, seconds))
        self._sample_bytes += nbytes
        self._sample_seconds += seconds
        while self._sample_bytes - self._samples[0][0] >= RATE_WINDOW:
            old_bytes, old_seconds = self._samples.popleft()
            self._sample_bytes -= old_bytes
            self._sample_seconds -= old_seconds
        # A loaded app that makes pictures about as fast as a 2 Mbit/s link takes them keeps
        # it busy only now and then: two busy stretches in the first screen, 51 kB in 220 ms,
        # and `auto` waited for a page flip to reach RATE_WINDOW.
        slow_shown = (
            self._sample_bytes >= SLOW_EVIDENCE_BYTES and self._sample_seconds >= SLOW_EVIDENCE_S
        )
        if self._sample_bytes >= RATE_WINDOW or slow_shown:
            self.rate = self._sample_bytes / max(self._sample_seconds, 1e-6)

    def _call_room(self) -> None:
        with self._cv:
            callbacks, self._room_callbacks = self._room_callbacks, []
        for callback in callbacks:
            callback()

    @property
    def slow(self) -> bool | None:
        """Is this a slow link (None: not known yet)?"""
        if self.rate is None:
            return None
        local = self.rtt is not None and self.rtt < LOCAL_RTT_S
        return self.rate < SLOW_LINK_BYTES_S and not local
