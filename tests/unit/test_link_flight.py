"""The link measured end to end (ui/link.py): a status request after the output, its answer
timed; bytes in flight bounded; the answers taken out of the keys; the probe never inside a
picture. The terminal here sits behind a simulated link whose buffers take any write at once
(SSH's channel window), so only the answers can tell how fast it is."""

from __future__ import annotations

import re
import threading
import time
from collections import deque

import pytest

from anagnorisis_tui.ui.key_input import EscapeAwareParser, escape_aware_driver
from anagnorisis_tui.ui.link import ANSWER, MIN_BUDGET, PROBE, Flight
from anagnorisis_tui.ui.pictures import LinkMeter, MeteredFile, Pictures

SIXEL = '\x1bP0;0;0q"1;1;100;60#0;2;0;0;0' + "~" * 20_000 + "\x1b\\"  # one ~20 kB picture


class _FarTerminal:
    """A terminal `delay` s away over a link of `rate` bytes/s whose buffers never fill: a
    write returns at once; the terminal answers each status request once it has read every
    byte before it, and the answer takes `delay` s back."""

    def __init__(self, flight: Flight, rate: float, delay: float) -> None:
        self.flight, self.rate, self.delay = flight, rate, delay
        self.text: list[str] = []
        self._queue: deque[tuple[float, str]] = deque()
        self._cv = threading.Condition()
        self.written = self.delivered = 0
        self.most_in_buffers = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def write(self, text: str) -> int:
        with self._cv:
            self.text.append(text)
            self._queue.append((time.monotonic() + self.delay, text))
            self.written += len(text)
            self.most_in_buffers = max(self.most_in_buffers, self.written - self.delivered)
            self._cv.notify()
        return len(text)

    def flush(self) -> None:
        pass

    def _run(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._queue)
                due, text = self._queue.popleft()
            time.sleep(max(0.0, due - time.monotonic()) + len(text) / self.rate)
            with self._cv:
                self.delivered += len(text)
            for _ in range(text.count(PROBE)):
                threading.Timer(self.delay, self.flight.answer).start()


def _send_pictures(
    rate: float, delay: float, count: int = 20, pause: float = 0.0, refill: float = 0.0
) -> tuple[Flight, _FarTerminal]:
    flight = Flight(enabled=True)
    terminal = _FarTerminal(flight, rate, delay)
    output = MeteredFile(terminal, LinkMeter(), flight)
    output.write("\x1b[1;1Hthe first frame, text only")  # as the app starts: small frames
    output.flush()
    deadline = time.monotonic() + 10
    while flight.in_flight and time.monotonic() < deadline:
        time.sleep(0.005)
    for _ in range(count):  # as the sixel widget does: each picture admitted, or told later
        room = threading.Event()
        while not flight.admit(len(SIXEL)):
            room.clear()
            flight.when_room(room.set)
            room.wait(5)
            time.sleep(refill)  # told of room, the app renders a frame before it writes
        output.frame_queued()  # as Textual's driver does: the frame handed to its writer
        output.write(SIXEL)
        output.flush()
        time.sleep(pause)  # the app encoding the next one
    return flight, terminal


@pytest.mark.slow
def test_a_slow_link_behind_big_buffers_is_measured_slow_and_never_filled():
    # Over SSH the writes were taken at once by the channel window (2 MB): timing them saw a
    # fast link, and everything written had to cross the link before `q` or a key's answer.
    flight, terminal = _send_pictures(rate=250e3, delay=0.04)  # 2 Mbit/s, 40 ms each way
    pictures = Pictures("auto", LinkMeter(), flight)
    assert flight.rate is not None and flight.rate < 400e3
    assert pictures.level == "low"
    # Never more in the link's buffers than its budget (grown once at most before the link
    # was seen busy), plus the one picture admitted past it.
    bound = max(flight.budget, 2 * MIN_BUDGET) + len(SIXEL) + 2 * len(PROBE)
    assert terminal.most_in_buffers <= bound, (terminal.most_in_buffers, flight.budget)


@pytest.mark.slow
def test_a_slow_link_is_measured_within_the_first_screen():
    # A first screen of pictures at 2 Mbit/s (+40 ms each way), an app that takes 50 ms from
    # hearing of room to writing the picture. (Over real SSH the budget shrank to nothing by
    # pictures rendered into frames never written, next test, and grew only until the first
    # busy answer: pictures went one at a time, the link idled between them and was never
    # measured, so `auto` stayed high for the first screen.)
    flight, terminal = _send_pictures(rate=250e3, delay=0.04, count=12, refill=0.05)
    assert Pictures("auto", LinkMeter(), flight).level == "low", (flight.rate, flight.budget)
    # Before the rate was known the budget grew (slow start), but never past what a busy
    # 2 Mbit/s link showed it needed: a few hundred ms of the link.
    assert terminal.most_in_buffers <= 4 * MIN_BUDGET + len(SIXEL), terminal.most_in_buffers


def test_a_picture_admitted_into_a_frame_never_written_gives_its_room_back():
    # Textual may render a picture into a frame it then does not write (the layout changed):
    # counted as pending by the frames' bytes, such pictures held the link's budget for good,
    # and at 2 Mbit/s pictures went out one at a time for the whole first screen.
    flight = Flight(enabled=True)
    terminal = _FarTerminal(flight, 50e6, 0.0)
    output = MeteredFile(terminal, LinkMeter(), flight)
    for n in range(6):
        assert flight.admit(10_000), n  # rendered into a frame...
        output.frame_queued()
        output.write(f"\x1b[{n + 1};1Hthe frame written: text only")  # ...that was not written
        output.flush()
        deadline = time.monotonic() + 10
        while flight.in_flight and time.monotonic() < deadline:
            time.sleep(0.005)


def test_no_picture_goes_past_the_budget_while_another_is_on_its_way():
    # One picture let past the budget once less than it was in flight left up to a budget and
    # a picture to cross a 2 Mbit/s link after `q` (230 ms); a picture goes alone only when
    # nothing else is in flight.
    flight = Flight(enabled=True)
    flight.wrote(MIN_BUDGET // 2, boundary=True)
    assert not flight.admit(MIN_BUDGET // 2 + 1_000)
    assert flight.admit(MIN_BUDGET // 2 - 1_000)
    flight.answer()
    lone = Flight(enabled=True)
    assert lone.admit(3 * MIN_BUDGET)  # nothing in flight: a large picture goes, whole


@pytest.mark.slow
def test_a_fast_link_and_a_local_terminal_stay_high():
    fast, _ = _send_pictures(rate=50e6, delay=0.001, count=40)
    assert Pictures("auto", LinkMeter(), fast).level == "high", (fast.rate, fast.rtt)
    # A terminal on this machine drawing slowly answers at once when idle: not a slow link.
    local, _ = _send_pictures(rate=300e3, delay=0.0)
    assert Pictures("auto", LinkMeter(), local).level == "high", (local.rate, local.rtt)


@pytest.mark.slow
def test_a_fast_link_the_app_cannot_keep_busy_is_not_slow():
    # At 10 Mbit/s over SSH on a loaded machine, pictures came slower than the link took
    # them; timed from each request to its answer, the round trips made it read as 2 Mbit/s.
    flight, _ = _send_pictures(rate=1.25e6, delay=0.04, count=30, pause=0.06)
    assert Pictures("auto", LinkMeter(), flight).level == "high", (flight.rate, flight.rtt)


def test_status_requests_go_between_pictures_never_inside_one():
    flight = Flight(enabled=True)
    terminal = _FarTerminal(flight, 50e6, 0.0)
    output = MeteredFile(terminal, LinkMeter(), flight)
    frame = ("\x1b[1;1Htext" + SIXEL) * 3 + "\x1b[5;5Hmore text"
    output.write(frame)
    output.flush()
    written = "".join(terminal.text)
    assert written.replace(PROBE, "") == frame
    assert flight.probes >= 3
    outside = re.sub(r"\x1bP[^\x1b]*\x1b\\", "", written)  # sixel pictures removed
    assert outside.count(PROBE) == written.count(PROBE)


def test_a_picture_waits_for_room_and_is_told_when_there_is():
    flight = Flight(enabled=True)
    flight.wrote(flight.budget, boundary=True)  # a full link, one request out
    assert not flight.admit(10_000)
    told = threading.Event()
    flight.when_room(told.set)
    assert not told.is_set()
    flight.answer()
    assert told.is_set() and flight.in_flight == 0 and flight.admit(10_000)


def test_answers_are_taken_out_of_the_keys_even_cut_between_reads():
    answers = []
    parser_class = type(
        "P", (EscapeAwareParser,), {"on_status": staticmethod(lambda: answers.append(1))}
    )
    parser = parser_class()
    keys = []
    for data in ("a" + ANSWER + "\x1b[6~\x1b[", "0nb", ANSWER):
        keys += [e.key for e in parser.feed(data) if hasattr(e, "key")]
    assert keys == ["a", "pagedown", "b"]
    assert len(answers) == 3
    assert escape_aware_driver(object, answers.append) is not None


def test_a_terminal_that_stops_answering_does_not_hold_pictures_for_good(monkeypatch):
    from anagnorisis_tui.ui import link

    monkeypatch.setattr(link, "ANSWER_WAIT_S", 0.2)
    flight = Flight(enabled=True)
    flight.wrote(flight.budget, boundary=True)  # a request out that will never be answered
    assert not flight.admit(10_000)
    told = threading.Event()
    flight.when_room(told.set)
    assert told.wait(10)  # given up on: the picture is drawn
    assert flight.admit(10_000)


def _busy_pieces(monkeypatch, seconds_each: float, pieces: int = 3) -> Flight:
    """`pieces` pictures of 25 kB written together over a link with a 90 ms round trip that
    takes `seconds_each` for each: answered one after the other (a clock of its own)."""
    from types import SimpleNamespace

    from anagnorisis_tui.ui import link

    clock = [100.0]
    monkeypatch.setattr(link, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    flight = Flight(enabled=True, rtt=0.09)
    for _ in range(pieces):
        assert flight.wrote(25_000, boundary=True) == PROBE
    for n in range(1, pieces + 1):
        clock[0] = 100.0 + 0.09 + n * seconds_each
        flight.answer()
    return flight


def test_two_busy_stretches_that_took_long_show_a_slow_link(monkeypatch):
    # A loaded app making pictures about as fast as a 2 Mbit/s link takes them kept it busy
    # only twice in the first screen (51 kB in 220 ms): not RATE_WINDOW bytes, `auto` waited
    # for a page flip.
    slow = _busy_pieces(monkeypatch, 0.1)  # 2 Mbit/s
    assert slow.rate is not None and slow.slow
    fast = _busy_pieces(monkeypatch, 0.02)  # 10 Mbit/s: too little to say it is fast yet
    assert not fast.slow
