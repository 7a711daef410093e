#!/usr/bin/env python
"""Train the tiny CLIP that ships in anagnorisis_tui/weights/tiny-clip/ (a few CPU minutes).

It learns coloured shapes on backgrounds (anagnorisis_tui.core.demo.shapes), so tests can assert
real ranking ("red circle" ranks red circles first) with a model small enough to embed
thousands of images a second. It is a test and demo model, not a photo model.

Captions repeat (160 specs, several phrasings, partial ones like "red" or "a star"), so the
loss is a multi-positive InfoNCE: every (image, caption) pair whose attributes agree is a
positive, in both directions, with the target spread evenly over the positives.

    nice python scripts/train_tiny_clip.py            # writes anagnorisis_tui/weights/tiny-clip/
    python scripts/train_tiny_clip.py --steps 200 --out /tmp/tc   # quick smoke run
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anagnorisis_tui.core.demo import shapes  # noqa: E402
from anagnorisis_tui.core.semantic import imageprep
from anagnorisis_tui.core.semantic.torch_compat import import_open_clip  # noqa: E402

CONFIG = ROOT / "anagnorisis_tui" / "models" / "configs" / "tiny-clip.json"
OUT = ROOT / "anagnorisis_tui" / "models" / "tiny-clip"
MEAN = (0.48145466, 0.4578275, 0.40821073)  # open_clip's (OpenAI) defaults
STD = (0.26862954, 0.26130258, 0.27577711)

# (template, which attributes it names: colour, shape, background)
TEMPLATES: list[tuple[float, str, tuple[bool, bool, bool]]] = [
    (0.20, "a {c} {s} on a {b} background", (True, True, True)),
    (0.08, "a photo of a {c} {s} on a {b} background", (True, True, True)),
    (0.07, "{c} {s} on {b}", (True, True, True)),
    (0.14, "a {c} {s}", (True, True, False)),
    (0.10, "{c} {s}", (True, True, False)),
    (0.05, "a photo of a {c} {s}", (True, True, False)),
    (0.06, "{c}", (True, False, False)),
    (0.04, "something {c}", (True, False, False)),
    (0.06, "a {s}", (False, True, False)),
    (0.04, "{s}", (False, True, False)),
    (0.05, "a {s} on a {b} background", (False, True, True)),
    (0.04, "a {c} shape on a {b} background", (True, False, True)),
    (0.03, "{b} background", (False, False, True)),
]
COLOURS = list(shapes.COLOURS)
SHAPES = list(shapes.SHAPES)
BACKGROUNDS = list(shapes.BACKGROUNDS)


def make_pool(count: int, seed: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, size, size, 3) uint8 rendered at varied sizes, and attributes (N, 3) int."""
    rng = random.Random(seed)
    specs = shapes.all_specs()
    images = np.empty((count, size, size, 3), dtype=np.uint8)
    attrs = np.empty((count, 3), dtype=np.int64)
    for i in range(count):
        spec = specs[i % len(specs)]
        img = shapes.render(spec, rng.choice((size, size * 3 // 2, size * 2)), rng)
        if rng.random() < 0.3:  # libraries hold JPEGs: learn through their artefacts
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=rng.randint(60, 95))
            buf.seek(0)
            img = imageprep.Image.open(buf).convert("RGB")
        images[i] = np.asarray(imageprep.fit(img, size))
        attrs[i] = (
            COLOURS.index(spec.colour),
            SHAPES.index(spec.shape),
            BACKGROUNDS.index(spec.background),
        )
    return images, attrs


def sample_caption(a: np.ndarray, rng: random.Random) -> tuple[str, tuple[int, int, int]]:
    weights = [t[0] for t in TEMPLATES]
    _, template, named = rng.choices(TEMPLATES, weights)[0]
    text = template.format(c=COLOURS[a[0]], s=SHAPES[a[1]], b=BACKGROUNDS[a[2]])
    key = tuple(int(a[k]) if named[k] else -1 for k in range(3))
    return text, key  # type: ignore[return-value]


def to_tensor(torch, batch: np.ndarray):
    x = torch.from_numpy(batch).permute(0, 3, 1, 2).float().div_(255)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


def evaluate(torch, model, tokenizer, images: np.ndarray, attrs: np.ndarray) -> dict[str, float]:
    model.eval()
    with torch.no_grad():
        feats = []
        for start in range(0, len(images), 512):
            feats.append(model.encode_image(to_tensor(torch, images[start : start + 512])))
        img = torch.nn.functional.normalize(torch.cat(feats), dim=-1)

        def precision(queries: list[tuple[str, tuple[int, int, int]]], k: int) -> float:
            txt = model.encode_text(tokenizer([q for q, _ in queries]))
            txt = torch.nn.functional.normalize(txt, dim=-1)
            top = (txt @ img.T).topk(k, dim=1).indices.numpy()
            hits = []
            for (_, key), row in zip(queries, top, strict=True):
                ok = np.ones(len(row), dtype=bool)
                for j, v in enumerate(key):
                    if v >= 0:
                        ok &= attrs[row, j] == v
                hits.append(ok.mean())
            return float(np.mean(hits))

        full = [
            (f"a {c} {s} on a {b} background", (ci, si, bi))
            for ci, c in enumerate(COLOURS)
            for si, s in enumerate(SHAPES)
            for bi, b in enumerate(BACKGROUNDS)
        ]
        pairs = [
            (f"{c} {s}", (ci, si, -1))
            for ci, c in enumerate(COLOURS)
            for si, s in enumerate(SHAPES)
        ]
        colour = [(c, (ci, -1, -1)) for ci, c in enumerate(COLOURS)]
        shape = [(f"a {s}", (-1, si, -1)) for si, s in enumerate(SHAPES)]
        # A shrunk, re-compressed copy must find its original among all the others.
        rng = random.Random(7)
        picks = rng.sample(range(len(images)), 200)
        copies = []
        for i in picks:
            small = imageprep.Image.fromarray(images[i]).resize((48, 48))
            buf = io.BytesIO()
            small.save(buf, "JPEG", quality=70)
            buf.seek(0)
            copies.append(np.asarray(imageprep.fit(imageprep.Image.open(buf), images.shape[1])))
        cq = torch.nn.functional.normalize(
            model.encode_image(to_tensor(torch, np.stack(copies))), dim=-1
        )
        found = (cq @ img.T).argmax(dim=1).numpy()
        return {
            "full_caption_p@1": precision(full, 1),
            "colour_shape_p@10": precision(pairs, 10),
            "colour_p@10": precision(colour, 10),
            "shape_p@10": precision(shape, 10),
            "copy_finds_original_r@1": float(np.mean(found == np.array(picks))),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--pool", type=int, default=16000, help="training images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    open_clip = import_open_clip()
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    cfg = json.loads(CONFIG.read_text())
    size = cfg["vision_cfg"]["image_size"]
    t0 = time.time()
    pool, attrs = make_pool(args.pool, args.seed, size)
    held, held_attrs = make_pool(1600, args.seed + 1000, size)
    print(f"rendered {len(pool) + len(held)} images in {time.time() - t0:.1f} s", flush=True)

    model = open_clip.model.CLIP(**cfg)
    tokenizer = open_clip.tokenizer.SimpleTokenizer(
        context_length=cfg["text_cfg"]["context_length"]
    )
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    other = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in n)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
        lr=args.lr,
        betas=(0.9, 0.98),
    )
    warmup = max(1, args.steps // 20)
    rng = random.Random(args.seed)
    nrng = np.random.default_rng(args.seed)
    t0 = time.time()
    for step in range(args.steps):
        lr = args.lr * min(1.0, (step + 1) / warmup)
        lr *= 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for group in opt.param_groups:
            group["lr"] = lr
        idx = nrng.integers(0, len(pool), args.batch)
        batch = pool[idx]
        flip = nrng.random(args.batch) < 0.5
        batch[flip] = batch[flip, :, ::-1]
        caps = [sample_caption(attrs[i], rng) for i in idx]
        texts = sorted({c for c, _ in caps})
        keys = {c: k for c, k in caps}
        cap_keys = torch.tensor([keys[t] for t in texts])  # (U, 3), -1 = not named
        img_attrs = torch.from_numpy(attrs[idx])  # (B, 3)
        agree = (cap_keys[None] < 0) | (cap_keys[None] == img_attrs[:, None])
        positive = agree.all(dim=-1).float()  # (B, U)

        model.train()
        img = torch.nn.functional.normalize(model.encode_image(to_tensor(torch, batch)), dim=-1)
        txt = torch.nn.functional.normalize(model.encode_text(tokenizer(texts)), dim=-1)
        logits = model.logit_scale.exp() * img @ txt.T
        loss_i = torch.nn.functional.cross_entropy(logits, positive / positive.sum(1, True))
        pos_t = positive.T
        loss_t = torch.nn.functional.cross_entropy(logits.T, pos_t / pos_t.sum(1, True))
        loss = (loss_i + loss_t) / 2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        if step % 100 == 0 or step == args.steps - 1:
            print(
                f"step {step:5d}  loss {loss.item():.3f}  lr {lr:.2e}  {time.time() - t0:6.1f} s",
                flush=True,
            )
    seconds = time.time() - t0
    metrics = evaluate(torch, model, tokenizer, held, held_attrs)
    print(json.dumps(metrics, indent=2))

    args.out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().half().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(args.out / "open_clip_model.safetensors"))
    preprocess = {"mean": list(MEAN), "std": list(STD), "interpolation": "bicubic"}
    preprocess["resize_mode"] = "shortest"
    (args.out / "open_clip_config.json").write_text(
        json.dumps({"model_cfg": cfg, "preprocess_cfg": preprocess}, indent=2) + "\n"
    )
    record = {
        "steps": args.steps,
        "batch": args.batch,
        "lr": args.lr,
        "pool": args.pool,
        "seed": args.seed,
        "train_seconds": round(seconds, 1),
        "torch": torch.__version__,
        "held_out": {k: round(v, 3) for k, v in metrics.items()},
    }
    (args.out / "training.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
