"""Search that means something: the shipped tiny CLIP ranks generated shapes by content."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from anagnorisis_tui.core.semantic.search import QueryError


def _specs(lib, shapes_images, hits):
    return [shapes_images[h.path] for h in hits]


def test_red_circle_ranks_red_circles_first(shapes_library, shapes_images):
    hits = shapes_library.semantic.search("red circle", top_k=8)
    specs = _specs(shapes_library, shapes_images, hits)
    assert [(s.colour, s.shape) for s in specs[:3]] == [("red", "circle")] * 3
    # The library holds 8 red circles (one pair per background); most fill the top 8.
    assert sum((s.colour, s.shape) == ("red", "circle") for s in specs) >= 6
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:], strict=False))


def test_colour_words_find_that_colour(shapes_library, shapes_images):
    for colour in ("blue", "yellow"):
        specs = _specs(
            shapes_library, shapes_images, shapes_library.semantic.search(colour, top_k=10)
        )
        assert sum(s.colour == colour for s in specs) >= 8, colour


def test_negative_term_pushes_matches_down(shapes_library, shapes_images):
    plain = _specs(
        shapes_library, shapes_images, shapes_library.semantic.search("circle", top_k=20)
    )
    minus = _specs(
        shapes_library, shapes_images, shapes_library.semantic.search("circle -red", top_k=20)
    )
    assert sum(s.colour == "red" for s in minus) < sum(s.colour == "red" for s in plain)
    assert sum(s.colour == "red" for s in minus) == 0
    # Still mostly about circles (1 in 5 images is a circle); a lighter weight keeps more.
    assert sum(s.shape == "circle" for s in minus) >= 6
    lighter = shapes_library.semantic.search("circle -0.5:red", top_k=20)
    lighter_specs = _specs(shapes_library, shapes_images, lighter)
    assert sum(s.colour == "red" for s in lighter_specs) == 0
    assert sum(s.shape == "circle" for s in lighter_specs) > sum(s.shape == "circle" for s in minus)


def test_weight_shifts_the_balance(shapes_library, shapes_images):
    def reds(query):
        hits = shapes_library.semantic.search(query, top_k=16)
        return sum(s.colour == "red" for s in _specs(shapes_library, shapes_images, hits))

    assert reds("star 3:red") > reds("3:star red")


def test_resized_jpeg_copy_finds_its_original(shapes_library, shapes_images, tmp_path):
    for original in list(shapes_images)[:40:8]:
        buf = io.BytesIO()
        Image.open(original).convert("RGB").resize((61, 61)).save(buf, "JPEG", quality=70)
        copy = tmp_path / "copy.jpg"  # not in the library: embedded on the fly
        copy.write_bytes(buf.getvalue())
        hits = shapes_library.semantic.similar_image(str(copy), top_k=3)
        assert hits[0].path == original


def test_more_like_this_excludes_itself(shapes_library, shapes_images):
    path = next(iter(shapes_images))
    entry = shapes_library.views.entry(path)
    hits = shapes_library.semantic.similar(entry.hash, top_k=5)
    assert entry.hash not in {h.hash for h in hits}
    spec = shapes_images[path]
    assert sum(shapes_images[h.path].colour == spec.colour for h in hits) >= 4


def test_image_term_in_a_query(shapes_library, shapes_images):
    path = next(p for p, s in shapes_images.items() if s.colour == "green")
    hits = shapes_library.semantic.search(f"{path} -green", top_k=10)
    assert sum(shapes_images[h.path].colour == "green" for h in hits) <= 2


def test_cutoff_and_ranked_pairs(shapes_library):
    ranked = shapes_library.semantic.ranked("red circle", limit=None)
    assert len(ranked) == 320
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True)
    cut = (scores[5] + scores[6]) / 2
    assert len(shapes_library.semantic.search("red circle", top_k=50, cutoff=cut)) == 6
    assert [h for h, _ in shapes_library.semantic.ranked("red circle", limit=10)] == [
        h for h, _ in ranked[:10]
    ]


def test_bad_queries_are_clear(shapes_library, tmp_path):
    with pytest.raises(QueryError, match="empty"):
        shapes_library.semantic.search("  ")
    with pytest.raises(QueryError, match="only negative"):
        shapes_library.semantic.search("-red")
    with pytest.raises(QueryError, match="does not exist"):
        shapes_library.semantic.search(str(tmp_path / "nope.png"))
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    with pytest.raises(QueryError, match="cannot use image"):
        shapes_library.semantic.search(str(junk))
