"""File names, paths and entry details as safe plain text for the screen.

Names are never markup (callers use rich.text.Text or markup=False); this also makes them safe
to *print*: control characters (an ESC that would recolour the terminal, a newline that would
break the layout) are shown as visible \\xNN escapes and undecodable bytes as U+FFFD, the same
way the CLI shows them (core/base/fsnames.display).
"""

from __future__ import annotations

import re

from rich.text import Text

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.core.base.units import format_size
from anagnorisis_tui.core.views.paging import ImageEntry

_SURROGATE = re.compile("[\ud800-\udfff]")


def safe(text: str) -> str:
    """Catalogue text or an OS path string, made safe to show."""
    if _SURROGATE.search(text):  # an OS path string with undecodable bytes
        text = fsnames.to_db(text)
    return fsnames.display(text)


def human_size(size: int) -> str:
    """A file size as shown everywhere (core/base/units.py: the filters and the CLI too)."""
    return format_size(size)


def describe(entry: ImageEntry) -> Text:
    """One status line for an entry, all of it plain text."""
    parts = [safe(entry.path), human_size(entry.size)]
    if entry.width and entry.height:
        parts.append(f"{entry.width}×{entry.height}")
    if entry.format:
        parts.append(entry.format)
    if entry.rating is not None:
        parts.append(f"rated {entry.rating:g}")
    return Text("  ·  ".join(parts), no_wrap=True, overflow="ellipsis")
