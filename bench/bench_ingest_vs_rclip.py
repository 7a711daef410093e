#!/usr/bin/env python
"""Indexing new photos, this app beside rclip: same random weights, same files, same run.

    python bench/bench_ingest_vs_rclip.py --rclip /path/to/rclip-venv/bin/rclip \
        --images 300 --rounds 2 [--sets 12mp,small] [--work DIR]

Two sets of real photos (scikit-image's data photos and the GNOME wallpapers, each file a
different crop, scale and sensor noise, so every file is new content), made once into
WORK/sets: 12 MP (4000 x 3000) and small (1-2 MP). One seeded random ViT-B-32-256
(bench/rclip_models.py) is served by a local hub to both apps. An untimed first run of each on
a few files fetches and prepares the model; then, per round and per set, alternating:

  this app  `anagnorisis-tui embed SET --quiet` into a fresh data dir (the prepared model
            linked in): walk, catalogue, pixel identity, perceptual hash, rendition, grid
            thumbnail and vector per image, then the search index;
  rclip     `rclip --top 1 QUERY` in SET with a fresh RCLIP_DATADIR: its indexing, then one
            text search (timed alone with `--no-indexing` too, as 'rclip search').

Each is a whole process, timed by wall clock and by CPU (user + system of it and the children
it reaped), so `cores` = CPU time / wall time: how many cores the run kept busy. That figure
means something only on a quiet machine: where the kernel groups processes by session
(autogroup), a busy machine gives the whole run a fixed share of the cores.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import rclip_models  # noqa: E402

MODEL, TAG = "ViT-B-32-256", "datacomp_s34b_b86k"
QUERY = "a cat on a sofa"
SKIMAGE = [
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "hubble_deep_field.jpg",
    "retina.jpg",
]
SIZES = {"12mp": ((4000, 3000), (4000, 3000)), "small": ((1200, 900), (1700, 1150))}


def sources() -> list[np.ndarray]:
    import skimage
    from PIL import Image

    paths = [str(Path(skimage.__file__).parent / "data" / n) for n in SKIMAGE]
    paths += sorted(glob.glob("/usr/share/backgrounds/**/*.jpg", recursive=True))
    paths += sorted(glob.glob("/usr/share/backgrounds/**/*.webp", recursive=True))
    paths += sorted(glob.glob("/usr/share/wallpapers/**/*.jpg", recursive=True))
    out = []
    for p in paths:
        with Image.open(p) as im:
            if min(im.size) >= 256:
                out.append(np.asarray(im.convert("RGB")))
    return out


def make_set(folder: Path, kind: str, count: int) -> Path:
    """`count` distinct JPEGs (q90) of `kind`'s sizes from the real photos; kept between runs."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    if len(list(folder.glob("*.jpg"))) >= count:
        return folder
    photos = sources()
    (lo_w, lo_h), (hi_w, hi_h) = SIZES[kind]
    noise = np.random.default_rng(7).integers(-6, 7, (hi_h + 64, hi_w + 64, 3), dtype=np.int16)
    for i in range(count):
        path = folder / f"IMG_{i:05d}.jpg"
        if path.exists():
            continue
        rng = np.random.default_rng(i)
        src = photos[i % len(photos)]
        h, w = src.shape[:2]
        cut = rng.uniform(0.6, 1.0)
        ch, cw = max(64, int(h * cut)), max(64, int(w * cut))
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        size = (int(rng.integers(lo_w, hi_w + 1)), int(rng.integers(lo_h, hi_h + 1)))
        img = Image.fromarray(src[y : y + ch, x : x + cw]).resize(size, Image.Resampling.BICUBIC)
        dy, dx = (int(v) for v in rng.integers(0, 64, 2))
        grain = noise[dy : dy + size[1], dx : dx + size[0]]
        pixels = (np.asarray(img, np.int16) + grain).clip(0, 255).astype(np.uint8)
        part = path.with_name(f".{path.name}.part")
        Image.fromarray(pixels).save(part, "JPEG", quality=90)
        part.rename(path)
    return folder


def run_timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall s, CPU s) of one whole process and the children it reaped."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed ({out.returncode}): {out.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def fresh_data(tmp: Path, warm: Path, name: str) -> Path:
    """A new data dir holding only the prepared model (hard links to the warm one's files)."""
    data = tmp / name
    if data.exists():
        shutil.rmtree(data)
    data.mkdir(mode=0o700)
    shutil.copytree(warm / "models", data / "models", copy_function=os.link)
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rclip", required=True, help="rclip's executable (its own venv)")
    parser.add_argument("--images", type=int, default=300, help="images per set")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sets", default="12mp,small")
    parser.add_argument("--work", type=Path, default=None, help="sets and models kept here")
    parser.add_argument("--only", choices=("both", "app", "rclip"), default="both")
    args = parser.parse_args()
    work = args.work or Path(tempfile.gettempdir()) / "bench-ingest-vs-rclip"
    work.mkdir(parents=True, exist_ok=True)
    kinds = [k for k in args.sets.split(",") if k]
    sets = {k: make_set(work / "sets" / f"{k}-{args.images}", k, args.images) for k in kinds}
    models = work / "models"
    rclip_models.make(models)
    print(f"load {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} cores", flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="bench-ingest-rclip-") as tmp_name,
        rclip_models.serve(models) as hub,
    ):
        tmp = Path(tmp_name)
        env = {
            **os.environ,
            "HF_ENDPOINT": hub.endpoint,
            "HF_HOME": str(tmp / "hf"),
            "NO_PROXY": "127.0.0.1",
            "PYTHONPATH": str(ROOT),
            "ANAGNORISIS_CONFIG": str(tmp / "c.toml"),
            "ANAGNORISIS_MODEL": MODEL,
            "ANAGNORISIS_PRETRAINED": TAG,
        }
        warm_lib = tmp / "warm-lib"
        warm_lib.mkdir()
        first = next(iter(sets.values()))
        for p in sorted(first.glob("*.jpg"))[:4]:
            shutil.copy(p, warm_lib / p.name)
        warm = tmp / "warm-data"
        ours = [sys.executable, "-m", "anagnorisis_tui", "embed", "--quiet"]
        theirs = [args.rclip, "--top", "1", QUERY]
        w, _ = run_timed([*ours, str(warm_lib)], {**env, "ANAGNORISIS_DATA_DIR": str(warm)}, ROOT)
        print(f"this app's first run (model prepared): {w:.1f} s", flush=True)
        w, _ = run_timed(theirs, {**env, "RCLIP_DATADIR": str(tmp / "rclip-warm")}, warm_lib)
        print(f"rclip's first run (model fetched): {w:.1f} s", flush=True)
        results: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for r in range(args.rounds):
            for kind, folder in sets.items():
                order = [("this app", ours), ("rclip", theirs)]
                if r % 2:
                    order.reverse()
                for label, cmd in order:
                    if args.only != "both" and label != {"app": "this app"}.get(args.only, "rclip"):
                        continue
                    if label == "this app":
                        data = fresh_data(tmp, warm, "data")
                        got = run_timed(
                            [*cmd, str(folder)], {**env, "ANAGNORISIS_DATA_DIR": str(data)}, ROOT
                        )
                    else:
                        rdir = tmp / "rclip"
                        shutil.rmtree(rdir, ignore_errors=True)
                        got = run_timed(cmd, {**env, "RCLIP_DATADIR": str(rdir)}, folder)
                    results.setdefault((kind, label), []).append(got)
                    wall, cpu = got
                    print(
                        f"  round {r + 1} {kind:5} {label:8} {wall:7.1f} s  "
                        f"{args.images / wall:5.2f} images/s  cpu {cpu:7.1f} s  "
                        f"cores {cpu / wall:.2f}",
                        flush=True,
                    )
                if args.only == "both":  # rclip's search alone, to read its indexing apart
                    got = run_timed(
                        [args.rclip, "--no-indexing", "--top", "1", QUERY],
                        {**env, "RCLIP_DATADIR": str(tmp / "rclip")},
                        folder,
                    )
                    results.setdefault((kind, "rclip search"), []).append(got)
    print(f"load {os.getloadavg()[0]:.1f} (1 min)")
    print(f"{args.images} images per set, medians of {args.rounds} rounds:")
    for kind in sets:
        rate = {}
        for label in ("this app", "rclip", "rclip search"):
            runs = results.get((kind, label))
            if not runs:
                continue
            wall = statistics.median(g[0] for g in runs)
            cpu = statistics.median(g[1] for g in runs)
            rate[label] = args.images / wall
            print(
                f"  {kind:5} {label:12} {wall:7.1f} s  {args.images / wall:5.2f} images/s  "
                f"cpu {cpu:7.1f} s  cores {cpu / wall:.2f}"
            )
        if "this app" in rate and "rclip" in rate:
            print(f"  {kind:5} this app / rclip images/s: {rate['this app'] / rate['rclip']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
