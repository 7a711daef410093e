"""File names and paths as safe plain text for the screen.

Names are never markup (callers use rich.text.Text or markup=False); this also makes them safe
to *print*: control characters (an ESC that would recolour the terminal, a newline that would
break the layout) are shown as visible \\xNN escapes and undecodable bytes as U+FFFD, the same
way the CLI shows them (core/fsnames.display).
"""

from __future__ import annotations

import re

from anagnorisis_tui.core.base import fsnames

_SURROGATE = re.compile("[\ud800-\udfff]")


def safe(text: str) -> str:
    """Catalogue text or an OS path string, made safe to show."""
    if _SURROGATE.search(text):  # an OS path string with undecodable bytes
        text = fsnames.to_db(text)
    return fsnames.display(text)
