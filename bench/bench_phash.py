"""pHash cost per photo: reduced-size JPEG decode (draft mode) beside a full decode.

A 12-megapixel JPEG (a real sample photo, upscaled) hashed both ways; the hashes must agree
to within a few bits, and the reduced decode is what makes a pass over a NAS library cheap.

    python bench/bench_phash.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from PIL import Image, ImageOps
    from sklearn.datasets import load_sample_images

    from anagnorisis_tui.core.duplicates import phash

    folder = Path(tempfile.mkdtemp())
    photo = folder / "photo-12mp.jpg"
    Image.fromarray(load_sample_images().images[0]).resize((4000, 3000)).save(photo, quality=90)

    def full(path: Path) -> int:
        with Image.open(path) as image:
            image.load()
            return phash.phash_image(ImageOps.exif_transpose(image))

    def timed(fn, repeat: int = 7) -> tuple[float, int]:
        times, value = [], 0
        for _ in range(repeat):
            t = time.perf_counter()
            value = fn(photo)
            times.append(time.perf_counter() - t)
        return statistics.median(times) * 1000, value

    draft_ms, draft_hash = timed(phash.phash_file)
    full_ms, full_hash = timed(full)
    print("12 MP JPEG (4000x3000), median of 7:")
    print(f"  full decode + pHash (baseline): {full_ms:7.1f} ms")
    print(
        f"  draft decode + pHash (ours)   : {draft_ms:7.1f} ms  ({full_ms / draft_ms:.1f}x faster)"
    )
    print(f"  hashes differ by {phash.hamming(draft_hash, full_hash)} of 64 bits")


if __name__ == "__main__":
    main()
