"""Series a user meets, beside copies that look unlike their original: the second half of the
duplicate benchmark's hard set (bench/hardset.py is the first), generated offline from real
photos (scikit-image's and scikit-learn's, never one image alone).

Series (pictures alike but taken at different moments: each series its own scene, each frame
its own label, so no frame may be trashed for another):
- bursts: a subject (a disc cut from another photo) moving ~8% of the width a frame;
- pans: a window over a wider photo moving 1, 2 and 3% of its width;
- exposure brackets: -1, -0.3, +0.3 and +1 EV in linear light, highlights clipped, sensor
  noise of its own per frame, and the EXIF a camera writes (time with sub-seconds, exposure);
- a changed region: one region blurred, or a figure pasted in;
- animation frames: a disc of a photo turning a few degrees a frame (200 x 184 PNGs);
- icon states: a 21-pixel icon with a status dot on and off, a little brighter when on.

Copies (one label per source, a trash tier expected): a photo mirrored and rotated by 90, 180
and 270 degrees in its pixels (tier "edited"), and flat pictures (gradients, flat colours, a
plain screenshot) re-encoded as JPEG at quality 55 and resized to a third as PNG ("same").

`build(folder)` writes the set and returns {path: Item} (bench/hardset.py's Item: its `scene`
names the series a frame belongs to).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from bench.hardset import Item, photo_sources

PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "china",
    "flower",
    "immunohistochemistry",
    "hubble_deep_field",
    "retina",
    "camera",
    "moon",
    "coins",
)
# Which photos each kind is made from: disjoint, so no two kinds hold one picture.
USE = {
    "burst": ("astronaut", "coffee"),
    "subject": ("china", "flower"),
    "pan": ("chelsea", "rocket"),
    "bracket": ("china", "flower"),
    "region": ("retina", "camera", "moon"),
    "anim": ("china", "flower"),
    "turned": ("immunohistochemistry", "hubble_deep_field", "coins"),
}
EXPOSURE = {"-1": 1 / 250, "-0.3": 1 / 160, "+0.3": 1 / 100, "+1": 1 / 60}


def _fit(image: Image.Image, width: int) -> Image.Image:
    w, h = image.size
    return image.resize((width, round(h * width / w)), Image.Resampling.LANCZOS)


def _disc(source: Image.Image, side: int) -> tuple[Image.Image, Image.Image]:
    """A round cut-out of the middle of a photo, and its mask."""
    w, h = source.size
    box = min(w, h)
    square = source.crop(((w - box) // 2, (h - box) // 2, (w + box) // 2, (h + box) // 2))
    square = square.resize((side, side), Image.Resampling.LANCZOS)
    mask = Image.new("L", (side, side), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, side - 1, side - 1), fill=255)
    return square, mask


def _exif(second: int, sub: int, exposure: float, bias: str | None = None) -> Image.Exif:
    from fractions import Fraction

    exif = Image.Exif()
    exif[0x010F] = "BenchCam"
    sub_ifd = exif.get_ifd(0x8769)
    sub_ifd[0x9003] = f"2024:06:01 12:00:{second:02d}"
    sub_ifd[0x9291] = f"{sub:02d}"
    fraction = Fraction(exposure).limit_denominator(8000)
    sub_ifd[0x829A] = (fraction.numerator, fraction.denominator)
    sub_ifd[0x8827] = 100
    if bias is not None:
        value = Fraction(float(bias)).limit_denominator(10)
        sub_ifd[0x9204] = (value.numerator, value.denominator)
    return exif


def bursts(
    photos: dict[str, Image.Image], width: int = 512
) -> Iterable[tuple[str, str, Image.Image, Image.Exif | None]]:
    for n, name in enumerate(USE["burst"]):
        scene = _fit(photos[name], width)
        subject, mask = _disc(photos[USE["subject"][n]], width // 8)
        rng = np.random.default_rng(10 + n)
        y = scene.height // 2 - subject.height // 2
        for frame in range(4):
            shot = scene.copy()
            shot.paste(subject, (width // 5 + frame * width * 8 // 100, y), mask)
            noisy = np.asarray(shot, np.float32) + rng.normal(0, 1.5, (shot.height, shot.width, 3))
            picture = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
            exif = _exif(10, frame * 12, 1 / 500) if n % 2 else None  # one carries no EXIF
            yield f"burst-{name}", f"burst-{name}-{frame}", picture, exif


def pans(
    photos: dict[str, Image.Image], width: int = 512
) -> Iterable[tuple[str, str, Image.Image, Image.Exif | None]]:
    for name in USE["pan"]:
        wide = _fit(photos[name], round(width / 0.8))
        w, h = wide.size
        cw = round(w * 0.8)
        for pct in (0, 1, 2, 3):
            x = round(w * pct / 100)
            yield f"pan-{name}", f"pan-{name}-{pct}pct", wide.crop((x, 0, x + cw, h)), None


def brackets(
    photos: dict[str, Image.Image], width: int = 512
) -> Iterable[tuple[str, str, Image.Image, Image.Exif | None]]:
    for n, name in enumerate(USE["bracket"]):
        base = np.asarray(_fit(photos[name], width), np.float32) / 255.0
        linear = base**2.2
        rng = np.random.default_rng(40 + n)
        for frame, ev in enumerate(EXPOSURE):
            lit = linear * 2.0 ** float(ev)
            lit = lit + rng.normal(0, 0.002, lit.shape)
            shown = np.clip(lit, 0, 1) ** (1 / 2.2)
            picture = Image.fromarray((shown * 255 + 0.5).astype(np.uint8))
            exif = _exif(20, frame * 8, EXPOSURE[ev], ev)
            yield f"bracket-{name}", f"bracket-{name}-{ev}ev", picture, exif


def changed_regions(
    photos: dict[str, Image.Image], width: int = 512
) -> Iterable[tuple[str, str, Image.Image, Image.Exif | None]]:
    for n, name in enumerate(USE["region"]):
        scene = _fit(photos[name], width)
        yield f"region-{name}", f"region-{name}-original", scene, None
        w, h = scene.size
        box = _busiest(scene, w // 4, h // 4)
        blurred = scene.copy()
        blurred.paste(scene.crop(box).filter(ImageFilter.GaussianBlur(6)), box[:2])
        yield f"region-{name}", f"region-{name}-blurred", blurred, None
        figure, mask = _disc(photos[USE["turned"][n]], width // 6)
        added = scene.copy()
        added.paste(figure, (w // 8, h // 2), mask)
        yield f"region-{name}", f"region-{name}-figure", added, None


def _busiest(image: Image.Image, bw: int, bh: int) -> tuple[int, int, int, int]:
    """The box of that size, on a grid of quarters, with the most detail (a blur shows)."""
    grey = np.asarray(image.convert("L"), np.float32)
    boxes = [
        (x, y, x + bw, y + bh)
        for x in range(0, image.width - bw + 1, max(1, bw // 2))
        for y in range(0, image.height - bh + 1, max(1, bh // 2))
    ]
    return max(boxes, key=lambda b: float(grey[b[1] : b[3], b[0] : b[2]].std()))


def animation(
    photos: dict[str, Image.Image],
) -> Iterable[tuple[str, str, Image.Image, Image.Exif | None]]:
    for name in USE["anim"]:
        globe, mask = _disc(photos[name], 160)
        for frame in range(4):
            turned = globe.rotate(6 * frame, Image.Resampling.BICUBIC)
            canvas = Image.new("RGB", (200, 184), (8, 10, 30))
            canvas.paste(turned, (20, 12), mask)
            yield f"anim-{name}", f"anim-{name}-{frame}", canvas, None


def icon_states() -> Iterable[tuple[str, str, Image.Image, Image.Exif | None]]:
    for n, colour in enumerate(((40, 120, 200), (60, 160, 90))):
        for state in ("off", "on"):
            icon = Image.new("RGBA", (21, 21), (0, 0, 0, 0))
            draw = ImageDraw.Draw(icon)
            fill = tuple(min(255, c + (25 if state == "on" else 0)) for c in colour)
            draw.rounded_rectangle((1, 1, 19, 19), radius=4, fill=(*fill, 255))
            draw.rectangle((5, 5, 11, 7), fill=(255, 255, 255, 255))
            draw.rectangle((5, 10, 15, 12), fill=(255, 255, 255, 255))
            if state == "on":
                draw.ellipse((13, 13, 19, 19), fill=(230, 40, 40, 255))
            yield f"icon-{n}", f"icon-{n}-{state}", icon, None


def flat_pictures(count: int = 4) -> Iterable[tuple[str, Image.Image]]:
    for n in range(count):
        rng = np.random.default_rng(70 + n)
        w, h = 480, 320
        a, b = rng.integers(20, 235, 3), rng.integers(20, 235, 3)
        ramp = np.linspace(0, 1, w)[None, :, None] if n % 2 else np.linspace(0, 1, h)[:, None, None]
        grid = a + (b - a) * ramp
        yield (
            f"flat-gradient-{n}",
            Image.fromarray(np.broadcast_to(grid, (h, w, 3)).astype(np.uint8)),
        )
    window = Image.new("RGB", (480, 320), (236, 236, 236))
    draw = ImageDraw.Draw(window)
    draw.rectangle((0, 0, 480, 24), fill=(60, 64, 72))
    draw.rectangle((20, 50, 200, 70), fill=(200, 204, 210))
    yield "flat-window", window


def build(folder: Path, *, names: tuple[str, ...] = PHOTOS) -> dict[Path, Item]:
    """Write the set into folder; {path: Item}."""
    photos = photo_sources(names)
    for name in set(names) - set(photos):
        import skimage.data

        photos[name] = Image.fromarray(getattr(skimage.data, name)()).convert("RGB")
    truth: dict[Path, Item] = {}

    def put(kind: str, scene: str, label: str, image: Image.Image, exif: Image.Exif | None) -> None:
        ext = "png" if kind in ("anim", "icon") else "jpg"
        path = folder / kind / f"{label}.{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        options: dict[str, object] = {"quality": 92} if ext == "jpg" else {}
        if exif is not None:
            options["exif"] = exif
        image.save(path, **options)
        truth[path] = Item(label, "series", "frame", scene=scene)

    for kind, frames in (
        ("burst", bursts(photos)),
        ("pan", pans(photos)),
        ("bracket", brackets(photos)),
        ("region", changed_regions(photos)),
        ("anim", animation(photos)),
        ("icon", icon_states()),
    ):
        for scene, label, image, exif in frames:
            put(kind, scene, label, image, exif)
    for name in USE["turned"]:
        picture = _fit(photos[name], 480)
        folder_out = folder / "turned" / name
        folder_out.mkdir(parents=True, exist_ok=True)
        for transform, turned in (
            ("original", picture),
            ("mirrored", picture.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
            ("rotated-90", picture.transpose(Image.Transpose.ROTATE_90)),
            ("rotated-180", picture.transpose(Image.Transpose.ROTATE_180)),
            ("rotated-270", picture.transpose(Image.Transpose.ROTATE_270)),
        ):
            path = folder_out / f"{name}-{transform}.jpg"
            turned.save(path, quality=92)
            truth[path] = Item(f"turned-{name}", "photo", transform)
    for label, picture in flat_pictures():
        folder_out = folder / "flat" / label
        folder_out.mkdir(parents=True, exist_ok=True)
        w, h = picture.size
        for transform, ext, image, options in (
            ("original", "png", picture, {}),
            ("q55", "jpg", picture, {"quality": 55}),
            ("third", "png", picture.resize((w // 3, h // 3), Image.Resampling.LANCZOS), {}),
        ):
            path = folder_out / f"{label}-{transform}.{ext}"
            image.save(path, **options)
            truth[path] = Item(label, "flat", transform)
    return truth
