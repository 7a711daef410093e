"""What the ingest pass derives from one read and one decode of a content (ingest_pass.py).

`derive` runs in a worker thread: it reads the file, checks its bytes against the catalogued
content hash, takes the JPEG identity without a decode where it can, decodes once at the
largest size any product needs, and makes every product from that one upright image: with the
perceptual hash, the duplicate finder's verification rendition (core/duplicates/verify.py), so
grouping never decodes the file again.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import xxhash
from PIL import Image, ImageOps

from anagnorisis_tui.core.base import fsnames, rawformat
from anagnorisis_tui.core.base.hashing import canonical_pixels, hash_canonical
from anagnorisis_tui.core.catalogue import thumbnails
from anagnorisis_tui.core.catalogue.decode_budget import DecodeLimits, pixel_bytes
from anagnorisis_tui.core.catalogue.imageinfo import os_error_reason, parse_jpeg
from anagnorisis_tui.core.catalogue.jpeg_identity import stream_identity
from anagnorisis_tui.core.duplicates import phash, verify


@dataclass
class Products:
    """What the pass derives besides pixel identity."""

    thumbnail_cache: Path | None = None  # None: no thumbnails
    thumbnail_size: int = thumbnails.THUMB_SIZE
    phash: bool = True
    # The model (Embedder interface: model_id, dim, image_size, resize_mode, encode_images,
    # info) or a callable that returns it: called once, when the pass starts, so a model can
    # load while the walk and the catalogue pass run. None: no vectors.
    embedder: Any = None
    batch_size: int = 32
    workers: int | None = None
    # Memory one decode may take (bytes; 0: a share of the available memory) and the lock file
    # of the large-image lane shared by the processes of one data dir (decode_budget.py).
    decode_budget: int = 0
    decode_lock: Path | None = None


class Job(NamedTuple):
    content: str
    path: str
    identify: bool
    legacy: bool  # a rewritten JPEG may match content identified by a full decode earlier
    phash: bool
    thumb: bool
    embed: bool
    rendition: bool = False  # the duplicate finder's verification rendition is missing


class Derived(NamedTuple):
    job: Job
    pixel: str | None = None
    legacy_pixel: str | None = None
    phash: int | None = None
    clip: np.ndarray | None = None
    thumb: bool = False
    failure: str | None = None
    missing: bool = False
    rendition: tuple[bytes, int, int] | None = None  # bytes, displayed width and height
    retry: bool = False  # a failure that is not the file's (memory): the next scan tries again


def decode_size(products: Products, embedder: Any) -> int:
    sizes = [phash.DECODE_SIDE]
    if products.thumbnail_cache is not None:
        sizes.append(products.thumbnail_size)
    if embedder is not None:
        sizes.append(int(embedder.image_size))
    return max(sizes)


def derive(
    job: Job,
    products: Products,
    decode_side: int,
    model: tuple[int, str] | None,
    limits: DecodeLimits | None = None,
) -> Derived:
    """Everything `job` needs from one read of its file (runs in a worker thread). With
    `limits`, an image whose pixels would not fit the memory budget is refused before it is
    decoded, and a large one is decoded in the one large-image lane (decode_budget.py)."""
    try:
        with open(fsnames.to_os(job.path), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return Derived(job, missing=True)
    except OSError as exc:
        return Derived(job, failure=os_error_reason(exc))
    if xxhash.xxh3_128_hexdigest(data) != job.content:
        return Derived(job, missing=True)
    pixel = None
    if job.identify and data[:3] == b"\xff\xd8\xff":
        parsed = parse_jpeg(data, need_scan=False)
        if parsed is not None:
            pixel = stream_identity(data, parsed[0].orientation)
    need_image = job.phash or job.thumb or job.embed or job.rendition
    raw = job.identify and pixel is None and rawformat.looks_raw(data[:16])
    full = (job.identify and pixel is None and not raw) or job.legacy
    if not need_image and not full and not raw:
        return Derived(job, pixel=pixel)
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if raw and isinstance(opened, rawformat.RawImageFile):
                # The sensor data is the identity; its one unpack also serves the demosaic.
                pixel = opened.sensor_identity()
            full = full or (job.identify and pixel is None)
            if not need_image and not full:
                return Derived(job, pixel=pixel)
            shown = opened.size  # draft() below may shrink the decode
            if not full and opened.format in ("JPEG", rawformat.FORMAT):
                # The smallest DCT scale whose sides are all still >= decode_side (for a
                # RAW file, of its embedded JPEG preview).
                opened.draft("RGB", (decode_side, decode_side))
            need = pixel_bytes(opened)
            refused = limits.refusal(need) if limits is not None else None
            if refused is not None:
                return Derived(job, failure=refused, retry=True)
            with limits.lane(need) if limits is not None else contextlib.nullcontext():
                return _decoded(job, products, opened, pixel, full, shown, model)
    except Image.DecompressionBombError as exc:
        return Derived(job, failure=f"too large (possible decompression bomb): {exc}")
    except MemoryError:
        # Not the file's fault: the next scan tries again (recorded, not for good).
        return Derived(job, failure="not enough memory to decode the pixels", retry=True)
    except Exception as exc:  # decoders raise many types on hostile bytes
        message = str(exc) or type(exc).__name__
        prefix = "truncated image" if "truncated" in message else "cannot decode the pixels"
        return Derived(job, failure=f"{prefix}: {message}")


def _decoded(
    job: Job,
    products: Products,
    opened: Image.Image,
    pixel: str | None,
    full: bool,
    size: tuple[int, int],
    model: tuple[int, str] | None,
) -> Derived:
    """The products of one decode of `opened` (the body of `derive`)."""
    need_image = job.phash or job.thumb or job.embed or job.rendition
    if full:
        upright = canonical_pixels(opened)
        decoded = hash_canonical(upright)
        shown = upright.size
    else:
        full_w, full_h = size
        opened.load()
        upright = ImageOps.exif_transpose(opened) or opened
        turned = upright.size != opened.size
        shown = (full_h, full_w) if turned else (full_w, full_h)
        decoded = None
    legacy = decoded if (job.legacy and pixel is not None) else None
    pixel = pixel or decoded
    if not need_image:
        return Derived(job, pixel=pixel, legacy_pixel=legacy)
    # The duplicate finder's products of this decode (perceptual hash, rendition).
    value = phash.phash_image(upright) if job.phash else None
    shape = None
    if job.rendition:
        shape = (verify.rendition(upright), shown[0], shown[1])
    made = False
    if job.thumb and products.thumbnail_cache is not None:
        small = thumbnails.shrink(upright, products.thumbnail_size)
        try:
            thumbnails.save_thumbnail(
                products.thumbnail_cache, job.content, small, products.thumbnail_size
            )
            made = True
        except thumbnails.ThumbnailError:
            pass  # an unwritable cache is not the image's fault; the grid retries
    clip = None
    if job.embed and model is not None:
        from anagnorisis_tui.core.semantic import imageprep

        clip = np.asarray(imageprep.fit(upright, model[0], model[1]), dtype=np.uint8)
    return Derived(job, pixel, legacy, value, clip, made, rendition=shape)


def derive_many(
    jobs: list[Job],
    products: Products,
    side: int,
    model: tuple[int, str] | None,
    limits: DecodeLimits | None = None,
) -> list[Derived]:
    return [derive(job, products, side, model, limits) for job in jobs]
