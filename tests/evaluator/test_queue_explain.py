"""Rate-next queue on a real library (coverage by facility location, each pick with its
reason) and explanations by the nearest rated images."""

from __future__ import annotations

from tests.support.preference import rate_first


def test_queue_never_asks_twice_about_the_same_kind_of_image(shapes_pref, shapes_images):
    # The library holds two renderings of each of 160 (colour, shape, background) specs. Once
    # one is picked, its twin has little uncertainty left, so it must not follow it; 24 random
    # picks repeat a spec with probability ~0.6.
    queue = shapes_pref.library.evaluator.rate_next(top_k=24)
    assert len(queue) == 24 and len({q.hash for q in queue}) == 24
    index = {h: i for i, h in enumerate(shapes_pref.hashes)}
    specs = [shapes_images[shapes_pref.paths[index[q.hash]]] for q in queue]
    assert len(set(specs)) == 24
    assert len({s.colour for s in specs}) >= 6
    assert all(q.path and q.path.endswith(".png") for q in queue)
    assert {q.reason for q in queue} == {"nothing like this is rated yet"}
    assert [q.hash for q in shapes_pref.library.evaluator.rate_next(top_k=24)] == [
        q.hash for q in queue
    ]


def test_queue_skips_rated_images_and_favours_unexplored_ones(shapes_pref):
    lib = shapes_pref.library
    # Rate every red image: the model knows red well, so the queue should look elsewhere.
    red = [h for h, c in zip(shapes_pref.hashes, shapes_pref.colours, strict=True) if c == "red"]
    for content in red:
        lib.ratings.set(content, 8)
    queue = lib.evaluator.rate_next(top_k=20)
    index = {h: i for i, h in enumerate(shapes_pref.hashes)}
    assert not {q.hash for q in queue} & set(red)
    colours = [shapes_pref.colours[index[q.hash]] for q in queue]
    assert "red" not in colours and len(set(colours)) >= 5


def test_queue_after_training_carries_predictions(shapes_pref):
    rate_first(shapes_pref, 40)
    lib = shapes_pref.library
    lib.evaluator.train()
    queue = lib.evaluator.rate_next(top_k=5)
    assert all(q.predicted is not None and q.nearest_rated is not None for q in queue)
    assert all(q.reason for q in queue)


def test_explain_lists_the_most_similar_rated_images(shapes_pref):
    rate_first(shapes_pref, 160)
    lib = shapes_pref.library
    lib.evaluator.train()
    target = 200
    found = lib.evaluator.explain(shapes_pref.hashes[target], top_k=5)
    assert found.rating is None and found.prediction is not None
    assert len(found.neighbours) == 5
    sims = [n.similarity for n in found.neighbours]
    assert sims == sorted(sims, reverse=True)
    index = {h: i for i, h in enumerate(shapes_pref.hashes)}
    colour = shapes_pref.colours[target]
    same = sum(shapes_pref.colours[index[n.hash]] == colour for n in found.neighbours)
    assert same >= 3  # the tiny CLIP sees colour first (1 in 8 images shares a colour)
    for n in found.neighbours:
        assert n.rating == shapes_pref.taste[index[n.hash]]
        assert n.path == shapes_pref.paths[index[n.hash]]
    assert 0 <= found.neighbour_estimate <= 10
    # A rated image is explained without itself among its neighbours.
    own = lib.evaluator.explain(shapes_pref.hashes[0])
    assert own.rating == shapes_pref.taste[0]
    assert shapes_pref.hashes[0] not in {n.hash for n in own.neighbours}
