"""What a RAW file costs a first scan: 100 RAW files with embedded previews beside 100 JPEGs of
the same picture size, same run.

Makes N DNG files from arrays (pidng: a 12-bit Bayer mosaic of W x H, with a full-size JPEG
preview in a chained IFD, as cameras store one) and N JPEGs of the same W x H and quality,
then times the first scan of each folder into a fresh catalogue with what the app's scan
derives (catalogue, pixel identity, perceptual hash, verification rendition, grid thumbnail;
no model), alternately, several rounds, and prints the medians and their ratio. For RAW the
pixel identity unpacks the sensor data (the cost that keeps ratings across metadata edits);
the pictures come from the preview at a reduced JPEG scale. `--no-preview` adds a third folder
of DNGs without a preview (half-size demosaic). Page cache is warm for every timed run.

    nice python bench/bench_raw_ingest.py                       # 100 + 100 files, 2000x1500
    nice python bench/bench_raw_ingest.py --files 20 --size 6000x4000 --no-preview
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from anagnorisis_tui.core.base.config import load_settings  # noqa: E402
from anagnorisis_tui.core.catalogue import ingest_pass, thumbnails  # noqa: E402
from anagnorisis_tui.core.library import Library  # noqa: E402
from tests.support.rawfiles import dng_bytes, preview_of  # noqa: E402


def make(folder: Path, kind: str, count: int, size: tuple[int, int]) -> int:
    """`count` files of `kind` (raw, raw-nopreview, jpeg) in `folder`; returns their bytes."""
    folder.mkdir(parents=True)
    total = 0
    for i in range(count):
        picture = preview_of(size[0], size[1], i)
        if kind == "jpeg":
            buf = io.BytesIO()
            picture.save(buf, "JPEG", quality=90)
            data, name = buf.getvalue(), f"IMG_{i:04d}.JPG"
        else:
            preview = picture if kind == "raw" else None
            data = dng_bytes(size[0], size[1], seed=i, preview=preview)
            name = f"IMG_{i:04d}.DNG"
        (folder / name).write_bytes(data)
        total += len(data)
    return total


def first_scan(folder: Path, state: Path) -> float:
    shutil.rmtree(state, ignore_errors=True)
    settings = load_settings(data_dir=state, config_file=state / "none.toml")
    for path in folder.iterdir():  # warm page cache
        path.read_bytes()
    with Library(settings) as lib:
        products = ingest_pass.Products(
            thumbnail_cache=thumbnails.cache_dir(lib.data_dir), phash=True
        )
        started = time.perf_counter()
        summary = lib.catalogue.scan(folder, products=products)
        seconds = time.perf_counter() - started
    assert summary.errors == 0 and summary.files == len(list(folder.iterdir())), summary
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--size", default="2000x1500", help="picture size WxH")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-preview", action="store_true", help="also DNGs without preview")
    args = parser.parse_args()
    size = tuple(int(n) for n in args.size.split("x"))
    kinds = ["jpeg", "raw"] + (["raw-nopreview"] if args.no_preview else [])
    with tempfile.TemporaryDirectory(prefix="bench-raw-") as tmp:
        base = Path(tmp)
        sizes = {kind: make(base / kind, kind, args.files, size) for kind in kinds}  # type: ignore[arg-type]
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        for _ in range(args.rounds):
            for kind in kinds:
                times[kind].append(first_scan(base / kind, base / f"state-{kind}"))
        print(f"{args.files} files of {size[0]}x{size[1]}, {args.rounds} rounds, median:")
        jpeg = statistics.median(times["jpeg"])
        for kind in kinds:
            median = statistics.median(times[kind])
            print(
                f"  {kind:14} {median:7.2f} s  {args.files / median:6.1f} files/s  "
                f"{sizes[kind] / args.files / 1e6:5.1f} MB/file  x{median / jpeg:.2f} of JPEG  "
                f"(rounds: {', '.join(f'{t:.2f}' for t in times[kind])})"
            )


if __name__ == "__main__":
    Image.init()
    main()
