"""Rate-next queue (uncertainty + diversity) and explanations by the nearest rated images."""

from __future__ import annotations

import numpy as np
from evaluator_helpers import rate_first

from anagnorisis_tui.core import rate_next


def test_queue_spreads_the_first_picks_across_the_library(pref_library):
    queue = pref_library.library.rate_next(top_k=24)
    assert len(queue) == 24 and len({q.hash for q in queue}) == 24
    index = {h: i for i, h in enumerate(pref_library.hashes)}
    colours = {pref_library.colours[index[q.hash]] for q in queue}
    shapes = {pref_library.shapes[index[q.hash]] for q in queue}
    assert len(colours) == 6 and len(shapes) == 4
    assert all(q.path and q.path.endswith(".png") for q in queue)
    assert all(q.gain > 0 for q in queue)


def test_queue_skips_rated_images_and_favours_unexplored_ones(pref_library):
    lib = pref_library.library
    # Rate every red image: the model knows red well, so the queue should look elsewhere first.
    red = [h for h, c in zip(pref_library.hashes, pref_library.colours, strict=True) if c == "red"]
    for content in red:
        lib.set_rating(content, 8)
    queue = lib.rate_next(top_k=20)
    picked = {q.hash for q in queue}
    assert not picked & set(red)
    index = {h: i for i, h in enumerate(pref_library.hashes)}
    assert sum(pref_library.colours[index[h]] == "red" for h in picked) == 0
    assert {pref_library.colours[index[h]] for h in picked} >= {"green", "blue", "yellow"}


def test_queue_after_training_carries_predictions(pref_library):
    rate_first(pref_library, 40)
    lib = pref_library.library
    lib.train()
    queue = lib.rate_next(top_k=5)
    assert all(q.predicted is not None and q.nearest_rated is not None for q in queue)
    assert all(q.reason for q in queue)


def test_select_is_deterministic_and_handles_edge_cases():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 8)).astype(np.float32)
    a, _ = rate_next.select(x[:5], x[5:], 10)
    b, _ = rate_next.select(x[:5], x[5:], 10)
    assert a.tolist() == b.tolist() and len(set(a.tolist())) == 10
    assert rate_next.select(x[:5], x[5:], 100)[0].size == 45
    assert rate_next.select(x[:0], x[5:], 3)[0].size == 3
    assert rate_next.select(x[:5], x[:0], 3)[0].size == 0


def test_explain_lists_the_most_similar_rated_images(pref_library):
    rate_first(pref_library, 120)
    lib = pref_library.library
    lib.train()
    target = 200
    found = lib.explain(pref_library.hashes[target], top_k=5)
    assert found.rating is None and found.prediction is not None
    assert len(found.neighbours) == 5
    sims = [n.similarity for n in found.neighbours]
    assert sims == sorted(sims, reverse=True)
    index = {h: i for i, h in enumerate(pref_library.hashes)}
    colour = pref_library.colours[target]
    same = sum(pref_library.colours[index[n.hash]] == colour for n in found.neighbours)
    assert same >= 4
    for n in found.neighbours:
        assert n.rating == pref_library.taste[index[n.hash]]
        assert n.path == pref_library.paths[index[n.hash]]
    assert 0 <= found.neighbour_estimate <= 10
    # A rated image is explained without itself among its neighbours.
    own = lib.explain(pref_library.hashes[0])
    assert own.rating == pref_library.taste[0]
    assert pref_library.hashes[0] not in {n.hash for n in own.neighbours}
