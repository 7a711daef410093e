"""XMP sidecars: the star rating digiKam, darktable and Lightroom read (`xmp:Rating`).

Mapping (documented in README): our 0–10 rating r is written as ceil(r / 2) stars, so 0 -> 0,
1–2 -> 1, 3–4 -> 2, 5–6 -> 3, 7–8 -> 4, 9–10 -> 5. Stars read back as 2 x stars (1 -> 2 ... 5 -> 10);
-1 ("rejected") reads as 0; 0 stars or no xmp:Rating means "not rated" (digiKam writes 0 for every
unrated image), so it is never imported as a rating. Our exact value is kept beside the stars as
`anagnorisis:Rating`; it is used on import only while it still matches the stars, so a change
made in another app wins, and every value, 0 and decimals included, round-trips exactly.

Sidecars are only written on an explicit user command (`ratings export --xmp`): it is the one
place this program writes inside a library folder. Existing sidecars are edited in place (only
the two rating properties change; everything else is kept byte for byte) and written atomically.
"""

from __future__ import annotations

import math
import os
import re
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

from anagnorisis_tui.core.base import private as files
from anagnorisis_tui.core.errors import UserError

NS_XMP = "http://ns.adobe.com/xap/1.0/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_OURS = "https://anagnorisis-tui.invalid/ns/1.0/"
MAX_SIDECAR_BYTES = 4 * 1024 * 1024


class XmpError(UserError, ValueError):
    """A sidecar that cannot be read or safely updated; the message says which and why."""


def stars_for(rating: float) -> int:
    return int(min(5, max(0, math.ceil(round(float(rating), 6) / 2))))


def rating_for(stars: float) -> float | None:
    if stars < 0:
        return 0.0
    whole = int(round(stars))
    return None if whole == 0 else float(min(5, whole) * 2)


def sidecar_candidates(image: Path) -> list[Path]:
    """digiKam/darktable name sidecars photo.jpg.xmp; Lightroom photo.xmp."""
    image = Path(image)
    return [
        image.with_name(image.name + ".xmp"),
        image.with_name(image.name + ".XMP"),
        image.with_suffix(".xmp"),
        image.with_suffix(".XMP"),
    ]


def find_sidecar(image: Path, shared: SharedNames | None = None) -> Path | None:
    """The image's sidecar: NAME.EXT.xmp, else NAME.xmp unless another file of the folder
    shares that name (photo.jpg beside photo.png or photo.CR2): such a sidecar belongs to
    neither for sure, so it is not used (raises XmpError with `shared`)."""
    candidates = sidecar_candidates(image)
    for candidate in candidates[:2]:
        if candidate.is_file():
            return candidate
    for candidate in candidates[2:]:
        if candidate.is_file():
            if shared is not None and (others := shared.others(image)):
                raise XmpError(
                    f"{candidate.name} may belong to {', '.join(others[:3])} as well: not used "
                    f"(rename it {image.name}.xmp if it is this image's)"
                )
            return candidate
    return None


class SharedNames:
    """Which files of a folder share an image's name without its extension (each folder
    listed once per export or import)."""

    def __init__(self) -> None:
        self._stems: dict[Path, dict[str, list[str]]] = {}

    def others(self, image: Path) -> list[str]:
        folder = image.parent
        if folder not in self._stems:
            stems: dict[str, list[str]] = {}
            try:
                names = os.listdir(folder)
            except OSError:
                names = []
            for name in names:
                stem, ext = os.path.splitext(name)
                if ext and ext.lower() != ".xmp":
                    stems.setdefault(stem, []).append(name)
            self._stems[folder] = stems
        return sorted(n for n in self._stems[folder].get(image.stem, []) if n != image.name)


def _read_text(path: Path) -> str:
    try:
        # Non-blocking: a FIFO planted under a sidecar's name must not hang the command.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise XmpError(f"{path}: not a regular file")
            if st.st_size > MAX_SIDECAR_BYTES:
                raise XmpError(f"{path}: sidecar larger than {MAX_SIDECAR_BYTES // 1024} KiB")
            return fh.read(MAX_SIDECAR_BYTES + 1).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise XmpError(f"{path}: not UTF-8 text") from exc
    except OSError as exc:
        raise XmpError(f"{path}: cannot read: {exc.strerror}") from exc


def _properties(text: str, where: Path) -> tuple[float | None, float | None]:
    """(xmp:Rating, anagnorisis:Rating) as numbers, from attributes or elements."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise XmpError(f"{where}: not valid XML ({exc})") from exc
    found: dict[str, float | None] = {NS_XMP: None, NS_OURS: None}
    for element in root.iter():
        for ns in found:
            key = f"{{{ns}}}Rating"
            raw = element.attrib.get(key)
            if raw is None and element.tag == key:
                raw = (element.text or "").strip()
            if raw is not None and found[ns] is None:
                try:
                    value = float(raw)
                except ValueError:
                    raise XmpError(f"{where}: Rating {raw[:40]!r} is not a number") from None
                low, high = (-1, 5) if ns == NS_XMP else (0, 10)
                if not math.isfinite(value) or not low <= value <= high:
                    if ns == NS_OURS:
                        continue  # our exact value is only a hint: the stars decide
                    raise XmpError(f"{where}: Rating {raw[:40]!r} is not a star rating (-1 to 5)")
                found[ns] = value
    return found[NS_XMP], found[NS_OURS]


def read_rating(sidecar: Path) -> float | None:
    """The rating a sidecar carries (our 0–10 scale), or None when it says "not rated"."""
    stars, exact = _properties(_read_text(sidecar), sidecar)
    if stars is None:
        return None
    if exact is not None and 0 <= exact <= 10 and stars_for(exact) == int(round(stars)):
        return exact
    return rating_for(stars)


_NEW = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:anagnorisis="{ours}"
    xmp:Rating="{stars}"
    anagnorisis:Rating="{exact}"/>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
"""


def _fmt(value: float) -> str:
    return f"{value:g}"


def _set_property(text: str, prefix: str, ns: str, value: str) -> str:
    attr = re.compile(rf'(\s{prefix}:Rating\s*=\s*)(["\'])[^"\']*\2')
    if attr.search(text):
        return attr.sub(lambda m: f"{m.group(1)}{m.group(2)}{value}{m.group(2)}", text, count=1)
    elem = re.compile(rf"(<{prefix}:Rating>)[^<]*(</{prefix}:Rating>)")
    if elem.search(text):
        return elem.sub(lambda m: f"{m.group(1)}{value}{m.group(2)}", text, count=1)
    desc = re.search(r"<rdf:Description\b", text)
    if desc is None:
        raise XmpError("no rdf:Description element to hold the rating")
    decl = "" if f'xmlns:{prefix}="{ns}"' in text else f' xmlns:{prefix}="{ns}"'
    insert = f'{decl} {prefix}:Rating="{value}"'
    return text[: desc.end()] + insert + text[desc.end() :]


def write_rating(
    image: Path,
    rating: float,
    *,
    overwrite: bool = False,
    shared: SharedNames | None = None,
    private: bool = False,
) -> tuple[Path, bool]:
    """Write the rating into the image's sidecar (created if none). Returns (path, changed).

    A sidecar NAME.xmp that another file of the folder would share is left alone: the image
    gets its own NAME.EXT.xmp (the darktable form). Stars set by another app (no matching
    anagnorisis:Rating beside them) are kept unless `overwrite` (XmpKept says so). The file is
    replaced by a fresh temporary and a rename, never written through a link
    (core/base/private.py)."""
    try:
        sidecar = find_sidecar(image, shared)
    except XmpError:
        sidecar = None  # a NAME.xmp other files share: the image gets its own NAME.EXT.xmp
    sidecar = sidecar or sidecar_candidates(image)[0]
    if os.path.islink(sidecar):
        raise XmpError(f"{sidecar}: a symbolic link; not written through (remove it first)")
    stars, exact = str(stars_for(rating)), _fmt(float(rating))
    if not os.path.lexists(sidecar):
        text = _NEW.format(ours=NS_OURS, stars=stars, exact=exact)
        old = None
    else:
        old = _read_text(sidecar)
        their_stars, ours = _properties(old, sidecar)  # refuse a sidecar we cannot parse
        if (
            not overwrite
            and their_stars is not None
            and int(round(their_stars)) not in (0, int(stars))
            and (ours is None or stars_for(ours) != int(round(their_stars)))
        ):
            raise XmpKept(
                f"{sidecar}: {int(round(their_stars))} stars set by another app kept "
                "(--overwrite replaces them)"
            )
        try:
            text = _set_property(old, "xmp", NS_XMP, stars)
            text = _set_property(text, "anagnorisis", NS_OURS, exact)
        except XmpError as exc:
            raise XmpError(f"{sidecar}: {exc}") from None
    if _properties(text, sidecar) != (float(stars), float(exact)):
        raise XmpError(f"{sidecar}: cannot update the rating safely; left unchanged")
    if text == old:
        return sidecar, False
    try:
        files.write_atomic(sidecar, text.encode("utf-8"), private=private)
    except OSError as exc:
        raise XmpError(f"{sidecar}: cannot write: {exc.strerror or exc}") from exc
    return sidecar, True


class XmpKept(XmpError):
    """A sidecar whose stars another app set: kept as it is (not an error of the file)."""
