"""File names and paths as safe plain text for the screen.

Names are never markup (callers use rich.text.Text or markup=False); this module also makes
them safe to *print*: control characters (an ESC that would recolour the terminal, a newline
that would break the layout) are shown as visible \\xNN escapes, and undecodable bytes kept as
surrogates (os.fsdecode) are shown as \\xNN instead of crashing the terminal's UTF-8 encoder.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the original byte
        return f"\\x{code - 0xDC00:02x}"
    if code > 0xFF:
        return f"\\u{code:04x}"
    return f"\\x{code:02x}"


def safe(text: str) -> str:
    """`text` with control characters and undecodable bytes shown as escapes."""
    return _UNSAFE.sub(_escape, text)
