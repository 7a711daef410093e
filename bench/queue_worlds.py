"""Benchmark libraries and simulated users for the rate-next study (bench/queue_bench.py).

Two kinds of library, each made fresh from a seed:

- tiny-clip: generated coloured-shape images (8 colours x 5 shapes x 4 backgrounds) embedded by
  the tiny CLIP shipped in the package, then subsampled with Dirichlet weights per spec, so some
  kinds of picture are common and some rare, as in a real library.
- clusters: synthetic 64-d vectors with cluster structure: every (a, b, c) attribute triple is a
  cluster centred on the sum of its attribute prototypes, with Dirichlet-distributed cluster
  sizes and a cluster-specific spread.

A simulated user has a taste over the attributes (never over the vectors) and rates
round(taste + noise) clipped to 0..10. Kinds of taste:

- one: likes one attribute value (one colour): 3 + 5 x [colour = C]
- two: two attributes combined: 5 + 3 x [colour = C] - 3 x [shape = S]
- nonlinear: an interaction no sum of attribute effects gives: 5 + 1.5 s(colour) +
  2.5 s(colour) t(background) with random signs s, t (likes half the colours, but only on half
  the backgrounds; on the other half the preference reverses)
- top: indifferent to almost everything (3), loves a few kinds (9): one colour in two shapes
  plus one shape on one background, about 5 % of a balanced library

Noise sd is 0.5, 1 or 2 rating points.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

N_COLOURS, N_SHAPES, N_BACKS = 8, 5, 4
TASTES = ("one", "two", "nonlinear", "top")
NOISES = (0.5, 1.0, 2.0)


@dataclass(frozen=True)
class World:
    """A library (vectors and the attributes behind them) and one user's ratings of it."""

    source: str
    seed: int
    taste_kind: str
    noise: float
    x: np.ndarray  # (n, dim) L2-normalised vectors
    taste: np.ndarray  # the user's noiseless taste per image
    y: np.ndarray  # the ratings the user gives (noisy, whole numbers 0..10)

    @property
    def name(self) -> str:
        return f"{self.source}-{self.seed}-{self.taste_kind}-{self.noise:g}"


def _skewed_subset(codes: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n indices drawn without replacement, each cell of `codes` weighted by Dirichlet(0.7)."""
    cells = np.unique(codes)
    weight = dict(zip(cells.tolist(), rng.dirichlet(np.full(len(cells), 0.7)), strict=True))
    w = np.array([weight[c] for c in codes.tolist()])
    keys = np.log(w + 1e-12) - np.log(-np.log(rng.random(len(codes))))  # Gumbel top-k
    return np.sort(np.argsort(-keys)[:n])


def tiny_clip_library(seed: int, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """(vectors, attributes (n, 3): colour, shape, background codes)."""
    from bench_shapes import embed_shapes

    from anagnorisis_tui.core.demo import shapes

    rendered = int(n * 4 / 3)
    x, _, _ = embed_shapes(rendered, seed)
    # iter_images walks a seeded shuffle of all specs in turn; replay the shuffle for the specs.
    specs = shapes.all_specs()
    random.Random(seed).shuffle(specs)
    colours, kinds, backs = list(shapes.COLOURS), list(shapes.SHAPES), list(shapes.BACKGROUNDS)
    attrs = np.array(
        [
            (colours.index(s.colour), kinds.index(s.shape), backs.index(s.background))
            for s in (specs[i % len(specs)] for i in range(rendered))
        ]
    )
    codes = attrs @ np.array([N_SHAPES * N_BACKS, N_BACKS, 1])
    keep = _skewed_subset(codes, n, np.random.default_rng(seed + 77))
    return x[keep], attrs[keep]


def cluster_library(seed: int, n: int = 3000, dim: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    protos = [rng.normal(size=(k, dim)) for k in (N_COLOURS, N_SHAPES, N_BACKS)]
    scale = (1.0, 0.7, 0.5)
    grid = np.array(np.meshgrid(*[np.arange(k) for k in (N_COLOURS, N_SHAPES, N_BACKS)]))
    triples = grid.reshape(3, -1).T
    sizes = rng.multinomial(n, rng.dirichlet(np.full(len(triples), 0.7)))
    attrs = np.repeat(triples, sizes, axis=0)
    centre = sum(s * p[attrs[:, j]] for j, (s, p) in enumerate(zip(scale, protos, strict=True)))
    spread = rng.uniform(0.5, 1.0, len(triples))[np.repeat(np.arange(len(triples)), sizes)]
    x = centre + spread[:, None] * rng.normal(size=(n, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    perm = rng.permutation(n)
    return x[perm].astype(np.float32), attrs[perm]


def taste_of(kind: str, attrs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    colour, shape, back = attrs[:, 0], attrs[:, 1], attrs[:, 2]
    c, s = int(rng.integers(N_COLOURS)), int(rng.integers(N_SHAPES))
    if kind == "one":
        return 3.0 + 5.0 * (colour == c)
    if kind == "two":
        return 5.0 + 3.0 * (colour == c) - 3.0 * (shape == s)
    if kind == "nonlinear":
        sc = rng.permutation(np.resize([-1.0, 1.0], N_COLOURS))
        sb = rng.permutation(np.resize([-1.0, 1.0], N_BACKS))
        return 5.0 + 1.5 * sc[colour] + 2.5 * sc[colour] * sb[back]
    if kind == "top":
        shapes2 = rng.choice(N_SHAPES, 2, replace=False)
        s2, b2 = int(rng.integers(N_SHAPES)), int(rng.integers(N_BACKS))
        loved = ((colour == c) & np.isin(shape, shapes2)) | ((shape == s2) & (back == b2))
        return np.where(loved, 9.0, 3.0)
    raise ValueError(kind)


def make_world(source: str, seed: int, taste_kind: str, noise: float) -> World:
    x, attrs = tiny_clip_library(seed) if source == "tiny-clip" else cluster_library(seed)
    rng = np.random.default_rng(seed * 31 + TASTES.index(taste_kind))
    taste = taste_of(taste_kind, attrs, rng)
    y = np.clip(np.rint(taste + rng.normal(0, noise, len(taste))), 0, 10).astype(np.float32)
    return World(source, seed, taste_kind, noise, x, taste.astype(np.float32), y)


def plan(
    source: str, seeds: list[int], users_per_library: int
) -> list[tuple[str, int, str, float]]:
    """(source, seed, taste, noise) for each run: tastes and noises cycle over the libraries."""
    runs = []
    for i, seed in enumerate(seeds):
        for u in range(users_per_library):
            k = i * users_per_library + u
            runs.append((source, seed, TASTES[k % len(TASTES)], NOISES[(k // 2) % len(NOISES)]))
    return runs
