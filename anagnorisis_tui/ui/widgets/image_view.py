"""ImageView: one image as large as its area allows, decoded in a worker at screen resolution.

The image is decoded with reduced-size JPEG decoding to about the pixels the terminal can show
(cells × the cell size textual-image measured), never the full 12 MP, and set on the existing
image widget (no remount). Each `show` takes a new token; a decode that finishes after the user
moved to another image is dropped. "Loading…" appears only if decoding takes over 0.25 s, so
flipping through cached-size images does not flash.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PIL import Image as PILImage
from textual.app import ComposeResult
from textual.containers import Container
from textual.message import Message
from textual.widgets import Static

from anagnorisis_tui.core.catalogue.thumbnails import ThumbnailError, load_reduced
from anagnorisis_tui.ui.messages import ForwardWorkerErrors

if TYPE_CHECKING:
    from anagnorisis_tui.ui.textual_private import PictureWidget

LOADING_DELAY = 0.25


def cell_pixels() -> tuple[int, int]:
    try:
        from anagnorisis_tui.ui.textual_private import cell_size

        size = cell_size()
        return max(1, size.width), max(1, size.height)
    except Exception:  # noqa: BLE001 - any terminal oddity: assume the common 10x20 cell
        return 10, 20


class ImageView(ForwardWorkerErrors, Container):
    DEFAULT_CSS = """
    /* The blank bottom row matters: sixel images are padded to a multiple of 6 pixels, and an
       image whose last pixel row lands on the terminal's last line makes it scroll. */
    ImageView { align: center middle; height: 1fr; width: 1fr; padding-bottom: 1; }
    ImageView > .picture { width: auto; height: auto; }
    ImageView > .message {
        width: 100%; height: 100%; content-align: center middle; color: $text-muted;
    }
    """

    class _Loaded(Message):
        def __init__(self, token: int, image: PILImage.Image | None, error: str) -> None:
            super().__init__()
            self.token, self.image, self.error = token, image, error

    def __init__(self, image_class: type[PictureWidget], id: str | None = None) -> None:
        super().__init__(id=id)
        self._picture = image_class(classes="picture")
        self.token = 0
        self.path: str | None = None
        self.image: PILImage.Image | None = None
        self.error = ""
        self._loaded_token = 0

    def compose(self) -> ComposeResult:
        yield self._picture
        yield Static("", classes="message", markup=False)

    def show(self, path: str | None, message: str = "") -> None:
        """Decode and show `path` (None: show `message` instead)."""
        self.token += 1
        self.path = path
        if path is None:
            self._loaded_token = self.token
            self._set(None, message)
            return
        token = self.token
        self.set_timer(LOADING_DELAY, partial(self._still_loading, token))
        w, h = cell_pixels()
        # The whole terminal, not this widget: a later resize then needs no second decode.
        target = (max(64, self.app.size.width * w), max(64, self.app.size.height * h))
        self.run_worker(
            partial(self._decode, path, target, token),
            thread=True,
            group="image-view",
            exclusive=True,
            exit_on_error=False,
            name="viewer: decode",
        )

    def _decode(self, path: str, target: tuple[int, int], token: int) -> None:
        try:
            image = load_reduced(path, max(target))
            if image.mode not in ("RGB", "RGBA", "L"):
                image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            image.thumbnail(target, PILImage.Resampling.BICUBIC)
        except ThumbnailError as exc:
            self.post_message(self._Loaded(token, None, str(exc)))
        else:
            self.post_message(self._Loaded(token, image, ""))

    def _still_loading(self, token: int) -> None:
        if token == self.token and self._loaded_token != token:
            self._set(None, "Loading…")

    def on_image_view__loaded(self, message: _Loaded) -> None:
        message.stop()
        if message.token != self.token:
            return  # the user moved on: drop the late result
        self._loaded_token = message.token
        self.error = f"Cannot show this image: {message.error}" if message.error else ""
        self._set(message.image, self.error)

    def _set(self, image: PILImage.Image | None, message: str) -> None:
        self.image = image
        self._picture.image = image
        self._picture.display = image is not None
        text = self.query_one(".message", Static)
        text.display = image is None
        text.update(message)
