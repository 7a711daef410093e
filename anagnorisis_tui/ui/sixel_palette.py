"""Sixel pictures with their whole palette defined before the first pixel.

textual-image's encoder defines each colour register where the picture first uses it, in the
middle of the first band (6 pixel rows) for most of them. xterm (VT340 emulation, 256 registers)
drew that first band wrong: a flat colour with speckles, a grey band on some photos, speckles in
a face further down where new colours first appear. Decoded by the book the bytes are right; the
same bytes with every definition moved to the start draw correctly. So the definitions go first,
right after the raster attributes, and each place that defined a colour only selects it (`#N`):
the same pixels, a few bytes more.
"""

from __future__ import annotations

import re

_DEFINITION = re.compile(r"#(\d+);2;\d+;\d+;\d+")
_HEADER = re.compile(r'\x1bP[0-9;]*q(?:"[0-9;]*)?')


def palette_first(sixel: str) -> str:
    """`sixel` (one DCS picture) with every colour definition before its pixel data."""
    header = _HEADER.match(sixel)
    if header is None:
        return sixel
    body = sixel[header.end() :]
    definitions = "".join(m[0] for m in _DEFINITION.finditer(body))
    if not definitions:
        return sixel
    return header[0] + definitions + _DEFINITION.sub(r"#\1", body)
