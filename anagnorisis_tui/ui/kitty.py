"""kitty graphics that fit the link: each picture sent once, after its frame, and only if wanted.

textual-image's kitty widget sends the picture with every repaint. Here (`kitty_class()`) a
picture is sent once per size and afterwards only placed again; the terminal keeps the last
`KITTY_KEEP`. The frame draws the picture's placeholder cells at once; the picture itself is a
`Transmission` that goes out after that frame in the output's picture lane
(pictures.MeteredFile.send_picture), so a key's answer never waits behind picture data. kitty
shows placeholder cells written before their picture as soon as its virtual placement arrives
(it redraws every placeholder line when one does: kitty/screen.c,
screen_handle_graphics_command).

A transmission is made and sent only if, when its turn in the lane comes, a widget still shows
that picture: one queued for a page the user has flipped past is dropped unsent (at 2 Mbit/s a
page of pictures takes seconds). Shown again later, it is queued again. One already going out
is finished, so the terminal never holds half a picture.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from textual.widget import Widget

from anagnorisis_tui.ui.pictures import MeteredFile, Picture, current, picture_key

KITTY_KEEP = 400  # pictures left in the terminal for reuse (~50 MB of kitty's 320 MB quota)


class Transmission:
    """One picture at one size for the terminal: made and sent by the lane if still wanted.

    `state`: "queued", then "sent" (made in the lane and written) or "dropped" (no widget
    showed it any more when its turn came; drawn again, it is queued again)."""

    def __init__(self, image_id: int, key: int, make: Callable[[], str]) -> None:
        self.image_id = image_id
        self.key = key  # picture_key of the picture it carries
        self._make = make
        self._owners: list[weakref.ref[Widget]] = []
        self._lock = threading.Lock()
        self.state = "queued"

    def wanted_by(self, widget: Widget) -> None:
        with self._lock:
            # Only a queued one asks who wants it: every repaint of a sent picture lands here.
            if self.state == "queued" and not any(ref() is widget for ref in self._owners):
                self._owners.append(weakref.ref(widget))

    def _wanted(self) -> bool:
        for ref in self._owners:
            widget = ref()
            image = getattr(widget, "_image", None)
            if (
                widget is not None
                and image is not None
                and widget.is_attached
                and picture_key(image) == self.key
            ):
                return True
        return False

    def __call__(self) -> str:
        """In the picture lane: the escape sequences to write, or "" if nobody wants them."""
        with self._lock:
            if self.state != "queued":
                return ""
            if not self._wanted():
                self.state = "dropped"
                return ""
            self.state = "sent"
        return self._make()

    @property
    def dropped(self) -> bool:
        with self._lock:
            return self.state == "dropped"


def _send_after_frame(picture: Picture) -> None:
    """Send `picture` after the frame now being drawn, in the output's picture lane (without
    one, e.g. headless: made now and written in order with the frames)."""
    from anagnorisis_tui.ui.textual_private import active_app, driver_of, driver_output

    driver = driver_of(active_app())
    if driver is None:
        return
    output = driver_output(driver)
    if isinstance(output, MeteredFile):
        # Called while the frame is being rendered: queued once it has been given to the
        # output thread (it is, before the event loop runs anything else).
        try:
            asyncio.get_running_loop().call_soon(output.send_picture, picture)
        except RuntimeError:  # not rendering in the event loop
            output.send_picture(picture)
    else:
        driver.write(picture() if callable(picture) else picture)


def kitty_class() -> type[Widget]:
    """textual-image's kitty widget sending each picture once per size, then placing it."""
    from functools import partial

    from rich.console import Console, ConsoleOptions
    from rich.segment import Segment
    from textual_image.renderable import tgp

    from anagnorisis_tui.ui.textual_private import (
        cell_size,
        next_kitty_image_id,
        picture_widget_base,
        pixel_data,
    )

    BaseImage: Any = picture_widget_base()

    sent: OrderedDict[tuple[int, int, int, int, int, float], Transmission] = OrderedDict()

    def message(payload: str = "", **keys: object) -> str:
        args = ",".join(f"{k}={v}" for k, v in keys.items() if v is not None)
        return f"\x1b_G{args}{';' + payload if payload else ''}\x1b\\"

    def transmission(
        image: Any, image_id: int, width: int, height: int, cells: tuple[int, int]
    ) -> str:
        """The picture as PNG at `width` x `height` pixels, then its virtual placement."""
        data = pixel_data(image).scaled(width, height).to_base64()
        parts = [data[i : i + 4096] for i in range(0, len(data), 4096)] or [""]
        out = [
            message(part, i=image_id, m=int(n < len(parts) - 1), f=100, q=2)
            for n, part in enumerate(parts)
        ]
        out.append(message(a="p", i=image_id, c=cells[0], r=cells[1], U=1, q=2))
        return "".join(out)

    class ReusedRenderable(tgp.Image):
        owner: weakref.ref[Widget] | None = None  # the widget drawing it (set by its render)

        def __init__(self, image: Any, width: Any = None, height: Any = None) -> None:
            super().__init__(image, width, height)
            self._key = picture_key(image)

        def cleanup(self) -> None:
            """Kept in the terminal: the same picture is placed again without resending."""

        def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
            sizes = cell_size()
            size = self._render_size
            cells = size.get_cell_size(options.max_width, options.max_height, sizes)
            pixels = size.get_pixel_size(options.max_width, options.max_height, sizes)
            scale = current().kitty_scale
            key = (self._key, *pixels, *cells, scale)
            owner = self.owner() if self.owner is not None else None
            known = sent.get(key)
            if known is None or known.dropped:
                image_id = (
                    known.image_id
                    if known is not None  # never reached the terminal: its id is free
                    else next_kitty_image_id() & 0xFFFFFFFF or 1
                )
                width, height = (max(1, round(p * scale)) for p in pixels)
                make = partial(
                    transmission, self._image_data.pil_image, image_id, width, height, cells
                )
                known = Transmission(image_id, self._key, make)
                if owner is not None:
                    known.wanted_by(owner)
                _send_after_frame(known if owner is not None else make)
                KittyImage.transmitted += 1
                sent[key] = known
                while len(sent) > KITTY_KEEP:
                    _, old = sent.popitem(last=False)
                    _send_after_frame(message(a="d", d="I", i=old.image_id, q=2))
            else:
                if owner is not None:
                    known.wanted_by(owner)
                sent.move_to_end(key)
            self.terminal_image_id = known.image_id
            yield from self._render_diacritics(*cells)

    class KittyImage(BaseImage, Renderable=ReusedRenderable):  # type: ignore[call-arg]
        transmitted = 0  # pictures queued for the terminal (not placements), for tests/benches

        def render(self) -> Any:
            out = super().render()
            if isinstance(out, ReusedRenderable):
                out.owner = weakref.ref(self)
            return out

    KittyImage.sent = sent
    return KittyImage
