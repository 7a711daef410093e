"""What the model checks are made of, and the memory they leave: probe images (deterministic,
varied, at the model's input) and handing freed memory back between steps. A leaf module: the
export (onnx_export.py), the ready graphs (onnx_ready.py) and the models' opening
(onnx_models.py) all use it.
"""

from __future__ import annotations

import gc
import random

import numpy as np

PROBE_COUNT = 24


def probe_images(size: int, count: int = PROBE_COUNT) -> np.ndarray:
    """Deterministic, varied images at the model's input: coloured shapes on tinted
    backgrounds, with smooth gradients and noise, like the simple content retrieval sees."""
    from PIL import Image, ImageDraw

    rng = random.Random(1234)
    noise = np.random.default_rng(1234)
    ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)
    out = []
    for _ in range(count):
        colour = [rng.randrange(256) for _ in range(3)]
        shade = [rng.randrange(256) for _ in range(3)]
        direction = ramp[None, :, None] if rng.random() < 0.5 else ramp[:, None, None]
        background = np.array(colour) * (1 - direction) + np.array(shade) * direction
        image = Image.fromarray(np.broadcast_to(background, (size, size, 3)).astype(np.uint8))
        draw = ImageDraw.Draw(image)
        for _ in range(rng.randint(1, 3)):
            x, y = rng.uniform(0, size * 0.6), rng.uniform(0, size * 0.6)
            w, h = rng.uniform(size * 0.2, size * 0.5), rng.uniform(size * 0.2, size * 0.5)
            fill = tuple(rng.randrange(256) for _ in range(3))
            shape = rng.choice((draw.ellipse, draw.rectangle))
            shape((x, y, x + w, y + h), fill=fill)
        pixels = np.asarray(image, np.int16) + noise.normal(0, 6, (size, size, 3)).astype(np.int16)
        out.append(np.clip(pixels, 0, 255).astype(np.uint8))
    return np.stack(out)


def release_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS (glibc's malloc_trim): a closed
    ONNX Runtime session's hundreds of MB otherwise stay in the process's resident set, and the
    next step's peak stacks on top of them."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to trim
