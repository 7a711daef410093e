"""Text queries get the true best however large the library: they are searched exactly.

The shipped tiny CLIP's real text queries against a library past EXACT_MAX (its 320 real image
vectors plus jittered copies of them, so the index is built): the index is tuned on image-like
queries, and a text vector sits across the modality gap from all of them, where it misses.
"""

from __future__ import annotations

import numpy as np

from anagnorisis_tui.core.semantic import index, vectors

QUERIES = (
    "a red circle",
    "a blue square",
    "a green star",
    "a yellow triangle on a white background",
    "purple",
    "a shape on a dark background",
)


def _grow_past_exact_max(lib, rng: np.random.Generator) -> None:
    db = lib.db
    model_id = lib.semantic.model_id
    _, real = vectors.load_vectors(db, model_id)
    extra = index.EXACT_MAX + 1_000
    picks = real[rng.integers(0, len(real), extra)]
    noise = rng.normal(size=picks.shape) / np.sqrt(picks.shape[1])
    jittered = vectors.normalise(picks + 0.35 * noise)
    vectors.put_vectors(db, model_id, [f"synthetic{i:06x}" for i in range(extra)], jittered)


def test_text_queries_return_the_exact_top_10_past_the_index_threshold(shapes_library):
    lib = shapes_library
    _grow_past_exact_max(lib, np.random.default_rng(7))
    meta = lib.semantic.build_index()
    assert meta is not None and "trees" in meta  # the Annoy index exists and is live
    for query in QUERIES:
        exact = lib.semantic.ranked(query, limit=None)[:10]
        assert lib.semantic.ranked(query, limit=10) == exact, query
        shown = [(h.hash, h.score) for h in lib.semantic.search(query, top_k=10)]
        # search() shows only images with a present file: the exact order among those.
        every = lib.semantic.ranked(query, limit=None)
        present = [(h, s) for h, s in every if not h.startswith("synthetic")][:10]
        assert [h for h, _ in shown] == [h for h, _ in present], query
