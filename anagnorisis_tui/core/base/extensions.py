"""The file extensions of the image formats read here, known without importing Pillow.

core/base/formats.py installs the phone-format plugins into Pillow (and so imports Pillow and
pillow-heif); the walk only needs to know which names to list, and a no-change scan must not
pay for those imports. A format's extensions are listed when the module that reads it is
installed (`find_spec` looks on the path without importing it). formats.status() says whether
the plugin then actually loaded; a file of a format whose plugin is installed but broken is
listed and recorded as a scan error with the reason, rather than skipped in silence.
"""

from __future__ import annotations

import functools
import importlib.util

BASE = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".apng",
        ".webp",
        ".gif",
        ".bmp",
        ".dib",
        ".tif",
        ".tiff",
    }
)
HEIF = frozenset({".heic", ".heif", ".hif"})
AVIF = frozenset({".avif"})
# Camera RAW files, read through LibRaw (core/base/rawformat.py).
RAW = frozenset(
    {".cr2", ".cr3", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".dng", ".raf", ".orf", ".rw2", ".pef"}
)
JXL = frozenset({".jxl"})


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@functools.cache
def listed() -> frozenset[str]:
    """The extensions (lower case, with the dot) the library walk lists."""
    found = set(BASE)
    if _installed("pillow_heif"):
        found |= HEIF
    if _installed("PIL._avif"):  # Pillow's own AVIF codec, when its build has libavif
        found |= AVIF
    if _installed("rawpy"):
        found |= RAW
    if _installed("pillow_jxl"):
        found |= JXL
    return frozenset(found)
