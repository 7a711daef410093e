"""What reading capture dates costs a scan: the first scan with them beside the same scan without.

Builds N small JPEGs that carry EXIF like a phone's (DateTimeOriginal, OffsetTimeOriginal and a
dozen other tags), then runs the first scan (fresh catalogue, catalogue pass only, no pixel
pass) alternately with capture dates read (`imageinfo.READ_CAPTURE_DATES = True`, the default)
and without, several rounds, and prints each round's wall and CPU times and the median
ratios (CPU seconds of the whole process, every thread: on a shared machine the wall clock
mostly measures the neighbours). Also times the
catch-up "dates" stage that older catalogues go through once, beside a rescan that finds
nothing to do. `--pixels` times the whole first scan, the pixel pass (a full decode of every
image) included, as a user's first scan runs. Page cache is warm for every timed run (the files are read once first).

    nice python bench/bench_capture_dates.py               # 20,000 tiny files, 5 rounds
    nice python bench/bench_capture_dates.py --files 2000 --size 2000x1500   # photo-sized
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from anagnorisis_tui.core.base import db as dbmod  # noqa: E402
from anagnorisis_tui.core.catalogue import imageinfo  # noqa: E402
from anagnorisis_tui.core.catalogue.scan import ScanOptions, scan  # noqa: E402


def phone_exif(i: int) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Phone 15"
    exif[0x0112] = 1
    exif[0x0131] = "17.4"
    exif[0x0132] = "2024:05:06 07:08:09"
    exif[0x8769] = {
        0x829A: (1, 120),
        0x829D: (18, 10),
        0x8827: 64,
        0x9003: f"2024:05:{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:09",
        0x9004: "2024:05:06 07:08:09",
        0x9011: "+02:00",
        0x9012: "+02:00",
        0x9291: "123",
        0x920A: (57, 10),
        0xA002: 64,
        0xA003: 48,
    }
    return exif.tobytes()


def build(root: Path, files: int, size: tuple[int, int]) -> None:
    marker = root / ".complete"
    if marker.exists() and marker.read_text() == f"{files} {size}":
        return
    shutil.rmtree(root, ignore_errors=True)
    rng = np.random.default_rng(0)
    w, h = size
    small = rng.integers(0, 255, (max(1, h // 16), max(1, w // 16), 3), dtype=np.uint8)
    base = Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC)
    for i in range(files):
        folder = root / f"d{i // 500:03d}"
        if i % 500 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        base.save(buf, "JPEG", quality=80, exif=phone_exif(i))
        (folder / f"IMG_{i:06d}.jpg").write_bytes(buf.getvalue())
    marker.write_text(f"{files} {size}")


def warm(root: Path) -> None:
    for path in root.rglob("*.jpg"):
        path.read_bytes()


PIXELS = False  # --pixels: the whole first scan, the pixel pass (full decode) included


def first_scan(root: Path, work: Path, dates: bool) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, every thread) of one first scan."""
    imageinfo.READ_CAPTURE_DATES = dates
    path = work / f"scan-{time.monotonic_ns()}.db"
    db = dbmod.connect(path)
    start, cpu = time.perf_counter(), time.process_time()
    scan(db, root, ScanOptions(pixels=PIXELS))
    elapsed = (time.perf_counter() - start, time.process_time() - cpu)
    if dates:
        n = db.execute("SELECT count(*) FROM images WHERE taken IS NOT NULL").fetchone()[0]
        assert n > 0, "no capture dates were read"
    db.conn.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    imageinfo.READ_CAPTURE_DATES = True
    return elapsed


def catch_up(root: Path, work: Path) -> tuple[float, float]:
    """(seconds of the one-time dates stage for an older catalogue, of a rescan with nothing)."""
    db = dbmod.connect(work / "old.db")
    scan(db, root, ScanOptions(pixels=False))
    with db.conn:
        db.execute("UPDATE images SET taken = NULL, taken_offset = NULL, taken_read = 0")
    start = time.perf_counter()
    summary = scan(db, root, ScanOptions(pixels=False))
    stage = time.perf_counter() - start
    assert "dates" in summary.stage_seconds
    start = time.perf_counter()
    scan(db, root, ScanOptions(pixels=False))
    plain = time.perf_counter() - start
    db.conn.close()
    return stage, plain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", default="64x48", help="WxH of each JPEG (default 64x48)")
    parser.add_argument("--pixels", action="store_true", help="include the pixel pass")
    parser.add_argument("--dir", type=Path, default=Path(__file__).resolve().parent / "out")
    args = parser.parse_args()
    global PIXELS
    PIXELS = args.pixels
    size = tuple(int(v) for v in args.size.lower().split("x"))
    root = args.dir / f"capture-dates-{args.files}-{args.size}"
    build(root, args.files, size)  # type: ignore[arg-type]
    warm(root)
    mb = sum(p.stat().st_size for p in root.rglob("*.jpg")) / 1e6
    print(
        f"{args.files:,} phone-like {args.size} JPEGs ({mb:,.0f} MB) under {root}; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        first_scan(root, work, True)  # one untimed round: imports, page cache
        walls, cpus = [], []
        for r in range(args.rounds):
            order = (True, False) if r % 2 == 0 else (False, True)
            times = {dates: first_scan(root, work, dates) for dates in order}
            (w1, c1), (w0, c0) = times[True], times[False]
            walls.append(w1 / w0)
            cpus.append(c1 / c0)
            print(
                f"round {r + 1}: with dates {w1:.2f} s wall / {c1:.2f} s CPU "
                f"({args.files / w1:,.0f} files/s), without {w0:.2f} s / {c0:.2f} s CPU "
                f"({args.files / w0:,.0f} files/s); ratio wall {w1 / w0:.3f}, CPU {c1 / c0:.3f}"
            )
        print(
            f"median ratio with/without capture dates: CPU {statistics.median(cpus):.3f}, "
            f"wall {statistics.median(walls):.3f} (CPU time is what the dates cost; wall time "
            "on a shared machine mostly measures the neighbours)"
        )
        stage, plain = catch_up(root, work)
        print(
            f"older catalogue, one-time dates stage: rescan {stage:.2f} s "
            f"({args.files / stage:,.0f} files/s) beside a rescan with nothing to do {plain:.2f} s"
        )
    print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
