"""Vectors of generated coloured-shape images, embedded by the tiny CLIP shipped in the package.

Cached under bench/out/ (keyed by count, seed and model id) so repeated benchmark runs only pay
for rendering and embedding once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "out"


def embed_shapes(n: int, seed: int, batch: int = 256) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vectors, colours, shapes) for n images; every colour/shape/background equally often."""
    from anagnorisis_tui.core.demo import shapes
    from anagnorisis_tui.core.semantic import engine as embeddings
    from anagnorisis_tui.core.semantic import model_choice

    choice = model_choice.resolve(model_choice.TINY_CLIP)
    cache = OUT / f"shapes-{n}-{seed}-{model_choice.index_name(choice.model_id)}.npz"
    if cache.exists():
        data = np.load(cache, allow_pickle=False)
        return data["x"], data["colours"], data["shapes"]
    embedder = embeddings.load(choice)
    vecs, colours, kinds, pending = [], [], [], []
    for spec, image in shapes.iter_images(n, size=embedder.image_size, seed=seed):
        colours.append(spec.colour)
        kinds.append(spec.shape)
        pending.append(np.asarray(image.convert("RGB"), dtype=np.uint8))
        if len(pending) == batch:
            vecs.append(embedder.encode_images(np.stack(pending)))
            pending = []
    if pending:
        vecs.append(embedder.encode_images(np.stack(pending)))
    x = np.concatenate(vecs).astype(np.float32)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(cache, x=x, colours=np.array(colours), shapes=np.array(kinds))
    return x, np.array(colours), np.array(kinds)
