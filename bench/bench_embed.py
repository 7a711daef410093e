#!/usr/bin/env python
"""Embedding throughput: the whole pipeline (decode 12 MP JPEGs in threads + model + SQLite)
beside the bare model forward on pre-decoded tensors - same model, same batch, same run.

    nice python bench/bench_embed.py                    # ViT-B-32 (random weights) + tiny-clip
    python bench/bench_embed.py --models tiny-clip --images 24

ViT-B-32 runs with random weights: speed does not depend on the values (no weights can be
downloaded here). The JPEGs are real photos (scikit-learn/scikit-image samples) upscaled to
4000x3000 with a little sensor-like noise so they compress like camera files.
"vs decode" divides the pipeline by the slower of its two stages (decoding alone with the same
threads, or the bare model): 1.0x means the pipeline runs as fast as its bottleneck allows.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anagnorisis_tui.core.base import db as dbmod  # noqa: E402
from anagnorisis_tui.core.catalogue import scan  # noqa: E402
from anagnorisis_tui.core.semantic import embed_pipeline as pipeline
from anagnorisis_tui.core.semantic import engine as embeddings
from anagnorisis_tui.core.semantic import imageprep, model_choice


def sample_photos() -> list[np.ndarray]:
    from sklearn.datasets import load_sample_images

    photos = list(load_sample_images().images)
    try:
        from skimage import data

        for name in ("astronaut", "coffee", "chelsea", "rocket"):
            photos.append(getattr(data, name)())
    except ImportError:
        pass
    return [p for p in photos if p.ndim == 3]


def make_jpegs(folder: Path, count: int) -> list[Path]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    photos = sample_photos()
    out = []
    for i in range(count):
        base = Image.fromarray(photos[i % len(photos)]).resize((4000, 3000), Image.BICUBIC)
        arr = np.asarray(base).astype(np.int16)
        arr += rng.normal(0, 4, arr.shape).astype(np.int16)
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        path = folder / f"photo_{i:03d}.jpg"
        img.save(path, "JPEG", quality=90)
        out.append(path)
    return out


WORKERS: int | None = None  # None: the pipeline's own default


def bare_forward(emb, arrays: list[np.ndarray], batch: int, repeat: int) -> float:
    """Images/s of model.encode_image on ready, normalised tensors (the model alone)."""
    import torch

    x = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float().div(255)
    x = (x - torch.tensor(emb.mean).view(1, 3, 1, 1)) / torch.tensor(emb.std).view(1, 3, 1, 1)
    batches = [x[i : i + batch] for i in range(0, len(x), batch)]
    with torch.inference_mode():
        emb.model.encode_image(batches[0])  # warm-up
        start = time.perf_counter()
        for _ in range(repeat):
            for b in batches:
                emb.model.encode_image(b)
    return repeat * len(x) / (time.perf_counter() - start)


def decode_only(paths: list[Path], size: int, workers: int) -> float:
    from concurrent.futures import ThreadPoolExecutor

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda p: imageprep.load(p, size), paths))
    return len(paths) / (time.perf_counter() - start)


def full_pipeline(emb, photos: Path, work: Path, batch: int) -> tuple[float, int]:
    db = dbmod.connect(work / "library.db")
    scan.scan(db, str(photos))
    # A throwaway catalogue: the benchmark's own id, so random weights never meet real data.
    bench_emb = replace(emb, random_weights=False, choice=replace(emb.choice, model_id="bench"))
    summary = pipeline.embed_library(db, bench_emb, batch_size=batch, workers=WORKERS)
    db.conn.close()
    return summary.rate, summary.embedded


def load_model(name: str):
    if name == model_choice.TINY_CLIP:
        return embeddings.load(model_choice.resolve(name, "", "cpu"))
    choice = model_choice.ModelChoice(name, "", None, None, "cpu", f"{name}/random")
    return embeddings.load(choice, allow_random=True)


def forward_only(names: list[str], batch: int) -> int:
    """Image and text encoder speed of candidate models on this CPU (random weights)."""
    import torch

    print(
        f"{'model':<16} {'image fwd':>11} {'text fwd':>10} {'params':>8} {'fp16 MB':>8} {'input':>6}"
    )
    for name in names:
        emb = load_model(name)
        size = emb.image_size
        x = torch.randn(batch, 3, size, size)
        tokens = emb.tokenizer(["a photo of a dog on a beach at sunset"] * 8)
        with torch.inference_mode():
            emb.model.encode_image(x[:2])
            t = time.perf_counter()
            emb.model.encode_image(x)
            img = batch / (time.perf_counter() - t)
            emb.model.encode_text(tokens)
            t = time.perf_counter()
            emb.model.encode_text(tokens)
            txt = 8 / (time.perf_counter() - t)
        params = sum(p.numel() for p in emb.model.parameters())
        print(
            f"{name:<16} {img:>7.1f} im/s {txt:>6.0f} q/s {params / 1e6:>7.1f}M "
            f"{params * 2 / 1e6:>8.0f} {size:>6}",
            flush=True,
        )
        del emb
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["ViT-B-32", model_choice.TINY_CLIP])
    parser.add_argument("--images", type=int, default=48, help="12 MP JPEGs to generate")
    parser.add_argument("--batch", type=int, default=pipeline.DEFAULT_BATCH)
    parser.add_argument("--workers", type=int, default=None, help="decode threads")
    parser.add_argument("--rounds", type=int, default=3, help="alternating measurements")
    parser.add_argument(
        "--forward-only",
        action="store_true",
        help="compare candidate default models: bare image forward, params, text forward",
    )
    args = parser.parse_args()
    import torch

    if args.forward_only:
        return forward_only(args.models, args.batch)
    global WORKERS
    WORKERS = args.workers
    workers = args.workers or pipeline.default_workers()

    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        tmp_path = Path(tmp)
        t0 = time.perf_counter()
        paths = make_jpegs(tmp_path / "photos", args.images)
        mb = sum(p.stat().st_size for p in paths) / len(paths) / 1e6
        print(
            f"{len(paths)} JPEGs of 4000x3000 ({mb:.1f} MB each) made in "
            f"{time.perf_counter() - t0:.0f} s; torch threads {torch.get_num_threads()}, "
            f"decode workers {workers}, batch {args.batch}"
        )
        print(
            f"{'model':<12} {'bare forward':>14} {'pipeline':>14} {'ratio':>7} "
            f"{'decode only':>13} {'vs decode':>9} {'params':>8}"
        )
        for name in args.models:
            emb = load_model(name)
            arrays = [imageprep.load(p, emb.image_size, emb.resize_mode) for p in paths]
            repeat = max(1, int(700 // (len(paths) * (emb.image_size / 64) ** 2)))
            repeat = min(repeat, 10)
            # Baseline and pipeline alternate for --rounds rounds and each reports its median:
            # on a shared machine the load drifts over a run.
            bares, rates = [], []
            for r in range(args.rounds):
                bares.append(bare_forward(emb, arrays, args.batch, repeat))
                work = tmp_path / f"work-{name}-{r}"
                work.mkdir()
                rate, done = full_pipeline(emb, tmp_path / "photos", work, args.batch)
                assert done == len(paths)
                rates.append(rate)
            bare, rate = float(np.median(bares)), float(np.median(rates))
            decode = decode_only(paths, emb.image_size, workers)
            params = sum(p.numel() for p in emb.model.parameters()) / 1e6
            print(
                f"{name:<12} {bare:>10.1f} im/s {rate:>10.1f} im/s {rate / bare:>6.2f}x "
                f"{decode:>8.1f} im/s {rate / min(decode, bare):>8.2f}x {params:>6.1f}M",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
