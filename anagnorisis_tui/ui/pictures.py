"""Pictures sized to the link: a quality level, the link's measured speed, kitty image reuse.

Over SSH every picture crosses the network: with sixel a page flip of a 160x48 grid is about
1 MB, with kitty graphics textual-image sends each thumbnail again on every repaint. Here:

- `LinkMeter` times the app's writes to the terminal in Textual's output thread (the terminal
  or the SSH channel blocks those writes once its buffer is full), so the app knows how many
  bytes per second actually get through: the last half megabyte's bytes over the seconds its
  writes took.
- `Pictures` turns the `[ui] pictures` setting (auto, high, low) into what the widgets draw:
  `low` sends sixel with 32 colours and kitty pictures at half resolution (the terminal scales
  them up to the same cells); `auto` is `high` until the link is measured slower than
  `SLOW_LINK_BYTES_S`, then `low` (and the app says so once).
- `kitty_class()`: a kitty graphics widget that sends each picture (at each size) once and
  afterwards only places it, through Textual's output thread, never blocking the event loop;
  the terminal keeps the last `KITTY_KEEP` pictures.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from typing import Any

from textual.widget import Widget

QUALITIES = ("auto", "high", "low")
SLOW_LINK_BYTES_S = 2.5e6  # 20 Mbit/s: at 10 Mbit/s a 1 MB sixel page takes most of a second
METER_WINDOW_BYTES = 512 * 1024  # the rate is taken over at least this much of the output
KITTY_KEEP = 400  # pictures left in the terminal for reuse (~50 MB of kitty's 320 MB quota)
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
    """

    def __init__(self, window: int = METER_WINDOW_BYTES) -> None:
        self.rate: float | None = None
        self._window = window
        self._samples: deque[tuple[int, float]] = deque()  # (bytes, seconds) of each write
        self._bytes = 0
        self._seconds = 0.0
        self._lock = threading.Lock()

    def record(self, nbytes: int, seconds: float) -> None:
        if nbytes <= 0:
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


class MeteredFile:
    """A text file (the terminal) whose write-and-flush rounds are timed for a LinkMeter.

    `hand_back(text)` writes `text` as the last thing the terminal gets from this process:
    every later write (frames still queued in Textual's output thread) is dropped. A frame is
    written in chunks, so that waits for one chunk to go out over a slow link, not a whole
    sixel page; a sequence cut off there is ended by the escape that starts `text`.
    """

    CHUNK = 16 * 1024

    def __init__(self, file: Any, meter: LinkMeter) -> None:
        self._file = file
        self._meter = meter
        self._pending = 0
        self._since = 0.0
        self._lock = threading.Lock()
        self._handed_back = False

    def write(self, text: str) -> int:
        if not self._pending:
            self._since = time.perf_counter()
        self._pending += len(text)
        for start in range(0, len(text), self.CHUNK):
            with self._lock:
                if self._handed_back:
                    break
                self._file.write(text[start : start + self.CHUNK])
        return len(text)

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


def metered_driver(
    base: type, meter: LinkMeter, on_output: Callable[[MeteredFile], None] | None = None
) -> type:
    """`base` (Textual's Linux driver) writing through a MeteredFile (given to `on_output`)."""

    class MeteredDriver(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._file = MeteredFile(self._file, meter)
            if on_output is not None:
                on_output(self._file)

    MeteredDriver.__name__ = base.__name__
    return MeteredDriver


class Pictures:
    """The picture quality in force: the setting, or for `auto` what the link allows."""

    def __init__(self, setting: str = "auto", meter: LinkMeter | None = None) -> None:
        if setting not in QUALITIES:
            raise ValueError(f"pictures must be one of {', '.join(QUALITIES)}, not {setting!r}")
        self.setting = setting
        self.meter = meter or LinkMeter()
        self.on_change: Callable[[str], None] | None = None
        self._announced = "high"

    @property
    def level(self) -> str:
        if self.setting != "auto":
            return self.setting
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
    try:
        from textual._context import active_app

        found = getattr(active_app.get(), "pictures", None)
    except LookupError:
        found = None
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


def _emit(sequence: str) -> None:
    """Through Textual's output thread, in order with the frames (not straight to stdout)."""
    from textual._context import active_app

    try:
        driver = active_app.get()._driver
    except LookupError:
        driver = None
    if driver is not None:
        driver.write(sequence)


def kitty_class() -> type[Widget]:
    """textual-image's kitty widget sending each picture once per size, then placing it."""
    from rich.console import Console, ConsoleOptions
    from rich.segment import Segment
    from textual_image._pixeldata import PixelData
    from textual_image._terminal import get_cell_size
    from textual_image.renderable import tgp
    from textual_image.widget._base import Image as BaseImage

    sent: OrderedDict[tuple[int, int, int, int, int, float], int] = OrderedDict()

    def message(payload: str = "", **keys: object) -> str:
        args = ",".join(f"{k}={v}" for k, v in keys.items() if v is not None)
        return f"\x1b_G{args}{';' + payload if payload else ''}\x1b\\"

    class ReusedRenderable(tgp.Image):
        def __init__(self, image: Any, width: Any = None, height: Any = None) -> None:
            super().__init__(image, width, height)
            self._key = picture_key(image)

        def cleanup(self) -> None:
            """Kept in the terminal: the same picture is placed again without resending."""

        def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
            sizes = get_cell_size()
            size = self._render_size
            cells = size.get_cell_size(options.max_width, options.max_height, sizes)
            pixels = size.get_pixel_size(options.max_width, options.max_height, sizes)
            scale = current().kitty_scale
            key = (self._key, *pixels, *cells, scale)
            image_id = sent.get(key)
            if image_id is None:
                image_id = next(tgp.Image._image_id_counter) & 0xFFFFFFFF or 1
                width, height = (max(1, round(p * scale)) for p in pixels)
                data = PixelData(self._image_data.pil_image).scaled(width, height).to_base64()
                parts = [data[i : i + 4096] for i in range(0, len(data), 4096)] or [""]
                out = [
                    message(part, i=image_id, m=int(n < len(parts) - 1), f=100, q=2)
                    for n, part in enumerate(parts)
                ]
                out.append(message(a="p", i=image_id, c=cells[0], r=cells[1], U=1, q=2))
                _emit("".join(out))
                KittyImage.transmitted += 1
                sent[key] = image_id
                while len(sent) > KITTY_KEEP:
                    _, old = sent.popitem(last=False)
                    _emit(message(a="d", d="I", i=old, q=2))
            else:
                sent.move_to_end(key)
            self.terminal_image_id = image_id
            yield from self._render_diacritics(*cells)

    class KittyImage(BaseImage, Renderable=ReusedRenderable):  # type: ignore[misc, call-arg]
        transmitted = 0  # pictures sent to the terminal (not placements), for tests and benches

    KittyImage.sent = sent  # type: ignore[attr-defined]
    return KittyImage
