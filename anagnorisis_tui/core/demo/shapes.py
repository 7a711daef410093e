"""Procedurally generated "coloured shape on a background" images with captions.

One generator serves three purposes: training data for the tiny CLIP shipped with the package
(scripts/train_tiny_clip.py), real images with known content for tests (a red circle must rank
first for "red circle"), and libraries of any size for benchmarks. Pillow + numpy only.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 170, 40),
    "blue": (30, 60, 220),
    "yellow": (240, 220, 30),
    "orange": (245, 140, 20),
    "purple": (140, 40, 180),
    "pink": (250, 130, 190),
    "brown": (120, 70, 30),
}
SHAPES = ("circle", "square", "triangle", "star", "cross")
BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "white": (245, 245, 245),
    "black": (15, 15, 15),
    "gray": (128, 128, 128),
    "cyan": (120, 210, 230),
}


@dataclass(frozen=True)
class ShapeSpec:
    colour: str
    shape: str
    background: str

    @property
    def caption(self) -> str:
        return f"a {self.colour} {self.shape} on a {self.background} background"

    @property
    def slug(self) -> str:
        return f"{self.colour}-{self.shape}-{self.background}"


def all_specs() -> list[ShapeSpec]:
    return [ShapeSpec(c, s, b) for c in COLOURS for s in SHAPES for b in BACKGROUNDS]


def _jitter(rgb: tuple[int, int, int], rng: random.Random, amount: int) -> tuple[int, int, int]:
    return tuple(max(0, min(255, v + rng.randint(-amount, amount))) for v in rgb)  # type: ignore[return-value]


def _polygon(
    cx: float, cy: float, radii: list[float], rotation: float
) -> list[tuple[float, float]]:
    n = len(radii)
    return [
        (
            cx + r * math.cos(rotation + 2 * math.pi * i / n),
            cy + r * math.sin(rotation + 2 * math.pi * i / n),
        )
        for i, r in enumerate(radii)
    ]


def render(spec: ShapeSpec, size: int = 64, rng: random.Random | None = None) -> Image.Image:
    """One RGB image of `spec`, with jitter in position, scale, rotation and tints.

    Drawn at twice the size and downsampled so edges are antialiased like a photo's.
    """
    rng = rng or random.Random()
    big = size * 2
    img = Image.new("RGB", (big, big), _jitter(BACKGROUNDS[spec.background], rng, 18))
    draw = ImageDraw.Draw(img)
    fill = _jitter(COLOURS[spec.colour], rng, 20)
    radius = big * rng.uniform(0.2, 0.36)
    margin = radius + 2
    cx = rng.uniform(margin, big - margin)
    cy = rng.uniform(margin, big - margin)
    rot = rng.uniform(0, 2 * math.pi)
    if spec.shape == "circle":
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=fill)
    elif spec.shape == "square":
        draw.polygon(_polygon(cx, cy, [radius] * 4, rot), fill=fill)
    elif spec.shape == "triangle":
        draw.polygon(_polygon(cx, cy, [radius] * 3, rot), fill=fill)
    elif spec.shape == "star":
        draw.polygon(_polygon(cx, cy, [radius, radius * 0.42] * 5, rot), fill=fill)
    elif spec.shape == "cross":
        arm = radius * 0.34
        pts = [(-arm, -radius), (arm, -radius), (arm, -arm), (radius, -arm), (radius, arm)]
        pts += [(arm, arm), (arm, radius), (-arm, radius), (-arm, arm), (-radius, arm)]
        pts += [(-radius, -arm), (-arm, -arm)]
        c, s = math.cos(rot), math.sin(rot)
        draw.polygon([(cx + x * c - y * s, cy + x * s + y * c) for x, y in pts], fill=fill)
    else:
        raise ValueError(f"unknown shape {spec.shape!r}")
    return img.resize((size, size), Image.Resampling.BILINEAR)


def random_spec(rng: random.Random) -> ShapeSpec:
    colour = rng.choice(list(COLOURS))
    return ShapeSpec(colour, rng.choice(SHAPES), rng.choice(list(BACKGROUNDS)))


def iter_images(
    count: int, *, size: int = 64, seed: int = 0
) -> Iterator[tuple[ShapeSpec, Image.Image]]:
    """`count` (spec, image) pairs, every spec used in turn so each appears equally often."""
    rng = random.Random(seed)
    specs = all_specs()
    rng.shuffle(specs)
    for i in range(count):
        spec = specs[i % len(specs)]
        yield spec, render(spec, size, rng)


def write_library(
    folder: Path,
    count: int,
    *,
    size: int = 96,
    seed: int = 0,
    fmt: str = "PNG",
    subfolders: int = 0,
) -> dict[str, ShapeSpec]:
    """Write `count` images named by their content into `folder`; returns {path: spec}.

    Names look like `0007-red-circle-white.png`, so tests (and people) can see what is in them.
    With `subfolders`, files are spread over that many nested folders.
    """
    folder = Path(folder)
    ext = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}[fmt.upper()]
    out: dict[str, ShapeSpec] = {}
    for i, (spec, img) in enumerate(iter_images(count, size=size, seed=seed)):
        target = folder / f"set{i % subfolders}" if subfolders else folder
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{i:04d}-{spec.slug}{ext}"
        img.save(path, fmt.upper(), **({"quality": 90} if fmt.upper() == "JPEG" else {}))
        out[str(path)] = spec
    return out
