"""A near-duplicate benchmark from real sample images (scikit-image, scikit-learn) and copies.

Each source image gets transformed copies: resized, recompressed, cropped 10%, brightened,
EXIF-rotated (pixels turned, Orientation tag set so viewers show it upright) and re-saved as PNG.
The originals plus their copies form one true group per source. Distractors (different parts of
one large photo, similar texture, not duplicates) are singletons that test precision.

Used by bench/bench_groups_quality.py and by the tests (a few sources, small sizes).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

TRANSFORMS = ("original", "resized", "recompressed", "cropped", "brightened", "exif-rotated", "png")

SKIMAGE_SOURCES = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "camera",
    "immunohistochemistry",
    "hubble_deep_field",
    "coins",
    "moon",
    "page",
    "text",
    "brick",
    "grass",
    "gravel",
    "cell",
    "colorwheel",
    "logo",
    "horse",
    "clock",
)


def source_images(names: Iterable[str] | None = None) -> dict[str, Image.Image]:
    """Real photos and test images that ship inside installed packages (no network)."""
    import skimage.data
    from sklearn.datasets import load_sample_images

    out: dict[str, Image.Image] = {}
    wanted = set(names) if names is not None else None
    sample = load_sample_images()
    for fname, array in zip(sample.filenames, sample.images, strict=True):
        name = Path(fname).stem
        if wanted is None or name in wanted:
            out[name] = Image.fromarray(array)
    for name in SKIMAGE_SOURCES:
        if wanted is not None and name not in wanted:
            continue
        array = getattr(skimage.data, name)()
        if array.dtype == bool:
            array = array.astype(np.uint8) * 255
        image = Image.fromarray(array)
        out[name] = image.convert("RGB")
    return out


def _fit(image: Image.Image, side: int) -> Image.Image:
    image = image.copy()
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return image


def write_variants(image: Image.Image, folder: Path, stem: str) -> dict[str, Path]:
    """Write the original and each transformed copy; return {transform: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    rgb = image.convert("RGB")
    paths: dict[str, Path] = {}
    paths["original"] = folder / f"{stem}.jpg"
    rgb.save(paths["original"], quality=92)
    w, h = rgb.size
    paths["resized"] = folder / f"{stem}-small.jpg"
    rgb.resize((max(1, w // 2), max(1, h // 2)), Image.Resampling.LANCZOS).save(
        paths["resized"], quality=90
    )
    paths["recompressed"] = folder / f"{stem}-q35.jpg"
    rgb.save(paths["recompressed"], quality=35)
    # "Cropped 10%": a tenth of the width and of the height gone, 5% from each side.
    dx, dy = round(w * 0.05), round(h * 0.05)
    paths["cropped"] = folder / f"{stem}-crop.jpg"
    rgb.crop((dx, dy, w - dx, h - dy)).save(paths["cropped"], quality=92)
    paths["brightened"] = folder / f"{stem}-bright.jpg"
    ImageEnhance.Brightness(rgb).enhance(1.3).save(paths["brightened"], quality=92)
    # Stored turned 90 degrees with EXIF Orientation 6 (rotate 90 CW to view): displays upright.
    paths["exif-rotated"] = folder / f"{stem}-exif.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    rgb.transpose(Image.Transpose.ROTATE_90).save(paths["exif-rotated"], quality=92, exif=exif)
    paths["png"] = folder / f"{stem}.png"
    rgb.save(paths["png"])
    return paths


def distractors(image: Image.Image, folder: Path, stem: str, side: int) -> list[Path]:
    """Four non-overlapping quarters of one photo: alike in look, not duplicates."""
    folder.mkdir(parents=True, exist_ok=True)
    w, h = image.size
    out = []
    for n, (x, y) in enumerate(((0, 0), (1, 0), (0, 1), (1, 1))):
        quarter = image.crop((x * w // 2, y * h // 2, (x + 1) * w // 2, (y + 1) * h // 2))
        path = folder / f"{stem}-part{n}.jpg"
        _fit(quarter.convert("RGB"), side).save(path, quality=90)
        out.append(path)
    return out


def build(
    folder: Path,
    *,
    side: int = 384,
    names: Iterable[str] | None = None,
    with_distractors: bool = True,
) -> dict[Path, str]:
    """Write the benchmark into folder; return {path: true group label}."""
    truth: dict[Path, str] = {}
    sources = source_images(names)
    for name, image in sources.items():
        for path in write_variants(_fit(image, side), folder / name, name).values():
            truth[path] = name
    if with_distractors:
        import skimage.data

        for name in ("retina", "hubble_deep_field"):
            if names is not None and name not in set(names):
                continue
            big = Image.fromarray(getattr(skimage.data, name)())
            for n, path in enumerate(distractors(big, folder / f"{name}-parts", name, side)):
                truth[path] = f"{name}-part{n}"
    return truth
