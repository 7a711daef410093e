"""A sixel picture decoded by the book (DEC's sixel format): the pixels a terminal should draw."""

from __future__ import annotations

import re

import numpy as np

_RASTER = re.compile(r'"1;1;(\d+);(\d+)')
_COLOUR = re.compile(r"#(\d+)(?:;2;(\d+);(\d+);(\d+))?")
_REPEAT = re.compile(r"!(\d+)(.)")


def decode(sixel: str) -> np.ndarray:
    """RGB pixels (height x width x 3, -1 where nothing was drawn) of one DCS sixel picture."""
    body = sixel[sixel.index("q") + 1 : sixel.rindex("\x1b\\")]
    raster = _RASTER.match(body)
    assert raster is not None, "no raster attributes"
    width, height = int(raster[1]), int(raster[2])
    body = body[raster.end() :]
    pixels = np.full((height + 6, width, 3), -1, dtype=np.int32)
    registers: dict[int, tuple[int, int, int]] = {}
    current = x = y = i = 0
    while i < len(body):
        char = body[i]
        if char == "#":
            match = _COLOUR.match(body, i)
            assert match is not None
            current = int(match[1])
            if match[2] is not None:
                registers[current] = tuple(round(int(v) * 255 / 100) for v in match.group(2, 3, 4))
            i = match.end()
            continue
        if char in "$-":
            x, y, i = 0, y + (6 if char == "-" else 0), i + 1
            continue
        count = 1
        if char == "!":
            match = _REPEAT.match(body, i)
            assert match is not None
            count, char, i = int(match[1]), match[2], match.end()
        else:
            i += 1
        bits = ord(char) - 63
        for row in range(6):
            if bits >> row & 1:
                pixels[y + row, x : x + count] = registers[current]
        x += count
    return pixels[:height]
