"""Camera RAW files (CR2/CR3, NEF, ARW, DNG, RAF, ORF, RW2, PEF) as Pillow images, through LibRaw.

`register()` (called by core/base/formats.py) installs an opener into Pillow, so every module
that opens images (header reads, thumbnails, perceptual hashes, renditions, model input, the
viewer) reads a RAW file like any JPEG. LibRaw is imported by `rawpy` only when a RAW file is
opened: a scan that meets none never imports it (nor numpy).

What a RAW file shows is what the camera shows: the JPEG preview embedded in the file, decoded
with the same reduced-size JPEG decoding as any JPEG (`draft`). A file without one is
demosaiced at half size (a quarter of the pixels, no interpolation: fast and sharp enough for
any screen). The image comes as stored, with the file's orientation in its EXIF, so the
callers' usual `exif_transpose` turns it upright; the capture date (DateTimeOriginal and its
offset) is in that EXIF too, read from the RAW file's own TIFF structure or from the preview.

Identity: `sensor_identity()` hashes the sensor data LibRaw unpacks (and the orientation), not
the file's bytes, so a RAW tool that rewrites only metadata (a rating, keywords, a new preview)
keeps the identity and the rating follows. It unpacks once: a file without a preview is then
demosaiced from that same unpack (one decode per image).

Files with a plain TIFF header (DNG, NEF, ARW, PEF and TIFF itself) cannot be told apart by
their first bytes: LibRaw is asked, and a file it does not take goes on to Pillow's TIFF reader.
"""

from __future__ import annotations

import io
import threading
from typing import IO, Any

import xxhash
from PIL import Image, ImageFile

FORMAT = "RAW"
PREFIX = "raw:"  # sensor identities never equal a decoded-pixel or "jpeg:" identity

_TIFF = (b"II*\x00", b"MM\x00*")
# ORF (Olympus), RW2 (Panasonic), RAF (Fujifilm); CR3 is an ISO media file of brand "crx ".
_OTHER = (b"IIRO", b"IIRS", b"MMOR", b"IIU\x00", b"FUJIFILMCCD-RAW")
# LibRaw's flip -> the EXIF orientation that means the same turn.
_FLIP_TO_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}
# The tags of the Exif IFD that say when a photo was taken (core/catalogue/capture_date.py).
_DATE_TAGS = (0x9003, 0x9004, 0x9010, 0x9011, 0x9012, 0x9290, 0x9291, 0x9292)
_EXIF_IFD = 0x8769

_lock = threading.Lock()
_registered = False


def looks_raw(prefix: bytes) -> bool:
    """Whether a file starting with `prefix` may be a RAW file LibRaw reads (TIFF-like ones
    are only known once LibRaw has looked)."""
    return (
        prefix[:4] in _TIFF
        or any(prefix.startswith(magic) for magic in _OTHER)
        or prefix[4:12] == b"ftypcrx "
    )


def _exif_source(data: bytes, preview: bytes | None) -> Image.Exif | None:
    """The EXIF that holds the capture date: the RAW file's own TIFF IFDs, else the preview's."""
    try:
        if data[:4] in _TIFF:
            exif = Image.Exif()
            exif.load(data)
            return exif
        if preview is not None:
            with Image.open(io.BytesIO(preview)) as shown:
                return shown.getexif()
    except Exception:  # hostile metadata: simply no date
        return None
    return None


def _exif_bytes(orientation: int, source: Image.Exif | None) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    if source is not None:
        try:
            ifd = source.get_ifd(_EXIF_IFD)
        except Exception:  # a malformed Exif IFD pointer
            ifd = {}
        dates = {tag: ifd[tag] for tag in _DATE_TAGS if tag in ifd}
        if dates:
            exif[_EXIF_IFD] = dates
    try:
        return exif.tobytes()
    except Exception:  # a date Pillow cannot write back: the orientation alone
        return _exif_bytes(orientation, None) if source is not None else b""


class RawImageFile(ImageFile.ImageFile):
    """A RAW file: its embedded JPEG preview, else a half-size demosaic (see the module)."""

    format = FORMAT
    format_description = "camera RAW (LibRaw)"

    _raw: Any = None
    _preview: bytes | None = None
    _draft: tuple[str, tuple[int, int]] | None = None
    sensor_size: tuple[int, int] = (0, 0)  # the sensor's picture, as stored (not turned)

    def _open(self) -> None:
        import rawpy

        assert self.fp is not None
        data = self.fp.read()
        try:
            raw = rawpy.imread(io.BytesIO(data))
        except (rawpy.LibRawError, OSError, ValueError) as exc:
            raise SyntaxError(f"not a camera RAW file LibRaw reads: {exc}") from None
        self._raw = raw
        sizes = raw.sizes
        self.sensor_size = (int(sizes.width), int(sizes.height))
        try:
            thumb = raw.extract_thumb()
            if thumb.format == rawpy.ThumbFormat.JPEG:
                self._preview = bytes(thumb.data)
        except (rawpy.LibRawError, OSError, ValueError):
            self._preview = None  # none, or one LibRaw cannot give: demosaic instead
        if self._preview is not None:
            try:
                with Image.open(io.BytesIO(self._preview)) as shown:
                    size = shown.size
            except Exception:  # a damaged preview: demosaic instead
                self._preview, size = None, self._half_size()
        else:
            size = self._half_size()
        if size[0] <= 0 or size[1] <= 0:
            raise SyntaxError("RAW file declares an empty image")
        self._size = size
        self._mode = "RGB"
        orientation = _FLIP_TO_ORIENTATION.get(int(sizes.flip), 1)
        self.info["exif"] = _exif_bytes(orientation, _exif_source(data, self._preview))
        self.tile = []

    def _half_size(self) -> tuple[int, int]:
        width, height = self.sensor_size
        return (width + 1) // 2, (height + 1) // 2

    @property
    def has_preview(self) -> bool:
        return self._preview is not None

    def sensor_identity(self) -> str | None:
        """ "raw:" + a hash of the sensor data and orientation (unpacks it; see the module);
        None when LibRaw gives no single-plane sensor image (the caller hashes pixels)."""
        raw = self._raw
        if raw is None:
            return None
        try:
            sensor = raw.raw_image
        except Exception:  # noqa: BLE001 - LibRaw raises several types for odd sensors
            return None
        if sensor is None or sensor.ndim != 2:
            return None
        hasher = xxhash.xxh3_128()
        height, width = sensor.shape
        hasher.update(
            b"flip=%d;%dx%d;%s;" % (raw.sizes.flip, width, height, sensor.dtype.str.encode())
        )
        hasher.update(
            memoryview(sensor.copy(order="C") if not sensor.flags.c_contiguous else sensor)
        )
        return PREFIX + hasher.hexdigest()

    def draft(self, mode: str | None, size: tuple[int, int] | None) -> Any:
        """Decode the preview at the smallest JPEG scale still at least `size` (as JPEG)."""
        if self._preview is None or size is None or self._draft is not None:
            return None
        with Image.open(io.BytesIO(self._preview)) as shown:
            shown.draft("RGB", size)
            self._size = shown.size
        self._draft = ("RGB", size)
        return ("RGB", (0, 0, *self._size))

    def load(self) -> Any:
        if self._raw is not None:
            rgb = self._decode()
            self._raw.close()
            self._raw = None
            self.fp = io.BytesIO(rgb.tobytes())
            self._exclusive_fp = True
            self.tile = [("raw", (0, 0, *self.size), 0, "RGB")]  # type: ignore[list-item]
        return super().load()

    def _decode(self) -> Image.Image:
        if self._preview is not None:
            with Image.open(io.BytesIO(self._preview)) as shown:
                if self._draft is not None:
                    shown.draft(*self._draft)
                rgb = shown.convert("RGB")
        else:
            array = self._raw.postprocess(half_size=True, user_flip=0, use_camera_wb=True)
            rgb = Image.fromarray(array).convert("RGB")
        if rgb.size != self.size:  # an odd rounding of LibRaw's: the size declared holds
            rgb = rgb.resize(self.size)
        return rgb


def _accept(prefix: bytes) -> bool:
    return looks_raw(prefix)


def _open(fp: IO[bytes], filename: str | bytes) -> RawImageFile:
    return RawImageFile(fp, filename)


def register(extensions: frozenset[str]) -> bool:
    """Install the RAW opener (before Pillow's TIFF reader, which would misread a RAW file);
    False when LibRaw (rawpy) is not installed."""
    global _registered
    import importlib.util

    with _lock:
        if _registered:
            return True
        if importlib.util.find_spec("rawpy") is None:
            return False
        Image.register_open(FORMAT, _open, _accept)
        Image.register_extensions(FORMAT, sorted(extensions))
        if FORMAT in Image.ID:  # asked first: a TIFF it does not take goes on to TIFF
            Image.ID.remove(FORMAT)
            Image.ID.insert(0, FORMAT)
        _registered = True
    return True
