"""A duplicate benchmark with hard negatives: pictures that fool perceptual hashes, beside true
copies at sizes from 16 px icons to 50 megapixels. Everything is generated or ships inside
installed packages (scikit-image, scikit-learn), so it builds offline and deterministically.

Hard negatives (distinct pictures, each its own label):
- alpha overlays: white shapes on transparency (the content lives only in the alpha channel);
- logos that differ only in alpha: one colour design cut out by different masks;
- colour variants of one design with equal grey levels (identical to a greyscale hash);
- gradients, flat and near-flat pictures, pale low-contrast abstracts;
- screenshots of one app window with different content; text pages with different text;
- burst-like sequences: a frame sliding a few percent over one photo (similar, not copies).

True duplicates (one label per source): identical bytes, identical pixels (PNG re-saved with
other settings, a text chunk added), re-encoded (JPEG quality, WebP, PNG), resized (50%, 25%),
EXIF-rotated, lightly edited (5% and 10% crops, brightness, contrast, a small colour shift);
icons written at 16 to 256 px; optionally one 50-megapixel photo with a 25% copy.

`build(folder)` writes the set and returns {path: Item}; tests use `build(..., small=True)`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, PngImagePlugin

WORDS = tuple(
    [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "file",
        "edit",
        "view",
        "help",
        "window",
        "open",
        "save",
        "close",
        "photo",
        "album",
        "rating",
        "library",
        "search",
        "filter",
        "export",
        "import",
        "settings",
        "folder",
        "image",
        "camera",
        "lens",
        "light",
        "shadow",
        "river",
        "mountain",
        "forest",
        "street",
        "market",
        "coffee",
        "garden",
        "winter",
        "summer",
        "travel",
        "family",
        "friend",
        "music",
    ]
)

# What a copy is, by its transform (the tier a perfect verifier would give it).
TIER_OF = {
    "original": "original",
    "copy": "bytes",
    "png-pixels": "pixels",
    "png-text": "pixels",
    "resized-50": "same",
    "resized-25": "same",
    "q35": "same",
    "webp": "same",
    "exif-rotated": "same",
    "crop-5": "edited",
    "crop-10": "edited",
    "brighter": "edited",
    "contrast": "edited",
    "warmer": "edited",
    "icon": "same",
    "50mp": "original",
    "50mp-25": "same",
}


@dataclass(frozen=True)
class Item:
    label: str  # files with one label are copies of one picture
    kind: str  # the category ("alpha-overlay", "photo", ...)
    transform: str = "original"
    scene: str = ""  # burst frames of one scene share it: "similar", never duplicates

    @property
    def positive(self) -> bool:
        return self.kind in ("photo", "icon", "big")


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


# -- hard negatives ------------------------------------------------------------------------


def _shape_mask(side: int, n: int) -> Image.Image:
    """The n-th distinct white shape (a letter, a polygon, a ring, bars) as an L mask."""
    mask = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(mask)
    kind = n % 4
    rng = np.random.default_rng(1000 + n)
    if kind == 0:
        letter = chr(ord("A") + (n // 4) % 26)
        draw.text((side * 0.2, side * 0.05), letter, fill=255, font=_font(int(side * 0.8)))
    elif kind == 1:
        k = 3 + (n // 4) % 6
        angles = np.linspace(0, 2 * np.pi, k, endpoint=False) + rng.random()
        c, r = side / 2, side * (0.25 + 0.2 * rng.random())
        draw.polygon([(c + r * np.cos(a), c + r * np.sin(a)) for a in angles], fill=255)
    elif kind == 2:
        x, y = rng.integers(side // 5, side - side // 5, 2)
        r = int(side * (0.1 + 0.15 * rng.random()))
        draw.ellipse((x - r, y - r, x + r, y + r), outline=255, width=max(2, side // 20))
    else:
        # Bars: their count and their length tell the shapes apart, by far more than a pixel.
        length = 0.35 + 0.12 * ((n // 16) % 5)
        for b in range(1 + (n // 4) % 4):
            y0 = int(side * (0.15 + 0.2 * b))
            draw.rectangle((side // 6, y0, int(side * length), y0 + side // 12), fill=255)
    return mask


def alpha_overlays(count: int, side: int) -> Iterable[tuple[str, Image.Image]]:
    for n in range(count):
        rgba = Image.new("RGBA", (side, side), (255, 255, 255, 0))
        rgba.putalpha(_shape_mask(side, n))
        yield f"overlay-{n:02d}", rgba


def _design(side: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (side, side), tuple(int(v) for v in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x0, y0 = rng.integers(0, side * 3 // 4, 2)
        w, h = rng.integers(side // 8, side // 2, 2)
        draw.rectangle(
            (x0, y0, x0 + w, y0 + h), fill=tuple(int(v) for v in rng.integers(0, 255, 3))
        )
    return image


def alpha_only_logos(count: int, side: int) -> Iterable[tuple[str, Image.Image]]:
    design = _design(side, 7)
    for n in range(count):
        rgba = design.convert("RGBA")
        rgba.putalpha(
            _shape_mask(side, 1 + n * 4 if n % 2 else 2 + n * 4).filter(ImageFilter.MaxFilter(9))
        )
        yield f"logo-alpha-{n:02d}", rgba


def _equal_luma(y: int, rng: np.random.Generator) -> tuple[int, int, int]:
    """A random colour whose Pillow grey level (ITU-R 601-2) is exactly y."""
    for _ in range(1000):
        r, b = (int(v) for v in rng.integers(0, 256, 2))
        g = round((y * 1000 - 299 * r - 114 * b) / 587)
        if 0 <= g <= 255 and (r * 299 + g * 587 + b * 114) // 1000 == y:
            return r, g, b
    return y, y, y


def colour_variants(designs: int, variants: int, side: int) -> Iterable[tuple[str, Image.Image]]:
    for d in range(designs):
        rng = np.random.default_rng(50 + d)
        regions = np.zeros((side, side), np.int64)
        for k in range(1, 6):
            x0, y0 = rng.integers(0, side * 2 // 3, 2)
            w, h = rng.integers(side // 6, side // 2, 2)
            regions[y0 : y0 + h, x0 : x0 + w] = k
        greys = rng.integers(40, 220, 6)
        for v in range(variants):
            palette = np.array([_equal_luma(int(g), rng) for g in greys], np.uint8)
            yield f"variant-{d}-{v}", Image.fromarray(palette[regions], "RGB")


def gradients(count: int, side: int) -> Iterable[tuple[str, Image.Image]]:
    yy, xx = np.mgrid[0:side, 0:side] / (side - 1)
    for n in range(count):
        rng = np.random.default_rng(300 + n)
        kind = n % 4
        if kind == 0:  # linear, two colours, some direction
            a = rng.random() * np.pi
            t = np.cos(a) * xx + np.sin(a) * yy - min(0, np.cos(a)) - min(0, np.sin(a))
            t = t / t.max()
        elif kind == 1:  # radial
            cx, cy = rng.random(2)
            t = np.clip(np.hypot(xx - cx, yy - cy) / 1.2, 0, 1)
        elif kind == 2:  # near-flat: one colour and faint noise
            t = rng.random((side, side)) * 0.04
        else:  # pale abstract: blurred low-contrast blobs
            small = rng.random((6, 6))
            t = (
                np.asarray(
                    Image.fromarray((small * 255).astype(np.uint8)).resize(
                        (side, side), Image.Resampling.BICUBIC
                    )
                )
                / 255
                * 0.25
            )
        c0, c1 = rng.integers(120, 255, 3), rng.integers(120, 255, 3)
        pixels = c0[None, None, :] * (1 - t[..., None]) + c1[None, None, :] * t[..., None]
        yield f"gradient-{n:02d}", Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def _lines(rng: np.random.Generator, count: int, longest: int) -> list[str]:
    out = []
    for _ in range(count):
        words = rng.choice(WORDS, int(rng.integers(2, longest)))
        out.append(" ".join(words))
    return out


def screenshots(count: int, width: int, height: int) -> Iterable[tuple[str, Image.Image]]:
    for n in range(count):
        rng = np.random.default_rng(400 + n)
        image = Image.new("RGB", (width, height), (246, 246, 246))
        draw = ImageDraw.Draw(image)
        bar = height // 14
        draw.rectangle((0, 0, width, bar), fill=(52, 58, 70))
        draw.text((10, bar // 5), "Photo Manager", fill=(230, 230, 230), font=_font(bar * 2 // 3))
        draw.rectangle((0, bar, width // 5, height), fill=(225, 228, 235))
        font = _font(max(8, height // 36))
        for k, line in enumerate(["Library", "Albums", "People", "Places", "Trash"]):
            draw.text((10, bar + 10 + k * height // 18), line, fill=(40, 40, 40), font=font)
        for k, line in enumerate(_lines(rng, 14, 9)):
            draw.text(
                (width // 5 + 16, bar + 12 + k * height // 20), line, fill=(20, 20, 20), font=font
            )
        yield f"screenshot-{n:02d}", image


def text_pages(count: int, width: int, height: int) -> Iterable[tuple[str, Image.Image]]:
    for n in range(count):
        rng = np.random.default_rng(500 + n)
        image = Image.new("L", (width, height), 250)
        draw = ImageDraw.Draw(image)
        font = _font(max(8, height // 45))
        for k, line in enumerate(_lines(rng, 30, 10)):
            draw.text((width // 10, height // 12 + k * height // 36), line, fill=15, font=font)
        yield f"page-{n:02d}", image.convert("RGB")


# -- positives -----------------------------------------------------------------------------


def photo_sources(names: Iterable[str] | None = None) -> dict[str, Image.Image]:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench import dupset

    return {k: v.convert("RGB") for k, v in dupset.source_images(names).items()}


def _fit(image: Image.Image, side: int) -> Image.Image:
    image = image.copy()
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return image


def write_photo_copies(image: Image.Image, folder: Path, stem: str) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rgb = image.convert("RGB")
    w, h = rgb.size
    out: dict[str, Path] = {}

    def save(transform: str, picture: Image.Image, ext: str, **kw: object) -> None:
        out[transform] = folder / f"{stem}-{transform}.{ext}"
        picture.save(out[transform], **kw)

    save("original", rgb, "jpg", quality=92)
    out["copy"] = folder / f"{stem}-copy.jpg"
    shutil.copyfile(out["original"], out["copy"])
    decoded = Image.open(out["original"]).convert("RGB")
    save("png-pixels", decoded, "png", compress_level=9)
    info = PngImagePlugin.PngInfo()
    info.add_text("Description", f"{stem}, edited caption")
    save("png-text", decoded, "png", compress_level=1, pnginfo=info)
    save(
        "resized-50",
        rgb.resize((max(1, w // 2), max(1, h // 2)), Image.Resampling.LANCZOS),
        "jpg",
        quality=90,
    )
    save(
        "resized-25",
        rgb.resize((max(1, w // 4), max(1, h // 4)), Image.Resampling.LANCZOS),
        "jpg",
        quality=90,
    )
    save("q35", rgb, "jpg", quality=35)
    save("webp", rgb, "webp", quality=80)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned; viewers rotate it upright
    save("exif-rotated", rgb.transpose(Image.Transpose.ROTATE_90), "jpg", quality=92, exif=exif)
    for pct in (5, 10):
        # pct% of the width and of the height gone, half from each side.
        dx, dy = round(w * pct / 200), round(h * pct / 200)
        save(f"crop-{pct}", rgb.crop((dx, dy, w - dx, h - dy)), "jpg", quality=92)
    save("brighter", ImageEnhance.Brightness(rgb).enhance(1.15), "jpg", quality=92)
    save("contrast", ImageEnhance.Contrast(rgb).enhance(1.15), "jpg", quality=92)
    warm = np.asarray(rgb).astype(np.int16) + np.array([8, 2, -8], np.int16)
    save("warmer", Image.fromarray(np.clip(warm, 0, 255).astype(np.uint8)), "jpg", quality=92)
    return out


def icon_designs(count: int, side: int = 256) -> Iterable[tuple[str, Image.Image]]:
    for n in range(count):
        rng = np.random.default_rng(600 + n)
        icon = Image.new("RGBA", (side, side), (0, 0, 0, 0))
        draw = ImageDraw.Draw(icon)
        colour = tuple(int(v) for v in rng.integers(30, 230, 3)) + (255,)
        draw.rounded_rectangle(
            (side // 16, side // 16, side * 15 // 16, side * 15 // 16),
            radius=side // 5,
            fill=colour,
        )
        mask = _shape_mask(side, 3 + n * 4 if n % 2 else n * 4)
        icon.paste((255, 255, 255, 255), (0, 0), mask)
        yield f"icon-{n:02d}", icon


def bursts(
    image: Image.Image, scene: str, frames: int, side: int
) -> Iterable[tuple[str, Image.Image]]:
    """Frames that slide 4% of the width each over one photo, with a little exposure drift."""
    rgb = image.convert("RGB")
    w, h = rgb.size
    cw, ch = int(w * 0.7), int(h * 0.7)
    for n in range(frames):
        x = int(w * 0.04 * n)
        frame = rgb.crop((x, (h - ch) // 2, x + cw, (h - ch) // 2 + ch))
        frame = ImageEnhance.Brightness(frame).enhance(1.0 + 0.02 * (n % 3))
        yield f"{scene}-frame{n}", _fit(frame, side)


def build(folder: Path, *, small: bool = False, big: bool = False) -> dict[Path, Item]:
    """Write the set into folder; {path: Item}. small: a few of each (for tests)."""
    folder.mkdir(parents=True, exist_ok=True)
    truth: dict[Path, Item] = {}
    k = 1 if small else 3
    side = 128 if small else 256

    def put(kind: str, name: str, image: Image.Image, ext: str = "png", **kw: object) -> None:
        path = folder / kind / f"{name}.{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, **kw)
        truth[path] = Item(name, kind)

    for name, im in alpha_overlays(12 * k, side):
        put("alpha-overlay", name, im)
    for name, im in alpha_only_logos(3 * k, side):
        put("alpha-logo", name, im)
    for name, im in colour_variants(k, 4, side):
        put("colour-variant", name, im)
    for name, im in gradients(4 * k, side):
        put("gradient", name, im, "jpg", quality=90)
    for name, im in screenshots(2 * k, 4 * side, 5 * side // 2):
        put("screenshot", name, im)
    for name, im in text_pages(2 * k, 2 * side, 3 * side):
        put("text-page", name, im)
    names = ("astronaut", "coffee", "chelsea") if small else None
    photos = photo_sources(names)
    for scene in list(photos)[:k]:
        for name, im in bursts(photos[scene], f"burst-{scene}", 2 + k, 2 * side):
            path = folder / "burst" / f"{name}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            im.save(path, quality=90)
            truth[path] = Item(name, "burst", scene=scene)
    for name, im in photos.items():
        for transform, path in write_photo_copies(
            _fit(im, 3 * side // 2), folder / "photo" / name, name
        ).items():
            truth[path] = Item(name, "photo", transform)
    for name, icon in icon_designs(2 * k):
        for px in (16, 24, 32, 48, 64, 128, 256):
            path = folder / "icon" / name / f"{name}-{px}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            icon.resize((px, px), Image.Resampling.LANCZOS).save(path)
            truth[path] = Item(name, "icon", "icon" if px != 256 else "original")
    if big:
        import skimage.data

        source = Image.fromarray(skimage.data.retina()).convert("RGB")  # not among the photos
        huge = source.resize((8660, 5774), Image.Resampling.BICUBIC)
        path = folder / "big" / "retina-50mp.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        huge.save(path, quality=90)
        truth[path] = Item("retina-50mp", "big", "50mp")
        small_path = folder / "big" / "retina-50mp-25.jpg"
        huge.resize((8660 // 4, 5774 // 4), Image.Resampling.LANCZOS).save(small_path, quality=90)
        truth[small_path] = Item("retina-50mp", "big", "50mp-25")
    return truth
