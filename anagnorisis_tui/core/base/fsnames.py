"""File names as catalogue text, reversibly, even when they are not valid UTF-8.

On Linux a file name is bytes. Python hands undecodable bytes to us as lone surrogates
(surrogateescape), which SQLite cannot store. The catalogue therefore keeps a *valid* Unicode
text for every path: names that are valid UTF-8 (nearly all) are stored exactly as they are and
can be opened as they are; an undecodable byte 0xXY is stored as the private-use character
U+EFXY (the OPTU-8 convention). A real U+EF80..U+EFFF in a name is stored as its own UTF-8 bytes
mapped the same way, so the mapping is injective and `to_os(to_db(p)) == p` for every path.

Use `to_os()` before opening a path read from the catalogue (query.ImageEntry.os_path does it).
"""

from __future__ import annotations

import os
import re

_PUA_BASE = 0xEF00
# Characters that need the slow path: lone surrogates (undecodable bytes) and our own range.
_SPECIAL_OS = re.compile("[\udc80-\udcff\uef80-\uefff]")
_SPECIAL_DB = re.compile("[\uef80-\uefff]")


def to_db(path: str) -> str:
    """Catalogue text for an OS path string (as os.scandir/os.fsdecode return it)."""
    if path.isascii() or not _SPECIAL_OS.search(path):
        return path
    raw = os.fsencode(path)
    out: list[str] = []
    for ch in raw.decode("utf-8", "surrogateescape"):
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(chr(_PUA_BASE + (code - 0xDC00)))
        elif 0xEF80 <= code <= 0xEFFF:
            out.extend(chr(_PUA_BASE + b) for b in ch.encode("utf-8"))
        else:
            out.append(ch)
    return "".join(out)


def to_os(text: str) -> str:
    """The OS path string (openable, surrogateescape) for catalogue text from to_db()."""
    if text.isascii() or not _SPECIAL_DB.search(text):
        return text
    raw = bytearray()
    for ch in text:
        code = ord(ch)
        if 0xEF80 <= code <= 0xEFFF:
            raw.append(code - _PUA_BASE)
        else:
            raw += ch.encode("utf-8")
    return os.fsdecode(bytes(raw))


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def display(text: str) -> str:
    """Plain text to show a user: undecodable bytes as U+FFFD, control characters escaped.

    Escaping C0/C1 controls keeps a name holding a terminal escape sequence from acting on the
    terminal. Never markup: callers still render the result as plain text (names may hold
    `[bold]`).
    """
    if text.isascii() and text.isprintable():
        return text
    text = _SPECIAL_DB.sub("\ufffd", text)
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
