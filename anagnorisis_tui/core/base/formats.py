"""Which image formats are read, and the one place that makes Pillow read phone formats.

Pillow 13 reads JPEG, PNG/APNG, WebP, GIF, BMP, TIFF and AVIF (with the libavif its wheels
bundle) by itself. HEIC/HEIF, the iPhone's default, needs the `pillow-heif` plugin, JPEG XL the
`pillow-jxl-plugin`, camera RAW files LibRaw through `rawpy` (core/base/rawformat.py); all are
dependencies: `register()` installs their openers into Pillow. Every module that opens images
(header reads, pixel hashing, thumbnails, model input) imports this module first, so a HEIC,
JXL or RAW file reads the same in every process and thread.

Not read (their files are not listed by the scan): PSD, SVG and video; HEIF image sequences and
Live Photos read as their primary still image; a RAW file reads as its embedded preview (else a
half-size demosaic).
"""

from __future__ import annotations

import threading

from PIL import features

from anagnorisis_tui.core.base.extensions import AVIF as AVIF_EXTENSIONS
from anagnorisis_tui.core.base.extensions import BASE as BASE_EXTENSIONS
from anagnorisis_tui.core.base.extensions import HEIF as HEIF_EXTENSIONS
from anagnorisis_tui.core.base.extensions import JXL as JXL_EXTENSIONS
from anagnorisis_tui.core.base.extensions import RAW as RAW_EXTENSIONS

_lock = threading.Lock()
_state: dict[str, bool] = {}


def register() -> frozenset[str]:
    """Install the HEIF opener once (thread-safe); returns the extensions read here."""
    with _lock:
        if "heif" not in _state:
            _state["heif"] = _register_heif()
        if "avif" not in _state:
            _state["avif"] = bool(features.check("avif"))
        if "raw" not in _state:
            _state["raw"] = _register_raw()
        if "jxl" not in _state:
            _state["jxl"] = _register_jxl()
    extensions = set(BASE_EXTENSIONS)
    if _state["heif"]:
        extensions |= HEIF_EXTENSIONS
    if _state["avif"]:
        extensions |= AVIF_EXTENSIONS
    if _state["raw"]:
        extensions |= RAW_EXTENSIONS
    if _state["jxl"]:
        extensions |= JXL_EXTENSIONS
    return frozenset(extensions)


def _register_raw() -> bool:
    from anagnorisis_tui.core.base import rawformat

    try:
        return rawformat.register(RAW_EXTENSIONS)
    except Exception:  # a broken install must not stop scans of other formats
        return False


def _register_jxl() -> bool:
    try:
        import pillow_jxl  # noqa: F401 - importing it installs its opener into Pillow
    except Exception:  # not installed, or a broken native library
        return False
    return True


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
    """{"heif": …, "avif": …, "raw": …, "jxl": …}: whether each format is readable here."""
    register()
    return dict(_state)


EXTENSIONS = register()
