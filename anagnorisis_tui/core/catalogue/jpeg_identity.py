"""Pixel identity of a JPEG without decoding it: a hash of what the decoder reads.

A JPEG's pixels are fully determined by its coding segments (quantisation and Huffman tables,
the frame header, restart interval, the Adobe colour-transform flag) and the entropy-coded scan
data, plus the EXIF orientation that turns it upright. Metadata edits (EXIF, XMP, IPTC, ICC,
comments: the APPn and COM segments) never touch those bytes, so hashing them instead of the
decoded pixels gives the same answer for every metadata-only rewrite, at the cost of reading
the bytes once (~1 ms for a 12 MP photo, against ~80 ms for a full decode; BENCHMARKS.md).

It is exact in one direction: equal stream hashes mean equal decoded pixels. The other way a
full decode knows more: a lossless re-encode (jpegtran -optimize or -progressive) changes the
coding but not the pixels, and counts here as new content (its rating is not carried over).
Data after the end-of-image marker (camera trailers, motion-photo videos) is not pixels and
is left out too. ICC profiles are left out as a full decode leaves them out: Pillow does not
apply them.

Identities start with "jpeg:" so they never equal a decoded-pixel hash (hashing.pixel_hash).
"""

from __future__ import annotations

import re
from struct import unpack_from

import xxhash

PREFIX = "jpeg:"

# APP14 ("Adobe") carries the colour transform flag, which changes decoded pixels: kept.
_ADOBE = 0xEE
_COM = 0xFE
# In entropy-coded data 0xFF is followed by 0x00 (stuffing) or a restart marker; anything else
# is the next marker segment.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")


def _is_metadata(marker: int) -> bool:
    return (0xE0 <= marker <= 0xEF and marker != _ADOBE) or marker == _COM


def stream_identity(data: bytes | memoryview, orientation: int) -> str | None:
    """The "jpeg:" pixel identity of a whole JPEG file's bytes; None when the structure is not
    the plain marker layout this parser is sure of (the caller then decodes)."""
    view = memoryview(data)
    n = len(view)
    if n < 4 or view[0] != 0xFF or view[1] != 0xD8:
        return None
    hasher = xxhash.xxh3_128()
    hasher.update(b"orientation=%d;" % orientation)
    i = 2
    seen_frame = False
    while i + 2 <= n:
        if view[i] != 0xFF:
            return None
        marker = view[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:  # end of image
            return PREFIX + hasher.hexdigest() if seen_frame else None
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            hasher.update(view[i : i + 2])
            i += 2
            continue
        if i + 4 > n:
            return None
        length = unpack_from(">H", view, i + 2)[0]
        end = i + 2 + length
        if length < 2 or end > n:
            return None
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            seen_frame = True
        if not _is_metadata(marker):
            hasher.update(view[i:end])
        i = end
        if marker == 0xDA:  # start of scan: entropy-coded data runs to the next marker
            found = _NEXT_MARKER.search(data, i)
            if found is None:
                return None  # truncated: no end-of-image marker
            hasher.update(view[i : found.start()])
            i = found.start()
    return None
