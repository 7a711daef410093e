"""Pictures sized to the link: a quality level, the link's measured speed, kitty image reuse.

Over SSH every picture crosses the network: with sixel a page flip of a 160x48 grid is about
1 MB, with kitty graphics textual-image sends each thumbnail again on every repaint. Here:

- `LinkMeter` times the app's writes to the terminal in Textual's output thread (the terminal
  or the SSH channel blocks those writes once its buffer is full), so the app knows how many
  bytes per second actually get through: the last half megabyte's bytes over the seconds its
  writes took. Over SSH its buffers take seconds of output at once, so where the terminal
  answers status requests the link is measured end to end instead (ui/link.py `Flight`: bytes
  in flight bounded, their drain timed), and `MeteredFile` writes only what fits in flight.
- `Pictures` turns the `[ui] pictures` setting (auto, high, low) into what the widgets draw:
  `low` sends sixel with 32 colours and kitty pictures at half resolution (the terminal scales
  them up to the same cells); `auto` is `high` until the link is measured slower than
  `SLOW_LINK_BYTES_S`, then `low` (and the app says so once).
- `MeteredFile`'s picture lane: pictures sent apart from their frame (kitty's, ui/kitty.py) go
  out after it, between frames, so a key's answer never waits behind picture data.
- `SixelEncoder`: sixel pictures are encoded off the event loop and kept (by picture, crop,
  size and palette), so the frame after a key carries its text at once and each picture follows
  in a later frame; a page seen before is drawn from the kept encodings.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from anagnorisis_tui.ui.link import PROBE_EVERY, Flight

QUALITIES = ("auto", "high", "low")
SLOW_LINK_BYTES_S = 2.5e6  # 20 Mbit/s: at 10 Mbit/s a 1 MB sixel page takes most of a second
METER_WINDOW_BYTES = 512 * 1024  # the rate is taken over at least this much of the output
# A burst of writes smaller than this says nothing of the link (it fits in the terminal's
# buffers), and its time is mostly the writer thread waiting for the GIL: not counted.
MEASURE_FROM_BYTES = 32 * 1024
LOW_SIXEL_COLOURS = 32
LOW_KITTY_SCALE = 0.5


class LinkMeter:
    """Bytes per second the terminal takes: the latest output's bytes over the time its writes
    took (None until `window` bytes have been written).

    Bytes over seconds, not an average of each write's rate: a write that fits in the
    terminal's or the network's buffers returns at once however slow the link, and one such
    write outweighed the seconds-long ones that showed the link (an average of rates read
    44 MB/s on a 2 Mbit/s link after one 69 kB write went into the buffers, so `auto` stayed
    high). Over a window of bytes, the writes that blocked are what the time is made of.
    A burst under `MEASURE_FROM_BYTES` is not counted: each write waits for the GIL after its
    system call (up to 5 ms while the event loop draws), and counted, a stream of small frames
    on a fast local link read as a slow one.
    """

    def __init__(self, window: int = METER_WINDOW_BYTES) -> None:
        self.rate: float | None = None
        self._window = window
        self._samples: deque[tuple[int, float]] = deque()  # (bytes, seconds) of each write
        self._bytes = 0
        self._seconds = 0.0
        self._lock = threading.Lock()

    def record(self, nbytes: int, seconds: float) -> None:
        if nbytes < MEASURE_FROM_BYTES:
            return
        with self._lock:
            self._samples.append((nbytes, max(0.0, seconds)))
            self._bytes += nbytes
            self._seconds += max(0.0, seconds)
            while self._bytes - self._samples[0][0] >= self._window:
                old_bytes, old_seconds = self._samples.popleft()
                self._bytes -= old_bytes
                self._seconds -= old_seconds
            if self._bytes >= self._window:
                self.rate = self._bytes / max(self._seconds, 1e-6)


Picture = str | Callable[[], str]  # a picture's escape sequence, or what makes it


class MeteredFile:
    """A text file (the terminal) whose write-and-flush rounds are timed for a LinkMeter.

    Frames come from Textual's output thread (`write`, `flush`). Pictures that can be sent apart
    from the frame that shows them (kitty's) come through `send_picture` and go out in a lane of
    their own, in order, in pieces that end with an escape sequence (about `CHUNK`), each only
    while no frame is waiting (`frame_queued` counts those Textual has been given but not yet
    written): a frame waits for at most one piece of a picture, never for pictures queued.

    `hand_back(text)` writes `text` as the last thing the terminal gets from this process:
    every later write (frames still queued in Textual's output thread) is dropped. A frame is
    written in chunks, so that waits for one chunk to go out over a slow link, not a whole
    sixel page; a sequence cut off there is ended by the escape that starts `text`.
    """

    CHUNK = 16 * 1024

    def __init__(self, file: Any, meter: LinkMeter, flight: Flight | None = None) -> None:
        self._file = file
        self._meter = meter
        # Bytes in flight bounded and the link timed by the terminal's answers (ui/link.py).
        self.flight = flight if flight is not None and flight.enabled else None
        self._pending = 0
        self._since = 0.0
        self._lock = threading.Lock()  # one chunk at a time (hand_back cuts in between)
        self._order = threading.Lock()  # a whole frame or a whole picture at a time
        self._lane = threading.Condition()
        self._frames_waiting = 0
        self._pictures: deque[Picture] = deque()
        self._lane_thread: threading.Thread | None = None
        self._handed_back = False

    def frame_queued(self) -> None:
        """A frame was given to Textual's output thread: pictures wait until it is written."""
        with self._lane:
            self._frames_waiting += 1
        if self.flight is not None:
            self.flight.frame_queued()

    def write(self, text: str) -> int:
        with self._order:
            if not self._pending:
                self._since = time.perf_counter()
            self._pending += len(text)
            if self.flight is None:
                self._write_chunks(text)
            else:
                for piece in _pieces(text, PROBE_EVERY):
                    # Never waits: Textual's output thread blocked would block its event loop
                    # once 30 frames queue. Pictures in frames were admitted (Flight.admit).
                    self._write_piece(piece, self.flight)
                self.flight.frame_written()
        with self._lane:
            self._frames_waiting = max(0, self._frames_waiting - 1)
            self._lane.notify_all()
        return len(text)

    def _write_chunks(self, text: str) -> None:
        for start in range(0, len(text), self.CHUNK):
            with self._lock:
                if self._handed_back:
                    break
                self._file.write(text[start : start + self.CHUNK])

    def _write_piece(self, piece: str, flight: Flight) -> None:
        """`piece` (ending outside any escape string), then a status request if one is due
        (written and flushed: its answer times the link)."""
        self._write_chunks(piece)
        probe = flight.wrote(len(piece), boundary=True)
        if probe:
            with self._lock:
                if not self._handed_back:
                    self._file.write(probe)
                    self._file.flush()

    def send_picture(self, picture: Picture) -> None:
        """Send `picture` after the frames queued so far, in order with other pictures (a
        callable is called in the lane's thread, so encoding leaves the event loop too)."""
        with self._lane:
            self._pictures.append(picture)
            self._lane.notify_all()
            if self._lane_thread is None:
                self._lane_thread = threading.Thread(
                    target=self._run_lane, name="picture-lane", daemon=True
                )
                self._lane_thread.start()

    @property
    def pictures_waiting(self) -> int:
        return len(self._pictures)

    def _run_lane(self) -> None:
        while True:
            with self._lane:
                self._lane.wait_for(lambda: self._pictures or self._handed_back)
                if self._handed_back:
                    return
                picture = self._pictures.popleft()
            text = picture() if callable(picture) else picture
            if not text:  # no longer wanted (ui/kitty.py: a page flipped past)
                continue
            taken = 0.0  # the time its pieces took to write (not the waits for frames)
            for piece in _pieces(text, self.CHUNK):
                if self.flight is not None:  # room on the link, waited for before the frames'
                    self.flight.wait_room(lambda: self._handed_back)  # turn: they never wait
                with self._lane:  # frames first: wait until none is waiting to be written
                    self._lane.wait_for(lambda: not self._frames_waiting or self._handed_back)
                with self._order:
                    started = time.perf_counter()
                    if self.flight is not None:
                        self._write_piece(piece, self.flight)
                    else:
                        self._write_chunks(piece)
                    with self._lock:
                        if self._handed_back:
                            return
                        self._file.flush()
                    taken += time.perf_counter() - started
            self._meter.record(len(text), taken)

    def flush(self) -> None:
        with self._lock:
            if self._handed_back:
                return
            self._file.flush()
        if self._pending:
            self._meter.record(self._pending, time.perf_counter() - self._since)
            self._pending = 0

    def hand_back(self, text: str, wait: float = 1.0) -> None:
        """Write `text` and flush; nothing written after it reaches the terminal.

        A terminal that takes nothing for `wait` seconds gets `text` anyway, amid the chunk."""
        self._handed_back = True  # first: the writer stops at its next chunk
        locked = self._lock.acquire(timeout=wait)
        try:
            self._file.write(text)
            self._file.flush()
        finally:
            if locked:
                self._lock.release()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


def _pieces(text: str, size: int) -> Iterator[str]:
    """`text` in pieces of about `size` that end where an escape sequence does (after ST), so
    a frame may go out between them: kitty takes other output between the chunks of one
    picture's transmission (only other graphics commands must wait for its last chunk)."""
    start = 0
    while start < len(text):
        end = text.find("\x1b\\", start + size)
        end = len(text) if end < 0 else end + 2
        yield text[start:end]
        start = end


def metered_driver(
    base: type,
    meter: LinkMeter,
    on_output: Callable[[MeteredFile], None] | None = None,
    flight: Flight | None = None,
) -> type:
    """`base` (Textual's Linux driver) writing through a MeteredFile (given to `on_output`)."""
    from anagnorisis_tui.ui.textual_private import driver_output, set_driver_output

    class MeteredDriver(base):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            output = MeteredFile(driver_output(self), meter, flight)
            set_driver_output(self, output)
            if on_output is not None:
                on_output(output)

        def write(self, data: str) -> None:
            driver_output(self).frame_queued()
            super().write(data)

    MeteredDriver.__name__ = base.__name__
    return MeteredDriver


class Pictures:
    """The picture quality in force: the setting, or for `auto` what the link allows."""

    def __init__(
        self, setting: str = "auto", meter: LinkMeter | None = None, flight: Flight | None = None
    ) -> None:
        if setting not in QUALITIES:
            raise ValueError(f"pictures must be one of {', '.join(QUALITIES)}, not {setting!r}")
        self.setting = setting
        self.meter = meter or LinkMeter()
        # Where the terminal answers status requests, the link measured end to end (ui/link.py).
        self.flight = flight if flight is not None and flight.enabled else None
        self.on_change: Callable[[str], None] | None = None
        self._announced = "high"

    @property
    def level(self) -> str:
        if self.setting != "auto":
            return self.setting
        if self.flight is not None:
            level = "low" if self.flight.slow else "high"
        else:
            rate = self.meter.rate
            level = "low" if rate is not None and rate < SLOW_LINK_BYTES_S else "high"
        if level != self._announced:
            self._announced = level
            if self.on_change is not None:
                self.on_change(level)
        return level

    def sixel_options(self) -> Any:
        from textual_image.widget import SixelOptions

        if self.level == "low":
            return SixelOptions(colors=LOW_SIXEL_COLOURS)
        return None  # textual-image's defaults: 256 colours

    @property
    def kitty_scale(self) -> float:
        return LOW_KITTY_SCALE if self.level == "low" else 1.0


def current() -> Pictures:
    """The running app's Pictures (a fixed `high` one outside the app)."""
    from anagnorisis_tui.ui.textual_private import active_app

    found = getattr(active_app(), "pictures", None)
    return found if isinstance(found, Pictures) else _DEFAULT


_DEFAULT = Pictures("high")
_KEY_ATTR = "_anagnorisis_picture_key"
_KEYS = itertools.count(1)


def picture_key(image: object) -> int:
    """A number that stays with this picture object (never reused, unlike id())."""
    key = getattr(image, _KEY_ATTR, None)
    if key is None:
        key = next(_KEYS)
        try:
            setattr(image, _KEY_ATTR, key)
        except AttributeError:
            return key
    return key


SIXEL_KEEP_CHARS = 16 * 1024 * 1024  # kept sixel encodings: ~650 thumbnails (~25 kB each)


class SixelEncoder:
    """Sixel pictures encoded in a thread of their own, and kept for the next time they are drawn.

    Encoding a thumbnail takes several milliseconds (a screen of them, a good part of a second
    on a loaded machine), and in the render it held back the frame that answers a key. Here a
    widget draws what is kept under its key at once, or asks for it (`request`) and draws it
    when told (`done`); a request no longer `wanted` when its turn comes (the user flipped on)
    is dropped unencoded.
    """

    def __init__(self, keep_chars: int = SIXEL_KEEP_CHARS) -> None:
        self._keep_chars = keep_chars
        self._kept: OrderedDict[Hashable, str] = OrderedDict()
        self._chars = 0
        self._cv = threading.Condition()
        self._queue: deque[Hashable] = deque()
        self._makers: dict[Hashable, Callable[[], str]] = {}
        self._waiters: dict[Hashable, list[tuple[Callable[[], bool], Callable[[], None]]]] = {}
        self._thread: threading.Thread | None = None
        self._working = False
        self.encoded = 0  # pictures encoded (for tests and benches)

    @property
    def idle(self) -> bool:
        """Nothing asked for is waiting or being encoded."""
        with self._cv:
            return not self._queue and not self._working

    def get(self, key: Hashable) -> str | None:
        with self._cv:
            data = self._kept.get(key)
            if data is not None:
                self._kept.move_to_end(key)
            return data

    def request(
        self,
        key: Hashable,
        make: Callable[[], str],
        wanted: Callable[[], bool],
        done: Callable[[], None],
    ) -> None:
        """Encode `make()` off the event loop, keep it under `key`, then call `done()` (in the
        encoder's thread) if still `wanted()`; nothing at all if no asker wants it by then."""
        with self._cv:
            self._waiters.setdefault(key, []).append((wanted, done))
            if key not in self._makers:
                self._makers[key] = make
                self._queue.append(key)
                self._cv.notify()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sixel", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._queue)
                key = self._queue.popleft()
                make = self._makers.pop(key)
                waiters = self._waiters.pop(key, [])
                self._working = True
            try:
                waiters = [(wanted, done) for wanted, done in waiters if wanted()]
                data = make() if waiters else None
            except Exception:  # noqa: BLE001 - a picture that cannot be encoded stays blank
                data = None
            with self._cv:
                self._working = False
                if data is None:
                    continue
                self.encoded += 1
                if key not in self._kept:
                    self._kept[key] = data
                    self._chars += len(data)
                while self._chars > self._keep_chars and len(self._kept) > 1:
                    _, old = self._kept.popitem(last=False)
                    self._chars -= len(old)
            for _, done in waiters:
                # RuntimeError: the app's event loop is closed, nobody is left to draw it.
                with contextlib.suppress(RuntimeError):
                    done()


SIXELS = SixelEncoder()
