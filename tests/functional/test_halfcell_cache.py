"""Half-cell pictures painted from cached strips look exactly as textual-image draws them."""

from __future__ import annotations

from PIL import Image as PILImage
from textual.app import App, ComposeResult
from textual.containers import Container


def _photo(size: tuple[int, int]) -> PILImage.Image:
    from skimage import data

    return PILImage.fromarray(data.astronaut()).resize(size)


def _cells(strip) -> list[tuple[str, str, str]]:
    return [
        (seg.text, str(seg.style.color.triplet), str(seg.style.bgcolor.triplet))
        for seg in strip
        if seg.text
    ]


async def test_cached_strips_match_textual_image_and_are_reused():
    from textual_image.widget import HalfcellImage

    from anagnorisis_tui.ui.graphics import image_widget_class
    from anagnorisis_tui.ui.widgets.grid import halfcell

    cached_cls = image_widget_class("halfcell")
    assert cached_cls is not HalfcellImage and issubclass(cached_cls, HalfcellImage)
    wide, tall = _photo((120, 60)), _photo((50, 90))

    class Pair(App):
        CSS = "Container { width: 20; height: 9; } Container > * { width: auto; height: auto; }"

        def compose(self) -> ComposeResult:
            for image in (wide, tall):
                with Container():
                    yield HalfcellImage(image)
                with Container():
                    yield cached_cls(image)

    async with Pair().run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        widgets = list(pilot.app.query(HalfcellImage))
        for reference, cached in (widgets[0:2], widgets[2:4]):
            assert cached.size == reference.size and cached.size.area > 0
            for y in range(reference.size.height):
                assert _cells(cached.render_line(y)) == _cells(reference.render_line(y))
        # Strips live on the image: a second widget showing it, or a repaint, reuses them.
        first = widgets[1].render_line(0)
        box = (widgets[1].parent.content_size.width, widgets[1].parent.content_size.height)
        halfcell.prerender(wide, box)
        assert halfcell.strips(wide, *widgets[1].size)[0] is first
