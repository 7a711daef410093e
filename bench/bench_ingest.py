#!/usr/bin/env python
"""Time until new 12 MP JPEGs are fully ready (catalogued, pixel identity, perceptual hash,
thumbnail, vector): the ingest pass, beside the floor and beside today's separate passes.

  floor   one reduced-size decode (imageprep.load) plus the engine's forward per image, in a
          bare sequential loop, batches of --batch: what the model and one decode cost;
  ingest  scan() with every product: walk, catalogue pass, then one read and one decode per
          image for identity (decode-free for JPEG), pHash, thumbnail and model input;
  today   the passes as they ran before the ingest pass, one after the other on the same
          files: scan with a full-decode pixel identity (imageinfo.decode_pixel_hash in a
          thread pool), thumbnails.generate, embed_pipeline.embed_library, phash.compute_missing.

Every figure comes from the same run, the three alternating per round, each on a fresh data
dir, with one model loaded once (random weights: speed does not depend on them; its model id
is "bench" so such vectors never meet a real catalogue). The JPEGs are made once into
--photos (photo-like: shapes over gradients, sensor noise, q90) and stay in the page cache.

    python bench/bench_ingest.py --images 1000 [--model ViT-B-32-256] [--engine onnx|torch]
    python bench/bench_ingest.py --stages   # where one image's time goes, step by step
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anagnorisis_tui.core.base import db as dbmod  # noqa: E402
from anagnorisis_tui.core.base.config import DEFAULT_MODEL  # noqa: E402
from anagnorisis_tui.core.catalogue import scan, thumbnails  # noqa: E402
from anagnorisis_tui.core.catalogue.imageinfo import decode_pixel_hash  # noqa: E402
from anagnorisis_tui.core.catalogue.ingest_pass import IngestSummary, Products  # noqa: E402
from anagnorisis_tui.core.catalogue.pixel_pass import store_pixels  # noqa: E402
from anagnorisis_tui.core.catalogue.scan_types import ScanOptions, ScanSummary  # noqa: E402
from anagnorisis_tui.core.duplicates import phash, verify  # noqa: E402
from anagnorisis_tui.core.semantic import embed_pipeline, imageprep  # noqa: E402
from anagnorisis_tui.core.semantic import engine as embeddings  # noqa: E402
from anagnorisis_tui.core.semantic import model_choice as models  # noqa: E402


def make_photos(folder: Path, count: int) -> list[Path]:
    """Distinct photo-like JPEGs: one of a few scenes (shapes over a gradient, upscaled), shifted,
    with sensor noise cut at its own offset from one shared noise field (a fresh field per image
    cost as much as the JPEG encode), so each file is new content that compresses like a
    camera's. Written under a temporary name first: an interrupted run leaves no bad file."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    scenes: list[np.ndarray] = []
    noise = np.empty(0, np.int16)
    out = []
    for i in range(count):
        path = folder / f"IMG_{i:04d}.jpg"
        out.append(path)
        if path.exists():
            continue
        rng = np.random.default_rng(i)
        if not scenes:
            scenes = [_scene(np.random.default_rng(1000 + k)) for k in range(8)]
            shape = scenes[0].shape
            noise = np.random.default_rng(999).integers(
                -12, 13, (shape[0] + 64, shape[1] + 64, 3), dtype=np.int16
            )
        shifted = np.roll(scenes[i % len(scenes)], int(rng.integers(0, 4000)), axis=1)
        dy, dx = (int(v) for v in rng.integers(0, 64, 2))
        grain = noise[dy : dy + shifted.shape[0], dx : dx + shifted.shape[1]]
        pixels = (shifted.astype(np.int16) + grain).clip(0, 255).astype(np.uint8)
        partial = path.with_name(f".{path.name}.part")
        Image.fromarray(pixels).save(partial, "JPEG", quality=90)
        os.replace(partial, path)
    return out


def _scene(rng: np.random.Generator) -> np.ndarray:
    from PIL import Image

    w, h = 1000, 750
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    c0, c1 = rng.random(3) * 255, rng.random(3) * 255
    small = c0 + (c1 - c0) * ((x * rng.random() + y * rng.random()) / (w + h))[..., None]
    for _ in range(6):
        cx, cy, r = rng.random() * w, rng.random() * h, (0.05 + 0.2 * rng.random()) * h
        small[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = rng.random(3) * 255
    image = Image.fromarray(small.clip(0, 255).astype(np.uint8))
    return np.asarray(image.resize((4000, 3000), Image.Resampling.BICUBIC))


def floor(emb, paths: list[Path], batch: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(paths), batch):
        arrays = [imageprep.load(p, emb.image_size, emb.resize_mode) for p in paths[i : i + batch]]
        emb.encode_images(np.stack(arrays))
    return time.perf_counter() - start


def ingest(emb, photos: Path, work: Path, batch: int) -> tuple[float, IngestSummary]:
    db = dbmod.connect(work / "library.db")
    products = Products(
        thumbnail_cache=thumbnails.cache_dir(work), phash=True, embedder=emb, batch_size=batch
    )
    start = time.perf_counter()
    summary = scan.scan(db, str(photos), ScanOptions(products=products))
    seconds = time.perf_counter() - start
    db.conn.close()
    done = summary.ingest or IngestSummary()
    done.stage_seconds = summary.stage_seconds
    return seconds, done


def _old_pixel_pass(db, workers: int) -> None:
    """Pixel identity as it was computed before the ingest pass: a full decode per content."""
    jobs = db.execute(
        "SELECT i.hash, min(f.path) FROM images i JOIN files f ON f.hash = i.hash "
        "WHERE i.pixel_hash IS NULL GROUP BY i.hash"
    ).fetchall()
    with ThreadPoolExecutor(workers) as pool:
        got = list(pool.map(lambda job: (job[0], decode_pixel_hash(job[1], job[0])), jobs))
    store_pixels(db, [(h, v) for h, v in got if v], [], ScanSummary(), {})


def today(emb, photos: Path, work: Path, batch: int) -> tuple[float, dict[str, float]]:
    db = dbmod.connect(work / "library.db")
    stages: dict[str, float] = {}
    start = time.perf_counter()
    scan.scan(db, str(photos), ScanOptions(pixels=False))
    _old_pixel_pass(db, max(1, min(4, os.cpu_count() or 1)))
    stages["scan"] = time.perf_counter() - start
    t = time.perf_counter()
    items = db.execute("SELECT hash, path FROM files ORDER BY path").fetchall()
    thumbnails.generate(thumbnails.cache_dir(work), items, total=len(items))
    stages["thumbnails"] = time.perf_counter() - t
    t = time.perf_counter()
    embed_pipeline.embed_library(db, emb, batch_size=batch)
    stages["embed"] = time.perf_counter() - t
    t = time.perf_counter()
    phash.compute_missing(db)
    stages["phash"] = time.perf_counter() - t
    db.conn.close()
    return time.perf_counter() - start, stages


def identity_costs(paths: list[Path]) -> None:
    """Per-image cost of the two pixel identities on the same files: the JPEG stream hash
    (bytes already in memory, as the ingest pass has them) and a full decode + pixel hash."""
    import io

    from PIL import Image

    from anagnorisis_tui.core.base.hashing import pixel_hash
    from anagnorisis_tui.core.catalogue.imageinfo import parse_jpeg
    from anagnorisis_tui.core.catalogue.jpeg_identity import stream_identity

    stream, full = [], []
    for path in paths:
        data = path.read_bytes()
        t = time.perf_counter()
        info = parse_jpeg(data, need_scan=False)
        assert info is not None and stream_identity(data, info[0].orientation)
        stream.append(time.perf_counter() - t)
        t = time.perf_counter()
        with Image.open(io.BytesIO(data)) as im:
            pixel_hash(im)
        full.append(time.perf_counter() - t)
    s, f = statistics.median(stream), statistics.median(full)
    print(
        f"pixel identity per 12 MP JPEG (median of {len(paths)}): stream hash {s * 1000:.1f} ms, "
        f"full decode + pixel hash {f * 1000:.0f} ms ({f / s:.0f}x)",
        flush=True,
    )


def stage_costs(emb, paths: list[Path], batch: int) -> None:
    """Per-image cost of each step the ingest pass takes for a new 12 MP JPEG, one at a time on
    one thread (median ms), beside the model's forward per image at `batch`: where the time goes."""
    import io

    from PIL import Image, ImageOps

    from anagnorisis_tui.core.catalogue.ingest_derive import decode_size
    from anagnorisis_tui.core.catalogue.jpeg_identity import stream_identity

    side = decode_size(Products(thumbnail_cache=Path("."), phash=True), emb)
    steps: dict[str, list[float]] = {}

    def timed(name: str, fn):
        t = time.perf_counter()
        out = fn()
        steps.setdefault(name, []).append(time.perf_counter() - t)
        return out

    import xxhash

    from anagnorisis_tui.core.catalogue.imageinfo import parse_jpeg

    with tempfile.TemporaryDirectory(prefix="bench-stages-") as tmp:
        for path in paths:
            data = timed("read", path.read_bytes)
            timed("content hash (xxh3-128)", lambda: xxhash.xxh3_128_hexdigest(data))  # noqa: B023
            timed(
                "pixel identity (JPEG stream)",
                lambda: stream_identity(data, parse_jpeg(data, need_scan=False)[0].orientation),  # noqa: B023
            )

            def decode():
                opened = Image.open(io.BytesIO(data))  # noqa: B023
                opened.draft("RGB", (side, side))
                opened.load()
                return ImageOps.exif_transpose(opened) or opened

            upright = timed(f"reduced decode (draft to >= {side} px)", decode)
            timed("perceptual hash", lambda: phash.phash_image(upright))  # noqa: B023
            timed("verification rendition", lambda: verify.rendition(upright))  # noqa: B023
            small = timed("thumbnail shrink", lambda: thumbnails.shrink(upright))  # noqa: B023
            timed(
                "thumbnail encode + write",
                lambda: thumbnails.save_thumbnail(Path(tmp), path.stem, small),  # noqa: B023
            )
            timed(
                "model input (fit)",
                lambda: imageprep.fit(upright, emb.image_size, emb.resize_mode),  # noqa: B023
            )
    inputs = np.zeros((batch, emb.image_size, emb.image_size, 3), np.uint8)
    emb.encode_images(inputs)  # warm
    forward = []
    for _ in range(3):
        t = time.perf_counter()
        emb.encode_images(inputs)
        forward.append((time.perf_counter() - t) / batch)
    steps["model forward (per image)"] = forward
    total = 0.0
    print(f"per image, median of {len(paths)} (model forward: median of 3 batches of {batch}):")
    for name, values in steps.items():
        ms = statistics.median(values) * 1000
        total += ms
        print(f"  {name:<36} {ms:8.1f} ms")
    print(f"  {'sum':<36} {total:8.1f} ms", flush=True)


def load_model(name: str, engine: str, cache: Path):
    """The model every pipeline of the run shares. ViT models get random weights (speed does not
    depend on them), saved once to a checkpoint under `cache`; `onnx` exports that checkpoint
    once into `cache` (onnx_export.py, int8 where it agrees: the CPU default), `torch` runs
    it eagerly. The model id is "bench", so such vectors never meet a real catalogue."""
    if name == models.TINY_CLIP:
        choice = models.resolve(name, "", "cpu")
    else:
        from bench.bench_engine import random_checkpoint

        cache.mkdir(parents=True, exist_ok=True)
        weights = cache / f"{name}-random.safetensors"
        if not weights.exists():
            random_checkpoint(name, weights)
        choice = models.resolve(name, str(weights), "cpu")
    if engine == "onnx":
        from anagnorisis_tui.core.semantic import onnx_engine

        emb = onnx_engine.load_engine(choice, cache)
    else:
        emb = embeddings.load(choice)
    return replace(emb, random_weights=False, choice=replace(emb.choice, model_id="bench"))


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200, help="12 MP JPEGs (made once)")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--engine", choices=("onnx", "torch"), default="onnx")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "bench-ingest-models",
        help="random-weights checkpoints and their ONNX exports, made once",
    )
    parser.add_argument("--batch", type=int, default=embed_pipeline.DEFAULT_BATCH)
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds")
    parser.add_argument("--photos", type=Path, default=Path(tempfile.gettempdir()) / "bench-12mp")
    parser.add_argument(
        "--no-today", action="store_true", help="floor and ingest only (a quicker comparison)"
    )
    parser.add_argument(
        "--stages", action="store_true", help="only the per-image cost of each step"
    )
    parser.add_argument(
        "--identity-only", action="store_true", help="only the pixel identity costs (no model)"
    )
    args = parser.parse_args()
    t = time.perf_counter()
    paths = make_photos(args.photos, args.images)
    photos = args.photos / "set"
    photos.mkdir(exist_ok=True)
    for p in photos.iterdir():
        if p not in {photos / q.name for q in paths}:
            p.unlink()
    for p in paths:
        if not (photos / p.name).exists():
            os.link(p, photos / p.name)
    for p in paths:  # into the page cache: every pipeline reads warm files
        p.read_bytes()
    mb = sum(p.stat().st_size for p in paths) / len(paths) / 1e6
    print(f"{load()}", flush=True)
    identity_costs(paths[:20])
    if args.identity_only:
        return 0
    emb = load_model(args.model, args.engine, args.cache)
    engine = getattr(emb, "engine", "torch")
    if args.stages:
        stage_costs(emb, paths[:30], args.batch)
        return 0
    print(
        f"{len(paths)} JPEGs 4000x3000, {mb:.1f} MB each (ready in {time.perf_counter() - t:.0f} s)"
    )
    print(f"model {args.model} ({engine}, {emb.image_size} px), batch {args.batch}; {load()}")
    floors, ingests, todays = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        for r in range(args.rounds):
            floors.append(floor(emb, paths, args.batch))
            seconds, done = ingest(emb, photos, Path(tmp) / f"new-{r}", args.batch)
            assert done.embedded == done.phashed == done.thumbnails == len(paths), done
            ingests.append(seconds)
            old, stages = float("nan"), {}
            if not args.no_today:
                old, stages = today(emb, photos, Path(tmp) / f"old-{r}", args.batch)
            todays.append(old)
            split = ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
            ours = ", ".join(f"{k} {v:.1f}" for k, v in done.stage_seconds.items())
            print(
                f"round {r + 1}: floor {floors[-1]:.1f} s | ingest {ingests[-1]:.1f} s ({ours}) | "
                f"today {old:.1f} s ({split})",
                flush=True,
            )
    f, n, o = (statistics.median(x) for x in (floors, ingests, todays))
    count = len(paths)
    print(f"{'':<8} {'seconds':>8} {'images/s':>9}")
    for name, value in (("floor", f), ("ingest", n), ("today", o)):
        print(f"{name:<8} {value:>8.1f} {count / value:>9.2f}")
    print(f"ingest speed / floor speed: {f / n:.2f}x (goal >= 0.8x)")
    print(f"ingest vs today: {o / n:.2f}x faster (goal >= 2.5x)")
    print(load())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
