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
from anagnorisis_tui.core.base.progress import Progress
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


NO_IMAGES = "No images yet. Press o to choose your image folder."


def scan_wait_text(progress: Progress | None, root: str | None, *, demo: bool = False) -> str:
    """What an empty grid says while its library is being made or scanned, with the progress
    ("Scanning ~/photos: 1,204 files read…"), instead of asking for a folder."""
    if demo and progress is not None and progress.stage == "demo":
        total = f" of {progress.total:,}" if progress.total else ""
        return f"Making the demo library: {progress.done:,}{total} pictures made…"
    where = "the demo library" if demo else (_home_short(root) if root else "the library")
    if progress is None:
        return f"Scanning {where}…"
    if progress.stage == "walk":
        return f"Scanning {where}: {progress.done:,} files found…"
    if progress.stage == "catalogue":
        total = f" of {progress.total:,}" if progress.total else ""
        return f"Scanning {where}: {progress.done:,}{total} files read…"
    if progress.stage in ("download", "prepare"):
        return f"Scanning {where}: getting the model ready…"
    return f"Scanning {where}: thumbnails, hashes and vectors…"


def _home_short(root: str) -> str:
    """A path as a person writes it: ~ for the home folder; safe to show."""
    import os

    home = os.path.expanduser("~")
    if home not in ("", "/") and (root == home or root.startswith(home.rstrip("/") + "/")):
        root = "~" + root[len(home.rstrip("/")) :]
    return safe(root)
