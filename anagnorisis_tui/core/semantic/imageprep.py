"""Decode and shrink images for a CLIP model, fast: Pillow + numpy only (runs in worker threads).

A 12 MP JPEG decoded in full costs ~100 ms; with `Image.draft` libjpeg decodes straight to
1/2, 1/4 or 1/8 scale (DCT scaling), which for a 224 px model input is 5-10x cheaper. Pillow
releases the GIL while decoding and resizing, so a few threads keep the model busy.

The output is the model's square input as uint8 HxWx3; normalisation happens batched in torch.
Resizing follows open_clip's default preprocessing: shortest side to `size` (bicubic), then a
centre crop - so vectors match what open_clip's own transform would give.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from anagnorisis_tui.core.base import formats
from anagnorisis_tui.core.errors import UserError

formats.register()  # HEIC/HEIF model input in any process, whatever it imported first

# Decompression-bomb guard: refuse images above this many pixels (a 200 MP panorama is fine).
MAX_PIXELS = 250_000_000


class ImageDecodeError(UserError, ValueError):
    """An image that cannot be decoded; the message is the reason recorded in embed_errors."""


def fit(image: Image.Image, size: int, resize_mode: str = "shortest") -> Image.Image:
    """Resize to the model's input: shortest side to `size` + centre crop (open_clip default)."""
    if image.mode != "RGB":
        image = _to_rgb(image)
    w, h = image.size
    if resize_mode == "squash":
        return image.resize((size, size), Image.Resampling.BICUBIC)
    if resize_mode == "longest":
        scale = size / max(w, h)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        resized = image.resize((nw, nh), Image.Resampling.BICUBIC)
        canvas = Image.new("RGB", (size, size), (0, 0, 0))
        canvas.paste(resized, ((size - nw) // 2, (size - nh) // 2))
        return canvas
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    if (nw, nh) != (w, h):
        # reducing_gap: resample in two steps (fast box reduce, then bicubic) for big inputs.
        image = image.resize((nw, nh), Image.Resampling.BICUBIC, reducing_gap=3.0)
    left, top = (nw - size) // 2, (nh - size) // 2
    if (nw, nh) != (size, size):
        image = image.crop((left, top, left + size, top + size))
    return image


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels over white, as a viewer shows them, not over black garbage.
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(image, dtype=np.float32)
        hi = float(arr.max()) or 1.0
        return Image.fromarray((arr / hi * 255).astype(np.uint8)).convert("RGB")
    return image.convert("RGB")


def load(path: str | os.PathLike[str], size: int, resize_mode: str = "shortest") -> np.ndarray:
    """Decode `path` into the model's uint8 input (size x size x 3), EXIF orientation applied.

    Raises ImageDecodeError with a short reason for anything that cannot be used.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(Path(path)) as img:
                if img.width * img.height > MAX_PIXELS:
                    raise ImageDecodeError(f"too large ({img.width}x{img.height} pixels)")
                if img.format in ("JPEG", "RAW"):
                    # Decode at the smallest DCT scale whose sides are still >= the target
                    # (a RAW file's embedded JPEG preview, core/base/rawformat.py).
                    img.draft("RGB", (size, size))
                img.seek(0)
                img.load()
                oriented = ImageOps.exif_transpose(img)
                out = fit(oriented, size, resize_mode)
                return np.asarray(out, dtype=np.uint8)
    except ImageDecodeError:
        raise
    except FileNotFoundError:
        raise ImageDecodeError("file not found") from None
    except PermissionError:
        raise ImageDecodeError("permission denied") from None
    except Image.DecompressionBombError as exc:
        raise ImageDecodeError(f"too large: {exc}") from None
    except Image.DecompressionBombWarning as exc:
        raise ImageDecodeError(f"too large: {exc}") from None
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:
        # Truncated/corrupt data, unknown formats (UnidentifiedImageError is an OSError).
        reason = str(exc).strip() or type(exc).__name__
        raise ImageDecodeError(f"cannot decode: {reason}") from None
    except Exception as exc:  # noqa: BLE001 - hostile files can raise anything in plugins
        raise ImageDecodeError(f"cannot decode: {type(exc).__name__}: {exc}") from None
