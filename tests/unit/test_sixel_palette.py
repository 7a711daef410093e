"""Sixel pictures define their whole palette before the first pixel (ui/sixel_palette.py): xterm
drew the first band of textual-image's encoding (colours defined where first used) as a flat
colour with speckles."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image
from skimage import data
from textual_image._sixel import image_to_sixels

from anagnorisis_tui.ui.graphics import image_widget_class
from anagnorisis_tui.ui.sixel_palette import palette_first
from tests.support.sixel_decode import decode

DEFINITION = re.compile(r"#\d+;2;\d+;\d+;\d+")
DATA = re.compile(r"[?-~!$-]")  # a sixel, a repeat, a carriage return or a new band


def _photos() -> list[Image.Image]:
    return [Image.fromarray(a).resize((200, 150)) for a in (data.astronaut(), data.coffee())]


def _definitions_after_pixels(sixel: str) -> int:
    body = sixel[sixel.index('"') :]
    body = body[re.match(r'"[0-9;]*', body).end() :]  # type: ignore[union-attr]
    first_pixel = DATA.search(DEFINITION.sub("", body))
    assert first_pixel is not None
    pixels_from = len(DEFINITION.sub("", body)[: first_pixel.start()])
    # Count definitions that start after the first pixel data (measured in the original body).
    position, seen, late = 0, 0, 0
    for match in DEFINITION.finditer(body):
        seen += len(DEFINITION.sub("", body[position : match.start()]))
        position = match.start()
        late += seen > pixels_from
    return late


@pytest.mark.slow
def test_every_colour_is_defined_before_the_first_pixel_and_the_pixels_are_the_same():
    for photo in _photos():
        original = image_to_sixels(photo)
        assert _definitions_after_pixels(original) > 0  # what xterm drew wrong
        fixed = palette_first(original)
        assert _definitions_after_pixels(fixed) == 0
        assert len(DEFINITION.findall(fixed)) == len(DEFINITION.findall(original))
        assert np.array_equal(decode(fixed), decode(original))
        assert (decode(fixed) >= 0).all()  # every pixel drawn, the first band too


def test_the_apps_sixel_widget_encodes_with_the_palette_first():
    from textual.geometry import Region
    from textual_image._terminal import CellSize

    sixel_class = image_widget_class("sixel")
    photo = _photos()[0]
    impl = next(iter(sixel_class(photo).compose()))  # the part that encodes, not mounted
    cells = CellSize(10, 20)
    sixel = impl._encode(photo, (200, 140), Region(0, 0, 20, 7), cells, (0, 0, 0, 1.0))
    assert _definitions_after_pixels(sixel) == 0
    assert (decode(sixel) >= 0).all()
