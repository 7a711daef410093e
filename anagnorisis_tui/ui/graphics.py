"""Which textual-image widget draws images, chosen before the app starts.

textual-image asks the terminal what it supports when it is first imported, and that only works
before Textual takes over stdin, so the CLI calls `image_widget_class` before `App.run`. A forced
choice (`--graphics`, `[ui] graphics`) skips nothing of the detection but overrides its result.
On a 0x0 terminal (a detached pty, some CI runners) textual-image divides by zero while measuring
the cell size; we seed its cache with the usual 10x20 pixel cell instead of crashing.
Its queries wait 0.1 s for an answer, less than a round trip over many SSH links, and the late
answers reached Textual as keys: on a terminal it is imported seeing no terminal (it asks
nothing), and ui/terminal_replies.py asks, waiting for every answer; `auto` follows them.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Type only: importing textual_image.widget queries the terminal (see _import_widgets).
    from anagnorisis_tui.ui.terminal_replies import Replies
    from anagnorisis_tui.ui.textual_private import PictureWidget

GRAPHICS = ("auto", "kitty", "sixel", "halfcell", "unicode")
_DEFAULT_CELL = (10, 20)


def _seed_cell_size() -> None:
    from anagnorisis_tui.ui.textual_private import seed_cell_size

    seed_cell_size(*_DEFAULT_CELL)


def _terminal_is_empty() -> bool:
    stream = sys.__stdout__
    if stream is None:
        return True
    try:
        size = os.get_terminal_size(stream.fileno())
    except (OSError, ValueError):
        return False  # not a terminal: textual-image handles that itself
    return size.columns == 0 or size.lines == 0


class _NotATerminal:
    """stdout as textual-image's import sees it on a terminal: not one, so it asks nothing
    (its 0.1 s waits lose answers over SSH and read typed keys as answers); we ask instead."""

    def __init__(self, stream: object) -> None:
        self._stream = stream

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def _on_a_terminal() -> bool:
    stdin, stdout = sys.__stdin__, sys.__stdout__
    try:
        return bool(stdin and stdout and os.isatty(stdin.fileno()) and os.isatty(stdout.fileno()))
    except (OSError, ValueError):
        return False


def _import_widgets():  # noqa: ANN202 - returns the module
    if "textual_image.widget" in sys.modules:
        return sys.modules["textual_image.widget"]
    if _terminal_is_empty():
        _seed_cell_size()
    from anagnorisis_tui.ui.textual_private import forget_cell_size, terminal_error

    unanswered = terminal_error()
    quiet = _on_a_terminal()
    real = sys.__stdout__
    if quiet:
        sys.__stdout__ = _NotATerminal(real)  # type: ignore[misc]
    try:
        import textual_image.widget as widgets
    except (ZeroDivisionError, unanswered):
        # ZeroDivisionError on 0x0 terminals; TerminalError when stdout is closed.
        sys.modules.pop("textual_image.widget", None)
        _seed_cell_size()
        import textual_image.widget as widgets
    finally:
        sys.__stdout__ = real  # type: ignore[misc]
    if quiet and not _terminal_is_empty():
        # Measured while stdout looked like no terminal: measure again for real (ioctl).
        forget_cell_size()
    return widgets


def image_widget_class(graphics: str = "auto") -> type[PictureWidget]:
    """The textual-image widget class for `graphics` (one of GRAPHICS)."""
    if graphics not in GRAPHICS:
        raise ValueError(f"graphics must be one of {', '.join(GRAPHICS)}, not {graphics!r}")
    from anagnorisis_tui.ui.textual_private import renderable_of

    widgets = _import_widgets()
    replies = _settle_terminal()
    sixel = _fixed_sixel_class()
    auto = sixel if widgets.Image is widgets.SixelImage else widgets.Image
    if auto is widgets.AutoImage and renderable_of(widgets.AutoImage) is widgets.TGPRenderable:
        auto = widgets.TGPImage
    answered = None if replies is None else replies.best_graphics() or "halfcell"
    if answered is not None:
        auto = {"sixel": sixel, "kitty": widgets.TGPImage, "halfcell": widgets.HalfcellImage}[
            answered
        ]
    chosen = {
        "auto": auto,
        "kitty": widgets.TGPImage,
        "sixel": sixel,
        "halfcell": widgets.HalfcellImage,
        "unicode": widgets.UnicodeImage,
    }[graphics]
    if renderable_of(chosen) is widgets.HalfcellRenderable:
        # Half cells (tmux, SSH, most CI terminals) are text: paint them from cached strips.
        return _cached_halfcell_class(chosen)
    if chosen is widgets.TGPImage:
        # Each picture sent once and then only placed (ui/pictures.py).
        return _kitty_class()
    return chosen


_TYPED_AT_START: list[tuple[str, str | None]] = []
_SIXEL_MAX: tuple[int, int] | None = None  # the terminal's largest sixel picture, pixels


def _settle_terminal() -> Replies | None:
    """Ask the terminal what it can draw and collect every answer (None off a terminal)."""
    if not _on_a_terminal():
        return None
    stdin, stdout = sys.__stdin__, sys.__stdout__
    assert stdin is not None and stdout is not None
    try:
        stdout.flush()
        from anagnorisis_tui.ui.terminal_replies import settle, typed_keys

        replies = settle(stdin.fileno(), stdout.fileno())
    except (OSError, ValueError):
        return None
    from anagnorisis_tui.ui.textual_private import cell_size_known, seed_cell_size, window_pixels

    if not cell_size_known():
        try:
            rows, cols, width, height = window_pixels()
            cell = (width // cols, height // rows) if rows and cols else (0, 0)
        except OSError:
            cell = (0, 0)
        if not all(cell):  # no pixel size from the kernel: the terminal's answer, else 10x20
            cell = replies.cell or _DEFAULT_CELL
        seed_cell_size(*cell)
    _TYPED_AT_START.extend(typed_keys(replies.typed))
    global _SIXEL_MAX, _STATUS_ROUND_TRIP
    _SIXEL_MAX = replies.sixel_limit
    _STATUS_ROUND_TRIP = replies.round_trip
    return replies


_STATUS_ROUND_TRIP: float | None = None  # the terminal answered a status request, this fast


def status_round_trip() -> float | None:
    """Seconds the terminal took to answer the status request asked before start-up (None: it
    did not answer, or it was not asked): the app's link measure needs those answers."""
    return _STATUS_ROUND_TRIP


def take_typed_at_start() -> list[tuple[str, str | None]]:
    """Keys typed while the terminal was being asked, for the app to replay once (in order)."""
    keys = list(_TYPED_AT_START)
    _TYPED_AT_START.clear()
    return keys


_KITTY_CLASS: type[PictureWidget] | None = None


def _kitty_class() -> type[PictureWidget]:
    global _KITTY_CLASS
    if _KITTY_CLASS is None:
        from anagnorisis_tui.ui.kitty import kitty_class

        _KITTY_CLASS = kitty_class()  # type: ignore[assignment]
    return _KITTY_CLASS  # type: ignore[return-value]


_HALFCELL_CLASSES: dict[type[PictureWidget], type[PictureWidget]] = {}


def _cached_halfcell_class(base: type[PictureWidget]) -> type[PictureWidget]:
    from anagnorisis_tui.ui.widgets.grid.halfcell import cached_class

    if base not in _HALFCELL_CLASSES:
        _HALFCELL_CLASSES[base] = cached_class(base)
    return _HALFCELL_CLASSES[base]


_SIXEL_CLASS: type[PictureWidget] | None = None


def _fixed_sixel_class() -> type[PictureWidget]:
    """textual-image 0.12's sixel widget with the cursor put back on the image's last row.

    After drawing, it moves the cursor to the row *below* the image (visible_region.bottom), so
    the rest of that screen line is written one row too low and the line itself keeps stale
    content from the previous screen (seen in xterm: remnants beside a large image).
    """
    global _SIXEL_CLASS
    if _SIXEL_CLASS is not None:
        return _SIXEL_CLASS
    import asyncio
    from functools import partial

    from rich.control import Control
    from rich.segment import Segment
    from textual.dom import NoScreen
    from textual.strip import Strip
    from textual_image.widget import sixel as sixel_module

    from anagnorisis_tui.ui.pictures import SIXELS, current, picture_key
    from anagnorisis_tui.ui.sixel_palette import palette_first
    from anagnorisis_tui.ui.textual_private import cell_size, image_size, pixel_data, sixel_classes

    sixel_impl, noop_renderable = sixel_classes()

    class _SixelImpl(sixel_impl):  # type: ignore[misc, valid-type]
        def render_lines(self, crop):  # noqa: ANN001, ANN201 - Textual's Region, list[Strip]
            # textual-image encodes the picture here, in the frame: a screen of thumbnails held
            # a key's answer back by a good part of a second. The encoding is made off the event
            # loop instead (ui/pictures.py SixelEncoder): until it is there the cell is drawn
            # blank, so the frame after a key shows its text at once and the picture follows.
            try:
                if not self.image or not self.screen.is_active:
                    return []
            except NoScreen:
                return []
            image = self.image
            if getattr(self, "fixed_options", None) is None:
                # The quality in force now: `auto` turns low once the link is measured slow,
                # and a grid's picture widgets live as long as the grid (set once, the switch
                # reached only viewer pictures, after megabytes).
                self._sixel_options = current().sixel_options()
            # Asked for some of its lines (something else on them changed: the cell's
            # placeholder text going away), it draws the whole picture it shows, as kept; a
            # picture of those lines alone, encoded meanwhile, left them black until redrawn.
            asked, crop = crop, self._shown_part(crop)
            cells = cell_size()
            background = self._get_background_rgba()
            size = self.content_size
            # The background shows only through a transparent picture: an opaque one is not
            # encoded again when its cell's background changes (the grid's cursor).
            see_through = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            shows = background if see_through else None
            key = (picture_key(image), crop, size, cells, self._sixel_options, shows)
            sixel_data = SIXELS.get(key)
            if sixel_data is None:
                styled = self.parent._get_styled_size()
                width, height = image_size(image, styled[0], styled[1]).get_pixel_size(
                    size.width, size.height, cells
                )
                loop = asyncio.get_running_loop()
                # Asked once this frame is out (the event loop runs nothing else before): an
                # encoder started now would share the GIL with the rest of the frame.
                loop.call_soon(
                    partial(
                        SIXELS.request,
                        key,
                        partial(self._encode, image, (width, height), crop, cells, background),
                        wanted=lambda: self.is_attached and self.image is image,
                        done=lambda: loop.call_soon_threadsafe(self._encoded, image),
                    )
                )
                return self._not_yet(asked, crop)
            flight = current().flight
            new = key != getattr(self, "_drawn", None)  # not on screen yet (Textual renders
            # every picture for each frame, writing only the lines that changed)
            reserved = getattr(self, "_reserved", None) == key  # admitted by _room
            if new and flight is not None and not reserved and not flight.admit(len(sixel_data)):
                # The link holds as much as it carries in a moment: the picture waits here,
                # where a page flip or `q` drops it, and is drawn once answers make room.
                if not getattr(self, "_room_asked", False):
                    self._room_asked = True
                    loop = asyncio.get_running_loop()
                    room = partial(self._room, image, key, len(sixel_data))
                    flight.when_room(partial(_call_soon, loop, room))
                return self._not_yet(asked, crop)
            self._drawn = key
            self._reserved = None
            segments = self._get_sixel_segments(sixel_data)
            return [Strip([])] * (asked.height - 1) + [Strip(segments, cell_length=asked.width)]

        def _shown_part(self, crop):  # noqa: ANN001, ANN202 - Textual's Region
            """The part of the picture on screen, if `crop` is within it (else `crop`)."""
            from textual.geometry import Region

            try:
                geometry = self.screen.find_widget(self)
            except Exception:  # noqa: BLE001 - not on screen (NoWidget, NoScreen): as asked
                return crop
            visible, region = geometry.visible_region, geometry.region
            shown = Region(visible.x - region.x, visible.y - region.y, *visible.size)
            return shown if shown.contains_region(crop) else crop

        def _not_yet(self, asked, shown):  # noqa: ANN001, ANN202 - Regions, list[Strip]
            """Lines while the picture is not drawn: blank for the whole picture; left as they
            are for some of its lines (the picture on screen stays until the new one comes)."""
            if asked != shown:
                return [Strip([])] * asked.height
            self._drawn = None
            return [Strip.blank(asked.width, self.rich_style)] * asked.height

        def _encode(self, image, pixels, crop, cells, background) -> str:  # noqa: ANN001
            """In the encoder's thread: no DOM here, only the picture and the numbers."""
            data = self._crop_image(pixel_data(image).scaled(*pixels), crop, cells)
            sixel = self._image_to_sixels(data.pil_image, self._sixel_options, background)
            return palette_first(sixel)  # xterm drew the first band wrong (ui/sixel_palette.py)

        def _encoded(self, image) -> None:  # noqa: ANN001
            if self.is_attached and self.image is image:
                self.refresh()

        def _room(self, image, key, nbytes: int) -> None:  # noqa: ANN001
            """Answers made room: the picture is admitted here, then drawn. Redrawn only to be
            refused again, its lines were written over the pictures beside it, which were sent
            again whole, filled the room, and kept it refused: on a loaded machine at 2 Mbit/s
            the app sent 90 kB/s for minutes after its last key."""
            self._room_asked = False
            if not (self.is_attached and self.image is image):
                return
            flight = current().flight
            if flight is None or flight.admit(nbytes):
                self._reserved = key
                self.refresh()
                return
            self._room_asked = True
            loop = asyncio.get_running_loop()
            flight.when_room(partial(_call_soon, loop, partial(self._room, image, key, nbytes)))

        def _crop_image(self, image, crop, terminal_sizes):  # noqa: ANN001, ANN202
            # A terminal that shows sixel pictures only up to a size (xterm: 1000x1000 by
            # default) draws nothing at all for a larger one: the viewer stayed black. The
            # picture as cut for the screen is scaled down to fit (a crop is padded to the
            # cells it covers, so this comes after it).
            cut = super()._crop_image(image, crop, terminal_sizes)
            if _SIXEL_MAX is None:
                return cut
            fit = min(_SIXEL_MAX[0] / max(1, cut.width), _SIXEL_MAX[1] / max(1, cut.height))
            if fit >= 1.0:
                return cut
            return cut.scaled(max(1, int(cut.width * fit)), max(1, int(cut.height * fit)))

        def _get_sixel_segments(self, sixel_data: str) -> list[Segment]:
            segments = list(super()._get_sixel_segments(sixel_data))
            region = self.screen.find_widget(self).visible_region
            move = Control.move_to(region.right, max(region.y, region.bottom - 1))
            segments[-1] = Segment(move.segment.text, style=segments[-1].style)
            return segments

    class SixelImage(sixel_module.Image, Renderable=noop_renderable):
        def compose(self):  # noqa: ANN201 - Textual's ComposeResult
            from anagnorisis_tui.ui.pictures import current

            # The palette follows the picture quality in force (ui/pictures.py), as it changes.
            impl = _SixelImpl(self.image, self._sixel_options or current().sixel_options())
            impl.fixed_options = self._sixel_options
            yield impl

    _SIXEL_CLASS = SixelImage
    return SixelImage


def _call_soon(loop: object, callback: object) -> None:
    """`callback` on the event loop `loop`, from another thread (nothing once it is closed)."""
    import asyncio
    import contextlib

    assert isinstance(loop, asyncio.AbstractEventLoop) and callable(callback)
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(callback)


def protocol_name(cls: type[PictureWidget]) -> str:
    """The protocol a widget class draws with: sixel, kitty, halfcell or unicode."""
    from anagnorisis_tui.ui.textual_private import renderable_of

    module = renderable_of(cls).__module__.rsplit(".", 1)[-1]
    if module == "pictures":
        return "kitty"
    return {"tgp": "kitty"}.get(module, module)
