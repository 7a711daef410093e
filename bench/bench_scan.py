"""Catalogue scan benchmark: figures beside baselines measured in the same run.

Builds a synthetic library of N JPEG files in nested folders (default 100,000 small ones; each
file's bytes are unique), then prints:
  1. first scan (fresh catalogue): the catalogue pass (walk + read + hash + header + SQLite)
     and the pixel pass (decode + pixel hash, thread pool), beside a plain Python loop that
     walks the same tree and only reads every file's bytes (and, to show where the time goes,
     the catalogue's file work alone: read + hash + header parse, no SQLite);
  2. a no-change rescan beside a bare os.scandir + stat walk of the same tree;
  3. the content-hash choice: xxh3-128, blake2b-128, md5 and sha1 on the same bytes.
Each comparison is printed as a ratio. Page cache is warm for every timed run (the library is
read once before timing), so the ratios compare CPU work, not the disk.

    nice python bench/bench_scan.py                      # 100,000 small JPEGs under bench/out
    nice python bench/bench_scan.py --files 2000 --large # fewer, larger (1600x1200) files
    nice python bench/bench_scan.py --dir /mnt/nas/tmp   # build the library elsewhere
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
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from anagnorisis_tui.core.base import db as dbmod  # noqa: E402
from anagnorisis_tui.core.base.hashing import CANDIDATES  # noqa: E402
from anagnorisis_tui.core.catalogue.scan import scan  # noqa: E402

PER_FOLDER = 250


def base_jpegs(count: int, size: tuple[int, int]) -> list[bytes]:
    rng = np.random.default_rng(0)
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    out = []
    for i in range(count):
        phase = rng.random(3) * 6.28
        img = np.stack(
            [127 + 120 * np.sin(x / (7 + i % 11) + phase[c] + y / (5 + c)) for c in range(3)],
            axis=-1,
        )
        img += rng.normal(0, 6, img.shape)
        buf = io.BytesIO()
        Image.fromarray(np.clip(img, 0, 255).astype("uint8")).save(buf, "JPEG", quality=85)
        out.append(buf.getvalue())
    return out


def build_library(root: Path, files: int, size: tuple[int, int]) -> int:
    """N files in root/aNN/bNN/ folders; a COM segment makes each file's bytes unique."""
    marker = root / ".complete"
    if marker.exists() and marker.read_text() == f"{files} {size}":
        return sum(p.stat().st_size for p in root.rglob("*.jpg"))
    if root.exists():
        shutil.rmtree(root)
    bases = base_jpegs(64, size)
    total = 0
    for i in range(files):
        folder = root / f"a{i // (PER_FOLDER * 20):03d}" / f"b{(i // PER_FOLDER) % 20:02d}"
        if i % PER_FOLDER == 0:
            folder.mkdir(parents=True, exist_ok=True)
        base = bases[i % len(bases)]
        comment = f"bench file {i}".encode()
        data = base[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + base[2:]
        (folder / f"img{i:06d}.jpg").write_bytes(data)
        total += len(data)
    marker.write_text(f"{files} {size}")
    return total


def read_loop(root: str) -> tuple[int, int]:
    """Baseline: walk the tree with os.scandir and read every file's bytes, nothing else."""
    files = nbytes = 0
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                if entry.is_dir():
                    stack.append(entry.path)
                elif entry.name.endswith(".jpg"):
                    with open(entry.path, "rb") as f:
                        nbytes += len(f.read())
                    files += 1
    return files, nbytes


def file_work_loop(root: str) -> int:
    """The catalogue's per-file work without SQLite: walk, read, hash, parse the header."""
    from anagnorisis_tui.core.catalogue.imageinfo import inspect_file
    from anagnorisis_tui.core.catalogue.walk import walk

    files = 0
    for item in walk(root, stat_files=False):
        inspect_file(item[0])
        files += 1
    return files


def _files(root: str) -> Iterator[os.DirEntry]:
    """Every non-folder entry below root (a bare os.scandir walk, no filtering)."""
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                if entry.is_dir():
                    stack.append(entry.path)
                else:
                    yield entry


def evict(root: str) -> None:
    """Drop the library's pages from the OS page cache (posix_fadvise DONTNEED), so the next
    read comes from the disk, as a first scan of a NAS share does. Only our own files."""
    for entry in _files(root):
        fd = os.open(entry.path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def stat_walk(root: str) -> int:
    """Baseline: a bare os.scandir + stat walk of the same tree."""
    files = 0
    for entry in _files(root):
        entry.stat()
        files += 1
    return files


def timed(fn, *args, **kw):
    start = time.perf_counter()
    result = fn(*args, **kw)
    return time.perf_counter() - start, result


def hash_comparison(root: Path, sample: int) -> None:
    paths = sorted(root.rglob("*.jpg"))[:sample]
    blobs = [p.read_bytes() for p in paths]
    small_mb = sum(map(len, blobs)) / 1e6
    big = np.random.default_rng(1).bytes(64 << 20)
    print(f"\n3. content hash on the same bytes ({len(blobs)} files = {small_mb:.1f} MB; 64 MiB)")
    print(f"   {'hash':<12} {'per file':>12} {'files/s':>10} {'small MB/s':>11} {'64MiB MB/s':>11}")
    for name, fn in CANDIDATES.items():
        t_small = min(timed(lambda f=fn: [f(b) for b in blobs])[0] for _ in range(3))
        t_big = min(timed(fn, big)[0] for _ in range(3))
        print(
            f"   {name:<12} {t_small / len(blobs) * 1e6:>9.2f} us {len(blobs) / t_small:>10,.0f}"
            f" {small_mb / t_small:>11,.0f} {len(big) / 1e6 / t_big:>11,.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100_000, help="files in the library")
    parser.add_argument(
        "--large", action="store_true", help="1600x1200 JPEGs (~0.5 MB) instead of 96x64"
    )
    parser.add_argument("--dir", default=str(Path(__file__).parent / "out"), help="where to build")
    parser.add_argument("--keep-db", action="store_true", help="keep the catalogue afterwards")
    parser.add_argument("--hash-sample", type=int, default=5000, help="files for the hash test")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="evict the library from the page cache before each first-scan timing (disk-bound, "
        "as on a NAS) instead of timing with every file cached (CPU-bound)",
    )
    args = parser.parse_args()

    size = (1600, 1200) if args.large else (96, 64)
    root = Path(args.dir) / f"scan-lib-{args.files}-{size[0]}x{size[1]}"
    print(f"building {args.files:,} JPEGs of {size[0]}x{size[1]} under {root} ...", flush=True)
    t_build, total_bytes = timed(build_library, root, args.files, size)
    mb = total_bytes / 1e6
    print(f"   {mb:,.1f} MB ({t_build:.1f} s to build or check); load {os.getloadavg()}")
    prepare = (lambda: evict(str(root))) if args.cold else (lambda: read_loop(str(root)))
    cache = "cold (evicted before each run)" if args.cold else "warm (all files cached)"

    prepare()
    t_read1, (n_read, _) = timed(read_loop, str(root))
    dbdir = Path(tempfile.mkdtemp(prefix="bench-scan-db-", dir=args.dir))
    db = dbmod.connect(dbdir / "library.db")
    prepare()
    t_scan, summary = timed(scan, db, root)
    prepare()
    t_read2, _ = timed(read_loop, str(root))
    t_read = min(t_read1, t_read2)
    prepare()
    t_work, _ = timed(file_work_loop, str(root))
    read_loop(str(root))  # the rescans and hash comparison below run with the files cached
    stages = summary.stage_seconds
    t_cat = stages["walk"] + stages["catalogue"]
    t_pix = stages.get("pixels", 0.0)
    assert summary.files == n_read == args.files, (summary, n_read)
    print(
        f"\n1. first scan of {args.files:,} files, {mb:,.1f} MB (fresh catalogue; page cache {cache})"
    )
    print(f"   {'':<34} {'s':>7} {'files/s':>9} {'MB/s':>8} {'x read loop':>12}")
    rows = [
        ("read-only loop (walk + read)", t_read),
        ("  same + hash + header, no SQLite", t_work),
        ("catalogue pass (walk+read+hash+db)", t_cat),
        ("pixel pass (decode + pixel hash)", t_pix),
        ("whole first scan", t_scan),
    ]
    for label, t in rows:
        print(
            f"   {label:<34} {t:>7.2f} {args.files / t:>9,.0f} {mb / t:>8,.1f} {t_read / t:>11.2f}x"
        )
    print(f"   read-only loop runs: {t_read1:.2f} s, {t_read2:.2f} s (faster one used)")
    print(f"   stages: {stages}; workers={min(4, os.cpu_count() or 1)}")

    walks, rescans = [], []
    for _ in range(3):
        walks.append(timed(stat_walk, str(root))[0])
        t, again = timed(scan, db, root)
        rescans.append(t)
        assert again.unchanged == args.files and again.new == 0, again
    t_walk, t_rescan = statistics.median(walks), statistics.median(rescans)
    print(f"\n2. no-change rescan of {args.files:,} files (median of 3)")
    print(f"   bare os.scandir + stat walk   {t_walk:>7.2f} s")
    print(
        f"   rescan                        {t_rescan:>7.2f} s  = {t_rescan / t_walk:.2f}x the walk"
    )
    print(f"   runs: walk {[round(t, 2) for t in walks]}, rescan {[round(t, 2) for t in rescans]}")
    print(f"   db size {os.path.getsize(dbdir / 'library.db') / 1e6:.1f} MB")

    hash_comparison(root, args.hash_sample)
    print(f"\nload average after: {os.getloadavg()}")
    db.conn.close()
    if not args.keep_db:
        shutil.rmtree(dbdir)


if __name__ == "__main__":
    main()
