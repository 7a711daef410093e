#!/usr/bin/env python
"""Recall@10 against exact search, per query kind and per search path, at 100k and 1M vectors.

    nice python bench/bench_text_recall.py                       # 100,000 and 1,000,000
    python bench/bench_text_recall.py --sizes 100000 --tiny 100000

Two kinds of query:
  image - near the data ("more like this"): perturbed items and blends (index.tuning_queries,
          unseen seed);
  text  - across CLIP's modality gap: the image queries moved by the mean text-minus-image
          offset. The synthetic 512-d vectors (ViT-B-32-256 sized) live in a cone like CLIP's:
          images share a mean direction (cosine ~0.5 to it), texts another one.
With --tiny N, also the shipped tiny CLIP's real text queries (its shapes captions, colours and
shapes alone) on a library of its own embedded shapes, grown to N by jittered copies.

For each: the Annoy index as the app builds it (40 trees, search_k tuned on image queries) and
the path the app serves the kind by (search.needs_exact: text -> exact float32 memory map;
image -> the index when its tuned recall reached index.RECALL_TARGET, else exact), with its
latency per query. Recall is |found & exact top 10| / 10, averaged.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anagnorisis_tui.core.base import db as dbmod  # noqa: E402
from anagnorisis_tui.core.semantic import index, search, vectors  # noqa: E402
from bench.bench_search import clustered  # noqa: E402

TEXT = [search.Term("text", "q", 1.0)]
IMAGE = [search.Term("image", "/q.jpg", 1.0)]


def cone(n: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images, image mean direction, text mean direction): clustered vectors plus a shared
    component, so each image has cosine ~0.5 with the image mean, as CLIP image vectors do."""
    rng = np.random.default_rng(seed + 1)
    m_img, m_txt = vectors.normalise(rng.normal(size=(2, dim)))
    out = clustered(n, dim, seed)
    for start in range(0, n, 100_000):
        block = out[start : start + 100_000]
        out[start : start + len(block)] = vectors.normalise(block + 0.6 * m_img)
    return out, m_img.astype(np.float32), m_txt.astype(np.float32)


def store(tmp: Path, mat: np.ndarray, tag: str) -> tuple[dbmod.Database, Path, list[str]]:
    hashes = [f"{i:032x}" for i in range(len(mat))]
    db = dbmod.connect(tmp / f"{tag}.db")
    vectors.register_model(db, "bench", mat.shape[1])
    for start in range(0, len(mat), 50_000):
        vectors.put_vectors(
            db, "bench", hashes[start : start + 50_000], mat[start : start + 50_000]
        )
    return db, tmp / f"data-{tag}", hashes


def measure(
    label: str, db, data: Path, mat, hashes, kinds: dict[str, tuple[list, np.ndarray]], annoy: bool
):
    t0 = time.perf_counter()
    meta = index.build(db, data, "bench", exact_max=0 if annoy else len(mat))
    built = time.perf_counter() - t0
    if annoy:
        print(
            f"  {label}: {len(mat):,} x {mat.shape[1]}; index built in {built:.0f} s, 40 trees, "
            f"search_k/10 {meta['search_k_per_10']}, tuned recall "
            f"{meta['tuned_recall_at_10']:.3f} (holds: "
            f"{meta['tuned_recall_at_10'] >= index.RECALL_TARGET})",
            flush=True,
        )
    else:
        print(f"  {label}: {len(mat):,} x {mat.shape[1]}; no index built (--index-max)")
    searcher = search.Searcher(data, "bench")
    snap = index.open_snapshot(data, "bench", mat.shape[1])
    assert snap is not None
    for kind, (terms, qs) in kinds.items():
        # The truth: exact top 10 over the vectors the library stores (float16 in SQLite).
        truth = [{hashes[i] for i in ids} for ids in index.exact_truth(snap.matrix, qs)]
        ann_hits = served_hits = 0
        ann_t: list[float] = []
        served_t: list[float] = []
        exact = search.needs_exact(terms)
        for q, want in zip(qs, truth, strict=True):
            if snap.ann is None:
                break
            t = time.perf_counter()
            got = snap.search(q, 10, exact=False) if snap.index_holds else []
            ann_t.append(time.perf_counter() - t)
            if not snap.index_holds:  # the index alone, as it was used before
                search_k = int(snap.meta["search_k_per_10"])
                ids = snap.ann.get_nns_by_vector(q.tolist(), 10, search_k=search_k)  # type: ignore[attr-defined]
                got = [(hashes[i], 0.0) for i in ids]
            ann_hits += len(want & {h for h, _ in got})
        for q, want in zip(qs, truth, strict=True):
            t = time.perf_counter()
            got = searcher.ranked(db, q, 10, exact=exact)
            served_t.append(time.perf_counter() - t)
            served_hits += len(want & {h for h, _ in got})
        n = 10 * len(qs)
        path = "exact" if exact or snap.ann is None or not snap.index_holds else "index"
        alone = (
            f"index alone recall@10 {ann_hits / n:.3f} ({1000 * np.median(ann_t):.1f} ms)"
            if ann_t
            else "no index"
        )
        print(
            f"    {kind:<5} queries ({len(qs)}): {alone} | served by {path}: recall@10 "
            f"{served_hits / n:.3f}, median {1000 * np.median(served_t):.1f} ms, "
            f"p99 {1000 * np.percentile(served_t, 99):.1f} ms",
            flush=True,
        )
    snap.close()
    searcher.close()


def synthetic(n: int, dim: int, queries: int, tmp: Path, annoy: bool) -> None:
    mat, m_img, m_txt = cone(n, dim, seed=n)
    image_q = index.tuning_queries(mat, queries, seed=4242)
    offset = 0.6 * (m_txt - m_img)  # the mean text-minus-image offset of the cone model
    text_q = vectors.normalise(image_q + offset)
    cos = float(np.mean(mat[:2000] @ text_q[0]))
    print(f"synthetic cone, mean cosine text query -> images {cos:.2f}", flush=True)
    db, data, hashes = store(tmp, mat, f"syn{n}")
    kinds = {"image": (IMAGE, image_q), "text": (TEXT, text_q)}
    measure("synthetic", db, data, mat, hashes, kinds, annoy)
    db.conn.close()


def tiny(n: int, queries: int, tmp: Path) -> None:
    from anagnorisis_tui.core.demo import shapes
    from anagnorisis_tui.core.semantic import engine, imageprep, model_choice

    emb = engine.load(model_choice.resolve(model_choice.TINY_CLIP, "", "cpu"))
    rng = random.Random(5)
    specs = [shapes.random_spec(rng) for _ in range(2000)]
    pixels = np.stack(
        [
            np.asarray(imageprep.fit(shapes.render(s, 96, rng), emb.image_size, emb.resize_mode))
            for s in specs
        ]
    )
    real = np.concatenate([emb.encode_images(pixels[i : i + 256]) for i in range(0, 2000, 256)])
    gen = np.random.default_rng(9)
    picks = real[gen.integers(0, len(real), n - len(real))]
    noise = gen.normal(size=picks.shape).astype(np.float32) / np.sqrt(picks.shape[1])
    mat = np.concatenate([real, vectors.normalise(picks + 0.35 * noise)]).astype(np.float32)
    every = shapes.all_specs()
    texts = sorted(
        {s.caption for s in every} | {s.colour for s in every} | {s.shape for s in every}
    )
    texts = random.Random(1).sample(texts, min(queries, len(texts)))
    text_q = emb.encode_texts(texts).astype(np.float32)
    image_q = index.tuning_queries(mat, queries, seed=4242)
    gap = float(np.mean(real @ text_q.T))
    print(f"tiny-clip, {len(texts)} real text queries, mean cosine to images {gap:.2f}", flush=True)
    db, data, hashes = store(tmp, mat, f"tiny{n}")
    kinds = {"image": (IMAGE, image_q), "text": (TEXT, text_q)}
    measure("tiny-clip", db, data, mat, hashes, kinds, annoy=True)
    db.conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--tiny", type=int, default=100_000, help="0: skip the tiny-clip part")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument(
        "--index-max", type=int, default=200_000, help="build no Annoy index past this size"
    )
    args = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.1f} (1 min average), {os.cpu_count()} cores", flush=True)
    print(f"index.RECALL_TARGET {index.RECALL_TARGET}, EXACT_MAX {index.EXACT_MAX}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-recall-") as tmp:
        if args.tiny:
            tiny(args.tiny, args.queries, Path(tmp))
        for n in args.sizes:
            synthetic(n, args.dim, args.queries, Path(tmp), n <= args.index_max)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
