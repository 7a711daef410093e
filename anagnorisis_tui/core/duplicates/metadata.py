"""How much metadata a file carries, so the keeper of a group is the copy that keeps the most,
and the XMP sidecars that belong to a file (digiKam/darktable `photo.jpg.xmp`, Lightroom
`photo.xmp`), so they go where the file's rating goes."""

from __future__ import annotations

import contextlib
import os

from PIL import Image

SIDECAR_WEIGHT = 5  # a sidecar holds a rating, tags, edits: worth more than a few EXIF fields


def sidecars(path: str) -> list[str]:
    """The sidecars that exist beside an image (OS path)."""
    base, _ = os.path.splitext(path)
    return [p for p in (path + ".xmp", base + ".xmp") if os.path.isfile(p)]


def score(path: str) -> int:
    """EXIF fields (with GPS and the EXIF sub-IFD), embedded XMP and sidecars; header only."""
    total = SIDECAR_WEIGHT * len(sidecars(path))
    try:
        with Image.open(path) as image:
            exif = image.getexif()
            total += len(exif)
            for ifd in (0x8769, 0x8825):  # EXIF sub-IFD, GPS
                with contextlib.suppress(Exception):  # a broken sub-IFD adds nothing
                    total += len(exif.get_ifd(ifd))
            if image.info.get("xmp") or image.info.get("XML:com.adobe.xmp"):
                total += SIDECAR_WEIGHT
            total += sum(1 for k in image.info if isinstance(k, str) and k in _TEXT_KEYS)
    except Exception:  # unreadable now: no preference from metadata
        return total
    return total


_TEXT_KEYS = {"Description", "Title", "Author", "Comment", "Copyright", "Software", "comment"}
