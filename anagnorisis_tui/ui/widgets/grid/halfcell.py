"""Half-cell pictures drawn from cached strips instead of through Rich on every repaint.

textual-image's half-cell widget builds a new Rich renderable on each render and Rich then makes
one Style, two Colors and one Segment per character and splits them into lines again: about 4 ms
per thumbnail on this machine, 20 thumbnails a page flip, and again whenever the widget is asked
to repaint. Here the same pixels (textual-image's own geometry and scaling) become Strips once per
(picture, cell size), kept on the PIL image itself so they live exactly as long as the thumbnail
cache keeps that image. `prerender` fills that cache from a worker thread, so a page flip to
thumbnails read ahead paints strips that already exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image as PILImage
from rich.color import Color
from rich.color_triplet import ColorTriplet
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from anagnorisis_tui.ui.textual_private import cell_size, image_size, pixel_data, renderable_of

if TYPE_CHECKING:
    from anagnorisis_tui.ui.textual_private import PictureWidget

_ATTR = "_anagnorisis_halfcell"  # per-image dict: (width, height) -> list[Strip]
_STYLES: dict[tuple[int, int, int, int, int, int], Style] = {}
_STYLES_MAX = 1 << 16


def _style(key: tuple[int, int, int, int, int, int]) -> Style:
    style = _STYLES.get(key)
    if style is None:
        # The same Style textual-image makes: upper pixel as foreground, lower as background.
        style = Style(
            color=Color.from_triplet(ColorTriplet(*key[:3])),
            bgcolor=Color.from_triplet(ColorTriplet(*key[3:])),
        )
        if len(_STYLES) >= _STYLES_MAX:
            _STYLES.clear()
        _STYLES[key] = style
    return style


def render_size(
    image: PILImage.Image,
    width: int,
    height: int,
    styled: tuple[int | str | None, int | str | None] = ("auto", "auto"),
) -> tuple[int, int]:
    """The cells textual-image's half-cell renderable fills inside a `width` x `height` box.

    `styled` is the widget's CSS width and height as textual-image reads them (auto, an int or
    None); the grid's thumbnails are auto-sized.
    """
    size = image_size(image, styled[0], styled[1])
    return size.get_cell_size(width, height, cell_size())


def fitted_size(image: PILImage.Image, width: int, height: int) -> tuple[int, int]:
    """The size an auto-sized image widget takes in a `width` x `height` container."""
    fitted_width, _ = render_size(image, width, height or 2**32)
    _, fitted_height = render_size(image, fitted_width, height or 2**32)
    return render_size(image, fitted_width, fitted_height)


def strips(image: PILImage.Image, width: int, height: int) -> list[Strip]:
    """`image` as half-cell strips exactly `width` x `height` cells (cached on the image)."""
    # The strips live on the PIL image (an attribute Pillow does not know), so they go with it.
    cache: dict[tuple[int, int], list[Strip]] | None = getattr(image, _ATTR, None)
    if cache is None:
        cache = {}
        setattr(image, _ATTR, cache)
    found = cache.get((width, height))
    if found is not None:
        return found
    if width <= 0 or height <= 0:
        return []
    scaled = pixel_data(image, mode="rgb").scaled(width, height * 2).pil_image
    raw = scaled.tobytes()
    row_bytes = width * 3
    lines: list[Strip] = []
    # Worker threads share the style table: dict reads and writes are atomic, and a style made
    # twice by a race is merely equal, not wrong.
    for y in range(height):
        upper = raw[2 * y * row_bytes : (2 * y + 1) * row_bytes]
        lower = raw[(2 * y + 1) * row_bytes : (2 * y + 2) * row_bytes]
        segments = [
            Segment("▀", _style((*upper[x : x + 3], *lower[x : x + 3])))
            for x in range(0, row_bytes, 3)
        ]
        lines.append(Strip(segments, width))
    cache[(width, height)] = lines
    return lines


def prerender(image: PILImage.Image, box: tuple[int, int]) -> None:
    """Make the strips an auto-sized image widget inside `box` (cells) will paint."""
    width, height = fitted_size(image, *box)
    strips(image, width, height)


def prerendered(image: PILImage.Image, box: tuple[int, int]) -> bool:
    """Whether `prerender(image, box)` has nothing left to do."""
    cache = getattr(image, _ATTR, None)
    return cache is not None and fitted_size(image, *box) in cache


class PaintsAhead:
    """Marks a picture class whose strips `prerender` can make from a worker thread."""


def paints_ahead(image_class: type) -> bool:
    """Whether `prerender` makes what pictures of `image_class` paint (see the grid's loader)."""
    return issubclass(image_class, PaintsAhead)


def cached_class(base: type[PictureWidget]) -> type[PictureWidget]:
    """`base` (a textual-image widget with the half-cell renderable) painting cached strips."""

    class CachedHalfcellImage(base, PaintsAhead, Renderable=renderable_of(base)):  # type: ignore[misc, valid-type, call-arg]
        prerender = staticmethod(prerender)
        prerendered = staticmethod(prerendered)

        def render_line(self, y: int) -> Strip:
            image = self._image
            if not isinstance(image, PILImage.Image):
                return super().render_line(y)
            width, height = self.content_size
            styled = self._get_styled_size()
            lines = strips(image, *render_size(image, width, height, styled))
            if y < len(lines):
                return lines[y]
            return Strip.blank(width, self.visual_style.rich_style)

    CachedHalfcellImage.__name__ = base.__name__
    CachedHalfcellImage.__qualname__ = base.__qualname__
    return CachedHalfcellImage
