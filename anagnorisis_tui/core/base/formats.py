"""Which image formats are read, and the one place that makes Pillow read phone formats.

Pillow 13 reads JPEG, PNG/APNG, WebP, GIF, BMP, TIFF and AVIF (with the libavif its wheels
bundle) by itself. HEIC/HEIF, the iPhone's default, needs the `pillow-heif` plugin, which is a
dependency: `register()` installs its opener into Pillow. Every module that opens images
(header reads, pixel hashing, thumbnails, model input) imports this module first, so a HEIC
file reads the same in every process and thread.

Not read (their files are not listed by the scan): RAW camera formats (CR2/CR3, NEF, ARW, DNG,
…), JPEG XL, PSD, SVG and video; HEIF image sequences and Live Photos read as their primary
still image.
"""

from __future__ import annotations

import threading

from PIL import features

from anagnorisis_tui.core.base.extensions import AVIF as AVIF_EXTENSIONS
from anagnorisis_tui.core.base.extensions import BASE as BASE_EXTENSIONS
from anagnorisis_tui.core.base.extensions import HEIF as HEIF_EXTENSIONS

_lock = threading.Lock()
_state: dict[str, bool] = {}


def register() -> frozenset[str]:
    """Install the HEIF opener once (thread-safe); returns the extensions read here."""
    with _lock:
        if "heif" not in _state:
            _state["heif"] = _register_heif()
        if "avif" not in _state:
            _state["avif"] = bool(features.check("avif"))
    extensions = set(BASE_EXTENSIONS)
    if _state["heif"]:
        extensions |= HEIF_EXTENSIONS
    if _state["avif"]:
        extensions |= AVIF_EXTENSIONS
    return frozenset(extensions)


def _register_heif() -> bool:
    try:
        import pillow_heif
    except ImportError:  # an install without the dependency: everything else still reads
        return False
    try:
        # Thumbnails stored inside HEIC files are not needed: the primary image is decoded.
        pillow_heif.register_heif_opener(thumbnails=False)
    except Exception:  # a broken native library must not stop scans of other formats
        return False
    return True


def status() -> dict[str, bool]:
    """{"heif": …, "avif": …}: whether each phone format is readable in this install."""
    register()
    return dict(_state)


EXTENSIONS = register()
