#!/usr/bin/env python
"""The embedding engines side by side: torch fp32, ONNX Runtime fp32, ONNX Runtime int8.

    nice python bench/bench_engine.py                         # ViT-B-32-256, ViT-B-32, tiny-clip
    python bench/bench_engine.py --models tiny-clip --rounds 5

Per model, in one run: images/s of each engine's bare forward on the same ready uint8 batches
(rounds alternate between the engines, each reports its median: the load on a shared machine
drifts), and how far the ONNX vectors are from torch fp32: cosine per image, and retrieval -
the share of the top-10 that stays the same, image to image over the whole set and text to
image for caption queries. ViT models run with random weights saved to a checkpoint here
(speed does not depend on the values; no hub is reachable); tiny-clip is the shipped model.
The images: coloured shapes (what tiny-clip knows) and crops of photos, at the model's input.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anagnorisis_tui.core.demo import shapes  # noqa: E402
from anagnorisis_tui.core.semantic import engine as embeddings  # noqa: E402
from anagnorisis_tui.core.semantic import model_choice as models  # noqa: E402
from anagnorisis_tui.core.semantic import onnx_engine, onnx_export  # noqa: E402


def random_checkpoint(name: str, path: Path) -> None:
    from safetensors.torch import save_file

    open_clip = embeddings._open_clip()
    with embeddings._quiet():
        model = open_clip.create_model(name, pretrained=None)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))


def torch_embedder(name: str, tmp: Path):
    if name == models.TINY_CLIP:
        return embeddings.load(models.resolve(name, "", "cpu"))
    weights = tmp / f"{name}-random.safetensors"
    if not weights.exists():
        random_checkpoint(name, weights)
    return embeddings.load(models.resolve(name, str(weights), "cpu"))


def image_set(size: int, count: int) -> tuple[np.ndarray, list[str]]:
    """Half shapes (with their captions), half random crops of sample photos."""
    from PIL import Image
    from sklearn.datasets import load_sample_images

    pairs = list(shapes.iter_images(count // 2, size=size, seed=7))
    arrays = [np.asarray(img, np.uint8) for _, img in pairs]
    captions = sorted({spec.caption for spec, _ in pairs})
    rng = random.Random(3)
    photos = [Image.fromarray(p) for p in load_sample_images().images]
    while len(arrays) < count:
        photo = rng.choice(photos)
        side = rng.randint(min(photo.size) // 4, min(photo.size))
        left = rng.randint(0, photo.width - side)
        top = rng.randint(0, photo.height - side)
        crop = photo.crop((left, top, left + side, top + side)).resize((size, size))
        arrays.append(np.asarray(crop.convert("RGB"), np.uint8))
    return np.stack(arrays), captions


def encode_all(encode, pixels: np.ndarray, batch: int) -> np.ndarray:
    return np.concatenate([encode(pixels[i : i + batch]) for i in range(0, len(pixels), batch)])


def text_overlap(reference: np.ndarray, other: np.ndarray, texts: np.ndarray, k: int = 10):
    top = lambda m: np.argsort(-(texts @ m.T), axis=1)[:, :k]  # noqa: E731
    a, b = top(reference), top(other)
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(a, b, strict=True)]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["ViT-B-32-256", "ViT-B-32", "tiny-clip"])
    parser.add_argument("--images", type=int, default=256, help="images in the agreement set")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import onnxruntime
    import torch

    print(
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), onnxruntime "
        f"{onnxruntime.__version__}; batch {args.batch}, {args.rounds} alternating rounds"
    )
    print(
        f"{'model':<13} {'engine':<10} {'images/s':>9} {'vs torch':>9} {'cos mean':>9} "
        f"{'cos min':>8} {'img top10':>9} {'txt top10':>9} {'file MB':>8}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp_name:
        tmp = Path(tmp_name)
        for name in args.models:
            emb = torch_embedder(name, tmp)
            pixels, captions = image_set(emb.image_size, args.images)
            onnx32, onnx8 = tmp / f"{name}.fp32.onnx", tmp / f"{name}.int8.onnx"
            onnx_export.export_image_tower(emb, onnx32)
            onnx_export.quantise(onnx32, onnx8)
            engines = {
                "torch fp32": emb.encode_images,
                "onnx fp32": _runner(onnx_engine.open_session(onnx32)),
                "onnx int8": _runner(onnx_engine.open_session(onnx8)),
            }
            sizes = {"onnx fp32": onnx32.stat().st_size, "onnx int8": onnx8.stat().st_size}
            sizes["torch fp32"] = sum(p.numel() * 4 for p in emb.model.visual.parameters())
            vectors = {k: encode_all(f, pixels, args.batch) for k, f in engines.items()}
            texts = emb.encode_texts(captions)
            speed_batch = pixels[: args.batch * max(1, 64 // args.batch)]
            rates: dict[str, list[float]] = {k: [] for k in engines}
            for _ in range(args.rounds):
                for k, f in engines.items():
                    done, start = 0, time.perf_counter()
                    while done == 0 or time.perf_counter() - start < 1.0:  # >= 1 s per figure
                        encode_all(f, speed_batch, args.batch)
                        done += len(speed_batch)
                    rates[k].append(done / (time.perf_counter() - start))
            base = float(np.median(rates["torch fp32"]))
            for k in engines:
                rate = float(np.median(rates[k]))
                agree = onnx_export.agreement(vectors["torch fp32"], vectors[k], 10)
                txt = text_overlap(vectors["torch fp32"], vectors[k], texts)
                print(
                    f"{name:<13} {k:<10} {rate:>9.1f} {rate / base:>8.2f}x "
                    f"{agree['cos_mean']:>9.5f} {agree['cos_min']:>8.5f} "
                    f"{agree['overlap']:>9.3f} {txt:>9.3f} {sizes[k] / 1e6:>8.1f}",
                    flush=True,
                )
            del emb, engines
    return 0


def _runner(session):
    return lambda batch: onnx_engine.unit_rows(session.run(None, {"pixels": batch})[0])


if __name__ == "__main__":
    raise SystemExit(main())
