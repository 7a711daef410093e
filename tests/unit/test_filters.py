"""Filters, sorts, search/concept composition and paging, on a real SQLite catalogue."""

from __future__ import annotations

import numpy as np
import pytest

from anagnorisis_tui.core.base import ratings
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.semantic import vectors
from anagnorisis_tui.core.views.filters import (
    Concept,
    FilterError,
    Filters,
    parse_bytes,
    parse_ratio,
)
from anagnorisis_tui.core.views.paging import ViewSpec
from anagnorisis_tui.core.views.service import ViewsService
from tests.support.rows import add_file, add_prediction

TEXT = {"red": [1.0, 0.0, 0.0, 0.0], "green": [0.0, 1.0, 0.0, 0.0]}


@pytest.fixture
def lib(settings, monkeypatch):
    library = Library(settings)
    db = library.db
    h = {}
    h["a"] = add_file(db, "/lib/a.jpg", width=4000, height=3000, size=5_000_000, mtime_ns=5)
    h["b"] = add_file(db, "/lib/b.jpg", width=1000, height=2000, size=300_000, mtime_ns=4)
    h["c"] = add_file(db, "/lib/c.png", width=1000, height=1000, size=50_000, mtime_ns=3)
    h["d"] = add_file(db, "/lib/d.jpg", width=3000, height=1000, size=1_000_000, mtime_ns=2)
    h["e"] = add_file(db, "/lib/e.jpg", width=None, height=None, size=10_000, mtime_ns=1)
    h["f"] = add_file(db, "/lib/sub/f.jpg", width=800, height=500, size=200_000, mtime_ns=6)
    add_file(db, "/lib/gone.jpg", width=5000, height=5000, size=9_000_000, present=0)
    ratings.set_rating(db, h["a"], 9)
    ratings.set_rating(db, h["c"], 2)
    add_prediction(db, h["b"], 7.0)
    add_prediction(db, h["f"], 3.0)
    add_prediction(db, h["a"], 1.0)  # the user's own rating wins over this
    vectors.register_model(db, "m", 4)
    vectors.put_vectors(
        db,
        "m",
        [h["a"], h["b"], h["c"], h["d"]],
        np.array([[1, 0, 0, 0], [0.9, 0.1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], dtype=np.float32),
    )
    monkeypatch.setattr(
        ViewsService, "text_vector", lambda self, text: ("m", np.array(TEXT[text], np.float32))
    )
    library.h = h
    yield library
    library.close()


def names(library: Library, spec: ViewSpec, limit: int = 100) -> list[str]:
    return [e.name for e in library.views.page(spec, 0, limit)]


def test_resolution_filter_and_sort_unknown_last(lib):
    spec = ViewSpec(sort="resolution", filters=Filters(min_megapixels=1.0, max_megapixels=3.0))
    assert names(lib, spec) == ["c.png", "b.jpg", "d.jpg"]
    assert lib.views.count(spec) == 3
    # Unknown size sorts last in both directions; absent files never show.
    assert names(lib, ViewSpec(sort="resolution"))[-1] == "e.jpg"
    assert names(lib, ViewSpec(sort="resolution", descending=True)) == [
        "a.jpg",
        "d.jpg",
        "b.jpg",
        "c.png",
        "f.jpg",
        "e.jpg",
    ]


def test_proportion_sort_and_shapes(lib):
    wide_to_tall = names(lib, ViewSpec(sort="proportion", descending=True))
    assert wide_to_tall == ["d.jpg", "f.jpg", "a.jpg", "c.png", "b.jpg", "e.jpg"]
    assert names(lib, ViewSpec(sort="proportion"))[:5] == wide_to_tall[:5][::-1]
    assert names(lib, ViewSpec(filters=Filters(shape="portrait"))) == ["b.jpg"]
    assert names(lib, ViewSpec(filters=Filters(shape="square"))) == ["c.png"]
    assert names(lib, ViewSpec(filters=Filters(shape="landscape"))) == ["a.jpg", "d.jpg", "f.jpg"]
    assert names(lib, ViewSpec(filters=Filters(shape="panorama"))) == ["d.jpg"]
    ratio = Filters(min_ratio=parse_ratio("4:3"), max_ratio=parse_ratio("16:9"))
    assert names(lib, ViewSpec(filters=ratio)) == ["a.jpg", "f.jpg"]


def test_file_size_filter_and_sort(lib):
    spec = ViewSpec(sort="size", descending=True, filters=Filters(min_bytes=parse_bytes("100k")))
    assert names(lib, spec) == ["a.jpg", "d.jpg", "b.jpg", "f.jpg"]
    small = ViewSpec(sort="size", filters=Filters(max_bytes=parse_bytes("50kB")))
    assert names(lib, small) == ["e.jpg", "c.png"]


def test_rating_sort_user_first_then_prediction_unrated_last(lib):
    down = lib.views.page(ViewSpec(sort="rating", descending=True), 0, 10)
    assert [e.name for e in down] == ["a.jpg", "b.jpg", "f.jpg", "c.png", "d.jpg", "e.jpg"]
    assert down[0].rating == 9 and down[0].predicted == 1.0  # own rating beats the model
    assert down[1].rating is None and down[1].effective_rating == 7.0
    up = names(lib, ViewSpec(sort="rating"))
    assert up == ["c.png", "f.jpg", "b.jpg", "a.jpg", "d.jpg", "e.jpg"]
    ranged = ViewSpec(sort="rating", filters=Filters(min_rating=3, max_rating=8))
    assert names(lib, ranged) == ["f.jpg", "b.jpg"]


def test_random_is_seeded_and_pages_are_stable(lib):
    first = names(lib, ViewSpec(sort="random", seed=1))
    assert sorted(first) == sorted(names(lib, ViewSpec()))
    assert names(lib, ViewSpec(sort="random", seed=1)) == first
    others = {tuple(names(lib, ViewSpec(sort="random", seed=s))) for s in range(2, 8)}
    assert len(others | {tuple(first)}) > 1  # reshuffling changes the order
    paged = []
    for offset in range(0, 6, 2):
        paged += [e.name for e in lib.views.page(ViewSpec(sort="random", seed=1), offset, 2)]
    assert paged == first


def test_paging_never_overlaps_on_ties(lib):
    db = lib.db
    for n in range(7):
        add_file(db, f"/lib/tie/{n}.jpg", size=777)
    spec = ViewSpec(sort="size", filters=Filters(min_bytes=777, max_bytes=777))
    whole = names(lib, spec)
    assert len(whole) == 7
    pages = [e.name for off in range(0, 7, 3) for e in lib.views.page(spec, off, 3)]
    assert pages == whole


def test_folder_scope_composes_with_filters(lib):
    spec = ViewSpec(folder="sub", filters=Filters(shape="landscape"))
    assert names(lib, spec) == ["f.jpg"]
    assert lib.views.count(ViewSpec(folder="sub", filters=Filters(shape="portrait"))) == 0
    assert lib.views.count(ViewSpec(root="/elsewhere")) == 0


def test_concept_keep_and_exclude_with_visible_score(lib):
    keep = lib.views.page(ViewSpec(filters=Filters(concept=Concept("red", 0.5))), 0, 10)
    assert [e.name for e in keep] == ["a.jpg", "b.jpg"]
    assert keep[0].score == pytest.approx(1.0, abs=1e-3)
    assert keep[1].concept == pytest.approx(0.9 / np.hypot(0.9, 0.1), abs=1e-3)
    drop = ViewSpec(filters=Filters(concept=Concept("red", 0.5, exclude=True)))
    # Images without a vector (e, f) are left out of a concept filter in both modes.
    assert names(lib, drop) == ["c.png", "d.jpg"]
    looser = ViewSpec(filters=Filters(concept=Concept("red", 0.0)))
    assert lib.views.count(looser) == 4
    by_score = ViewSpec(sort="score", descending=True, filters=Filters(concept=Concept("red", -1)))
    assert names(lib, by_score)[:2] == ["a.jpg", "b.jpg"]


def test_search_composes_with_filters_and_scope(lib):
    spec = ViewSpec(search="red", sort="score", descending=True)
    hits = lib.views.page(spec, 0, 10)
    assert [e.name for e in hits][:2] == ["a.jpg", "b.jpg"]
    assert lib.views.count(spec) == 4  # embedded images only
    assert hits[0].score > hits[1].score > hits[2].score
    narrowed = ViewSpec(
        search="red", sort="score", descending=True, filters=Filters(shape="portrait")
    )
    assert names(lib, narrowed) == ["b.jpg"]
    cut = ViewSpec(search="red", sort="score", descending=True, search_cutoff=0.5)
    assert names(lib, cut) == ["a.jpg", "b.jpg"]
    both = ViewSpec(
        search="green",
        sort="score",
        descending=True,
        filters=Filters(concept=Concept("red", 0.5, exclude=True), max_bytes=60_000),
    )
    entries = lib.views.page(both, 0, 10)
    assert [e.name for e in entries] == ["c.png"]
    assert entries[0].score == pytest.approx(1.0, abs=1e-3)  # the search score
    assert entries[0].concept == pytest.approx(0.0, abs=1e-3)


def test_scores_follow_new_vectors(lib):
    spec = ViewSpec(filters=Filters(concept=Concept("red", 0.5)))
    assert lib.views.count(spec) == 2
    vectors.put_vectors(lib.db, "m", [lib.h["f"]], np.array([[1, 0, 0, 0.1]], np.float32))
    assert lib.views.count(spec) == 3


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Filters(min_bytes=-1), "at least 0"),
        (lambda: Filters(min_megapixels=5, max_megapixels=1), "above the maximum"),
        (lambda: Filters(min_ratio=0), "above 0"),
        (lambda: Filters(shape="round"), "unknown shape"),
        (lambda: Filters(min_rating=11), "at most 10"),
        (lambda: Filters(max_megapixels=float("nan")), "finite"),
        (lambda: Concept(""), "needs some text"),
        (lambda: Concept("x", threshold=2), "from -1 to 1"),
        (lambda: ViewSpec(sort="colour"), "unknown sort key 'colour'"),
        (lambda: ViewSpec(sort="score"), "needs a search or a text concept"),
    ],
)
def test_nonsense_values_get_clear_messages(make, message):
    with pytest.raises(FilterError, match=message):
        make()


def test_negative_paging_is_refused(lib):
    with pytest.raises(FilterError, match="must not be negative"):
        lib.views.page(ViewSpec(), -1, 10)
