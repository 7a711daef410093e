"""Thumbnails: made from the original file, cached on disk by content hash and size. UI-free.

A thumbnail is keyed by the image's content hash, so a moved or renamed file keeps its cached
thumbnail and an edited file gets a new one. Files are written to a temporary name and renamed
into place, so a kill mid-write never leaves a truncated thumbnail behind, and two workers making
the same thumbnail at once cannot corrupt it.

Speed comes from reduced-size decoding: `Image.draft` lets the JPEG decoder produce a 1/2, 1/4 or
1/8 scale image directly (DCT scaling), which is several times faster than decoding 12 MP and
shrinking it (see BENCHMARKS.md, terminal app).
"""

from __future__ import annotations

import os
import threading
import uuid
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from anagnorisis_tui.core.base import formats, paths
from anagnorisis_tui.core.base.progress import Cancelled, Progress, ProgressCallback, Timer, check

formats.register()  # HEIC/HEIF thumbnails in any process, whatever it imported first

# Longest side in pixels. A grid cell of ~24x12 characters at 10x20-pixel cells is 240x240
# pixels, so this serves sixel and kitty at full cell resolution and half-cell trivially.
THUMB_SIZE = 256
JPEG_QUALITY = 85
# Transparent images are flattened onto the app's dark background colour.
BACKGROUND = (30, 30, 30)


class ThumbnailError(Exception):
    """The source cannot be turned into a thumbnail (unreadable, corrupt, not an image)."""


# Makes missing thumbnails into the cache somewhere else (the app: a child process, so the UI
# never decodes an original): (items of (content hash, path), size, made) where
# made(content_hash, error) is called as each one is done ("" when it was written) and returns
# False to stop. Raises ThumbnailError when it cannot run at all.
Maker = Callable[[list[tuple[str, str]], int, Callable[[str, str], bool]], None]
# Where get_many delivers each thumbnail: (content hash, image or None, the error when None).
Ready = Callable[[str, "Image.Image | None", str], None]


@dataclass(frozen=True)
class ThumbnailSummary:
    done: int
    made: int
    cached: int
    failed: int
    seconds: float
    cancelled: bool = False


def cache_dir(data_dir: Path) -> Path:
    return paths.thumbnails_dir(Path(data_dir))


def thumbnail_path(cache: Path, content_hash: str, size: int = THUMB_SIZE) -> Path:
    # Two-character fan-out keeps directories small on filesystems that slow down at 100k entries.
    return Path(cache) / str(size) / content_hash[:2] / f"{content_hash}.jpg"


def cached(cache: Path, content_hash: str, size: int = THUMB_SIZE) -> Path | None:
    path = thumbnail_path(cache, content_hash, size)
    return path if path.is_file() else None


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, BACKGROUND)
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits instead of clipping everything to white.
        return image.point(lambda v: v / 256).convert("L").convert("RGB")
    return image.convert("RGB")


def load_reduced(source: str | os.PathLike[str], size: int, *, draft: bool = True) -> Image.Image:
    """Open `source` decoded at (about) `size` pixels on its longest side, EXIF orientation applied.

    With `draft`, JPEGs decode at the smallest DCT scale still at least `size` wide and high;
    without it, the whole image is decoded first (the baseline in the benchmark).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as opened:
                if draft:
                    # draft() must come before the first load(); exif_transpose loads.
                    opened.draft("RGB", (size, size))
                else:
                    opened.load()
                image = ImageOps.exif_transpose(opened) or opened
                image.load()
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
        raise ThumbnailError(f"cannot read {os.fspath(source)!s}: {exc}") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ThumbnailError(f"refusing a decompression bomb: {exc}") from exc
    return image


def make_thumbnail(
    source: str | os.PathLike[str], size: int = THUMB_SIZE, *, draft: bool = True
) -> Image.Image:
    return shrink(load_reduced(source, size, draft=draft), size, name=os.fspath(source))


def shrink(image: Image.Image, size: int = THUMB_SIZE, *, name: str = "") -> Image.Image:
    """The thumbnail of an upright decoded image (any mode), at most `size` on its longest side."""
    try:
        image = _flatten(image)
        if max(image.size) > size:
            image = image.copy() if image.mode == "RGB" else image
            # reducing_gap: a cheap box reduction first, then a good filter for the last step.
            image.thumbnail((size, size), Image.Resampling.BICUBIC, reducing_gap=2.0)
    except (OSError, ValueError) as exc:
        raise ThumbnailError(f"cannot shrink {name}: {exc}") from exc
    return image


def ensure_thumbnail(
    cache: Path,
    source: str | os.PathLike[str],
    content_hash: str,
    size: int = THUMB_SIZE,
    *,
    draft: bool = True,
) -> Path:
    """The cached thumbnail's path, making it first if needed. Raises ThumbnailError."""
    target = thumbnail_path(cache, content_hash, size)
    if target.is_file():
        return target
    return save_thumbnail(cache, content_hash, make_thumbnail(source, size, draft=draft), size)


def save_thumbnail(
    cache: Path, content_hash: str, image: Image.Image, size: int = THUMB_SIZE
) -> Path:
    """Write a thumbnail made by `shrink` into the cache atomically; returns its path."""
    target = thumbnail_path(cache, content_hash, size)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        image.save(tmp, "JPEG", quality=JPEG_QUALITY)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ThumbnailError(f"cannot write the thumbnail cache {target.parent}: {exc}") from exc
    return target


def load_thumbnail(path: Path) -> Image.Image:
    """A cached thumbnail, fully loaded (so the file handle is closed at once)."""
    try:
        with Image.open(path) as opened:
            opened.load()
            return opened.copy() if opened.mode == "RGB" else opened.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise ThumbnailError(f"bad cached thumbnail {path}: {exc}") from exc


def generate(
    cache: Path,
    items: Iterable[tuple[str, str]],
    *,
    total: int | None = None,
    size: int = THUMB_SIZE,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ThumbnailSummary:
    """Make missing thumbnails for (content_hash, path) pairs; what exists is skipped.

    Returns what was done so far, with cancelled=True when `cancel` was set.
    """
    timer = Timer()
    done = made = hits = failed = 0
    seen: set[str] = set()
    cancelled = False
    try:
        for content_hash, path in items:
            check(cancel)
            done += 1
            if content_hash in seen or thumbnail_path(cache, content_hash, size).is_file():
                hits += 1
            else:
                try:
                    ensure_thumbnail(cache, path, content_hash, size)
                    made += 1
                except ThumbnailError:
                    failed += 1
            seen.add(content_hash)
            if progress is not None:
                progress(
                    Progress("thumbnails", done, total, elapsed=timer.elapsed, detail=str(path))
                )
    except Cancelled:
        cancelled = True
    return ThumbnailSummary(done, made, hits, failed, timer.elapsed, cancelled)


class ThumbnailStore:
    """Thumbnails for a session: the disk cache plus a small in-memory LRU of decoded images.

    Thread-safe: worker threads call `get`; the UI thread calls `peek`. Failures are remembered
    for the session so an unreadable file is not re-read on every scroll.
    """

    def __init__(
        self, cache: Path, size: int = THUMB_SIZE, memory: int = 400, maker: Maker | None = None
    ) -> None:
        self.cache = Path(cache)
        self.size = size
        self.memory = memory
        self.maker = maker
        self._images: OrderedDict[str, Image.Image] = OrderedDict()
        self._failed: dict[str, str] = {}
        self._lock = threading.Lock()

    def move_to(self, cache: Path) -> None:
        """Serve another catalogue's cache from now on (the app moving from the demo library to
        the user's): what was held in memory and the failures remembered are forgotten."""
        with self._lock:
            self.cache = Path(cache)
            self._images.clear()
            self._failed.clear()

    def peek(self, content_hash: str) -> Image.Image | None:
        with self._lock:
            image = self._images.get(content_hash)
            if image is not None:
                self._images.move_to_end(content_hash)
            return image

    def failure(self, content_hash: str) -> str | None:
        with self._lock:
            return self._failed.get(content_hash)

    def get(self, content_hash: str, source: str | os.PathLike[str]) -> Image.Image:
        """The thumbnail, from memory, the disk cache, or made now. Raises ThumbnailError."""
        image = self.peek(content_hash)
        if image is not None:
            return image
        reason = self.failure(content_hash)
        if reason is not None:
            raise ThumbnailError(reason)
        try:
            path = ensure_thumbnail(self.cache, source, content_hash, self.size)
            image = load_thumbnail(path)
        except ThumbnailError as exc:
            self._fail(content_hash, str(exc))
            raise
        return self._keep(content_hash, image)

    def get_many(
        self,
        items: Sequence[tuple[str, str]],
        ready: Ready,
        stop: Callable[[], bool] = lambda: False,
    ) -> None:
        """Each thumbnail of (content hash, path) `items`, to `ready` as soon as it is had:
        from memory or the disk cache at once, then the missing ones made together by the
        maker when there is one (else here, one by one). Stops early when `stop()` is true."""
        missing: list[tuple[str, str]] = []
        for content_hash, source in items:
            if stop():
                return
            if self.maker is not None and not self._known(content_hash):
                missing.append((content_hash, source))
                continue
            try:
                image = self.get(content_hash, source)
            except ThumbnailError as exc:
                ready(content_hash, None, str(exc))
            else:
                ready(content_hash, image, "")
        if missing and self.maker is not None:
            self._make(missing, ready, stop)

    def _known(self, content_hash: str) -> bool:
        """Whether the thumbnail is had without a decode: in memory, failed, or on disk."""
        with self._lock:
            if content_hash in self._images or content_hash in self._failed:
                return True
        return cached(self.cache, content_hash, self.size) is not None

    def _make(self, missing: list[tuple[str, str]], ready: Ready, stop: Callable[[], bool]) -> None:
        assert self.maker is not None
        left = dict(missing)

        def made(content_hash: str, error: str) -> bool:
            if left.pop(content_hash, None) is None:
                return not stop()
            if error:
                self._fail(content_hash, error)
                ready(content_hash, None, error)
            else:
                try:  # the file just made, never a decode of the original here
                    image = load_thumbnail(thumbnail_path(self.cache, content_hash, self.size))
                except ThumbnailError as exc:
                    ready(content_hash, None, str(exc))
                else:
                    ready(content_hash, self._keep(content_hash, image), "")
            return not stop()

        try:
            self.maker(missing, self.size, made)
        except ThumbnailError as exc:
            if stop():
                return
            # The maker died (a decoder crash takes its process down): the item it was on is
            # remembered as failed so a crash is not repeated on every scroll; the rest retry.
            for number, content_hash in enumerate(list(left)):
                if number == 0:
                    self._fail(content_hash, str(exc))
                ready(content_hash, None, str(exc))

    def _fail(self, content_hash: str, reason: str) -> None:
        with self._lock:
            self._failed[content_hash] = reason

    def _keep(self, content_hash: str, image: Image.Image) -> Image.Image:
        with self._lock:
            self._images[content_hash] = image
            while len(self._images) > self.memory:
                self._images.popitem(last=False)
        return image

    def forget_failures(self) -> None:
        with self._lock:
            self._failed.clear()
