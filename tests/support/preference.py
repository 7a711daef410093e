"""Helpers for the personal evaluator tests: a catalogue of images with vectors and a simulated user.

The simulated user likes red and dislikes triangles (with noise), the benchmark's preference.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xxhash

from anagnorisis_tui.core.library import Library

MODEL_ID = "synthetic-shapes"
COLOURS = ["red", "green", "blue", "yellow", "purple", "orange"]
SHAPES = ["circle", "square", "triangle", "star"]


@dataclass
class PreferenceLibrary:
    library: Library
    root: Path
    hashes: list[str]
    paths: list[str]
    colours: list[str]
    shapes: list[str]
    taste: np.ndarray  # the simulated user's rating for every image (0..10, whole numbers)


def preference(colours: list[str], shapes: list[str], rng: np.random.Generator) -> np.ndarray:
    base = 5.0 + 3.0 * (np.array(colours) == "red") - 3.0 * (np.array(shapes) == "triangle")
    return np.clip(np.rint(base + rng.normal(0, 1.0, len(colours))), 0, 10)


def structured_vectors(colours, shapes, rng: np.random.Generator, dim: int = 64) -> np.ndarray:
    protos = {name: rng.normal(size=dim) for name in COLOURS + SHAPES}
    mat = np.stack([protos[c] + 0.8 * protos[s] for c, s in zip(colours, shapes, strict=True)])
    return mat + rng.normal(0, 0.6, mat.shape)


def add_images(library: Library, root: Path, names: list[str]) -> list[str]:
    """Catalogue rows for real (tiny) files under root, as a scan would leave them."""
    db, now, hashes = library.db, time.time(), []
    root.mkdir(parents=True, exist_ok=True)
    with db.conn:
        for name in names:
            path = root / name
            path.write_bytes(name.encode())
            content = xxhash.xxh3_128_hexdigest(name.encode())
            hashes.append(content)
            db.execute(
                "INSERT OR REPLACE INTO images(hash, size, width, height, format, first_seen) "
                "VALUES (?, ?, 8, 8, 'PNG', ?)",
                [content, len(name), now],
            )
            db.execute(
                "INSERT OR REPLACE INTO files(path, root, folder, name, hash, size, mtime_ns, "
                "added, updated) VALUES (?, ?, '', ?, ?, ?, 0, ?, ?)",
                [str(path), str(root), name, content, len(name), now, now],
            )
    return hashes


def rate_first(pref: PreferenceLibrary, count: int) -> None:
    for content, value in zip(pref.hashes[:count], pref.taste[:count], strict=True):
        pref.library.ratings.set(content, float(value))
