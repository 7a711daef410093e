"""Every use of Textual's and textual-image's private API, in one place.

The app needs a few things neither library offers publicly (reading a key as the user typed it,
seeing which bindings a key would run, sending pictures after a frame, painting half-cells and
sixels off the event loop). Each is reached through a function here, never directly, and each
is either named with its public alternative or checked by tests/unit/test_textual_private.py,
which fails when a new Textual or textual-image release changes it. pyproject.toml pins both
libraries to the range those tests passed on; widen the pin only after running them.

| private name | used for | public alternative |
| --- | --- | --- |
| `textual._context.active_app` | the running app from a renderable (no widget at hand) | none outside a widget (`widget.app`); tested |
| `app._driver`, the driver's `_file` | sends pictures in the output's lane; meters the link | none (`App.driver` reads only); tested |
| `textual._xterm_parser.XTermParser`, `linux_driver.XTermParser` | Escape-then-key read as two keys | none; tested |
| `DOMNode._bindings`, `App._keymap` | which binding a key runs (type-ahead, quick quit) | `App.active_bindings` lists only the focused chain's, without the keymap; tested |
| `App._exit` | a type-ahead wait ends when the app is exiting | `App.return_code` is set only once it has exited; tested |
| `Screen._callbacks`, `Screen._modal_binding_chain` | a screen is steady; a key is bound | none; tested |
| `textual_image._terminal`: `get_cell_size` (and its cached `_result`), `CellSize`, `get_tiocgwinsz`, `TerminalError` | pixels per cell, seeded or measured once | none; tested |
| `textual.keys._character_to_key` | keys typed before the first paint, named as Textual names them | none; tested |
| `textual_image._pixeldata.PixelData`, `_geometry.ImageSize` | scale and size pictures as the widgets do | none (the widgets do it in the frame); tested |
| `textual_image.widget._base.Image`, `<widget>._Renderable` | the picture widget base class; which protocol a class draws with | the public classes (`TGPImage`, `SixelImage`, `HalfcellImage`, `UnicodeImage`) for choosing; tested |
| `textual_image.widget.sixel._ImageSixelImpl`, `_NoopRenderable` and the methods ui/graphics.py overrides (`_crop_image`, `_get_sixel_segments`, `_image_to_sixels`, `_get_background_rgba`, `_sixel_options`) | sixels encoded off the event loop | none; tested |
| `textual_image.renderable.tgp.Image._image_id_counter`, and `_render_size`, `_image_data`, `_render_diacritics` that ui/kitty.py's subclass uses | kitty pictures sent once, then placed | none; tested |
| the Linux driver's `run_input_thread` reading `linux_driver.XTermParser`, its `_file`, `process_message` (ui/key_input.py, ui/pictures.py, ui/quick_quit.py subclass it) | keys read as typed; the link metered; quit keys seen on the input thread | none; tested |

The App's mode stacks (`App._screen_stacks`) were used here too; ui/app.py now records each
mode's base screen itself when it switches to it (`AnagnorisisApp.base_screen`), public API only.

Importing `textual_image.widget` asks the terminal what it can draw, so every textual-image
name is imported inside the function that needs it, never when this module is imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from textual._xterm_parser import XTermParser

if TYPE_CHECKING:
    from PIL import Image as PILImage
    from textual.app import App
    from textual.binding import BindingsMap
    from textual.dom import DOMNode
    from textual.screen import Screen
    from textual_image.widget._base import Image as PictureWidget

__all__ = [
    "PictureWidget",
    "XTermParser",
    "active_app",
    "bindings_of",
    "cell_size",
    "cell_size_known",
    "driver_of",
    "driver_output",
    "forget_cell_size",
    "has_pending_callbacks",
    "image_size",
    "is_exiting",
    "key_name",
    "keymap_of",
    "modal_binding_chain",
    "next_kitty_image_id",
    "picture_widget_base",
    "pixel_data",
    "renderable_of",
    "seed_cell_size",
    "set_driver_output",
    "sixel_classes",
    "terminal_error",
    "use_input_parser",
    "window_pixels",
]


# -- Textual -------------------------------------------------------------------------------
def active_app() -> App[Any] | None:
    """The app running in this context (None outside one)."""
    from textual._context import active_app as current

    try:
        return current.get()
    except LookupError:
        return None


def driver_of(app: App[Any] | None) -> Any:
    """The app's driver (None: none yet)."""
    return getattr(app, "_driver", None)


def driver_output(driver: Any) -> Any:
    """What a driver writes to (None where it has no file, e.g. headless)."""
    return getattr(driver, "_file", None)


def set_driver_output(driver: Any, output: Any) -> None:
    """Make the driver write through `output` (its own file, wrapped)."""
    driver._file = output


def use_input_parser(parser_class: type[XTermParser]) -> None:
    """The Linux driver's input thread builds its parser from this module-level name."""
    from textual.drivers import linux_driver

    setattr(linux_driver, "XTermParser", parser_class)  # noqa: B010 - not an exported name


def key_name(character: str) -> str:
    """Textual's key name for a printable character (as its input parser names it)."""
    from textual.keys import _character_to_key

    return _character_to_key(character)


def bindings_of(node: DOMNode) -> BindingsMap:
    """A copy of the bindings `node` itself declares (before the app's keymap)."""
    return node._bindings.copy()


def keymap_of(app: App[Any]) -> dict[str, str]:
    """The user's keymap the app applies (binding id -> keys)."""
    return dict(app._keymap)


def is_exiting(app: App[Any]) -> bool:
    """Whether the app was asked to exit (set by `App.exit`)."""
    return bool(app._exit)


def has_pending_callbacks(screen: Screen[Any]) -> bool:
    """Whether the screen still has callbacks queued to run after its refresh."""
    return bool(screen._callbacks)


def modal_binding_chain(screen: Screen[Any]) -> Iterator[tuple[DOMNode, BindingsMap]]:
    """The (node, bindings) a key may run on `screen`, focused node first, up to a modal."""
    return iter(screen._modal_binding_chain)


# -- textual-image (imported here, lazily) --------------------------------------------------
def cell_size() -> Any:
    """The terminal's cell size in pixels (`.width`, `.height`), as textual-image measured it."""
    from textual_image._terminal import get_cell_size

    return get_cell_size()


def seed_cell_size(width: int, height: int) -> None:
    """Give textual-image a cell size without asking the terminal (kept if it already knows)."""
    from textual_image import _terminal

    # textual-image caches the measured size as an attribute of its function.
    cached = _terminal.get_cell_size.__dict__
    if "_result" not in cached:
        cached["_result"] = _terminal.CellSize(width, height)


def cell_size_known() -> bool:
    """Whether textual-image has a cell size (measured or seeded)."""
    from textual_image import _terminal

    return "_result" in _terminal.get_cell_size.__dict__


def forget_cell_size() -> None:
    """Make textual-image measure the cell size again on its next use."""
    from textual_image import _terminal

    _terminal.get_cell_size.__dict__.pop("_result", None)


def window_pixels() -> tuple[int, int, int, int]:
    """(rows, columns, width, height in pixels) of the terminal, from the kernel (OSError)."""
    from textual_image import _terminal

    rows, cols, width, height = _terminal.get_tiocgwinsz()
    return rows, cols, width, height


def terminal_error() -> type[Exception]:
    """What importing textual-image's widgets raises when the terminal cannot be asked."""
    from textual_image import _terminal

    error: type[Exception] = _terminal.TerminalError
    return error


def pixel_data(image: PILImage.Image, mode: Literal["grayscale", "rgb"] | None = None) -> Any:
    """textual-image's PixelData for `image` (`.scaled(w, h).pil_image`, as its widgets scale)."""
    from textual_image._pixeldata import PixelData

    return PixelData(image) if mode is None else PixelData(image, mode=mode)


def image_size(image: PILImage.Image, width: int | str | None, height: int | str | None) -> Any:
    """textual-image's ImageSize for `image` styled `width` x `height` (auto, an int or None)."""
    from textual_image._geometry import ImageSize

    return ImageSize(image.width, image.height, width=width, height=height)


def picture_widget_base() -> type[PictureWidget]:
    """The base class of textual-image's picture widgets."""
    from textual_image.widget._base import Image

    return Image


def renderable_of(widget_class: type[PictureWidget]) -> type:
    """The renderable (the drawing protocol) a textual-image widget class draws with."""
    renderable: type = widget_class._Renderable
    return renderable


def sixel_classes() -> tuple[type, type]:
    """textual-image's sixel drawing class (subclassed to encode off the event loop) and the
    renderable its widget is declared with."""
    from textual_image.widget import sixel

    return sixel._ImageSixelImpl, sixel._NoopRenderable


def next_kitty_image_id() -> int:
    """An image id from textual-image's own counter, so ids never collide with its pictures."""
    from textual_image.renderable import tgp

    return next(tgp.Image._image_id_counter)
