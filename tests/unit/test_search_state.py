"""The Search/Filter screen's state: parsing typed values, validation, and the summary chips."""

from __future__ import annotations

import pytest

from anagnorisis_tui.ui.state.search_state import (
    FilterInputError,
    SearchState,
    format_size,
    parse_number,
    parse_proportion,
    parse_seed,
    parse_size,
    size_text,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("1200", 1200),
        ("500k", 500_000),
        ("5MB", 5_000_000),
        ("2 MiB", 2 * 1024**2),
        ("1.5gb", 1_500_000_000),
    ],
)
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["-5MB", "five", "5 parsecs", "1e9"])
def test_parse_size_refuses_nonsense(text):
    # The core's message (core/base/units.py), named after the control.
    with pytest.raises(FilterInputError, match="^min size: (not a|a) file size"):
        parse_size(text, what="min size")


def test_size_text_round_trips_exactly():
    for size in (1, 999, 1000, 1500, 1_234_567, 5_000_000, 2_500_000_000):
        assert parse_size(size_text(size)) == size
    assert size_text(None) == ""
    assert format_size(1_234_567) == "1.2 MB"


def test_parse_number_and_ratio():
    assert parse_proportion("16:9", what="ratio") == pytest.approx(16 / 9)
    assert parse_proportion("", what="ratio") is None
    with pytest.raises(FilterInputError, match="^min proportion: not a proportion"):
        parse_proportion("4:0", what="min proportion")
    assert parse_number(" 2.5 ", what="mp") == 2.5
    assert parse_number("", what="mp") is None
    with pytest.raises(FilterInputError, match="not a number"):
        parse_number("4:3", what="mp")
    with pytest.raises(FilterInputError, match="at least 0"):
        parse_number("-1", what="mp")
    assert parse_seed("") == 0
    with pytest.raises(FilterInputError):
        parse_seed("x")


def test_validate_refuses_min_above_max():
    with pytest.raises(FilterInputError, match="resolution"):
        SearchState(min_megapixels=5, max_megapixels=1).validate()
    with pytest.raises(FilterInputError, match="rating"):
        SearchState(min_rating=8, max_rating=2).validate()
    with pytest.raises(FilterInputError, match="sort"):
        SearchState(sort="colour").validate()
    SearchState(min_bytes=1, max_bytes=1).validate()


def test_relevance_needs_something_to_score():
    assert SearchState().effective_sort == "path"
    assert SearchState(query="red circle").effective_sort == "score"
    assert SearchState(concept="screenshot").effective_sort == "score"
    assert SearchState(sort="size").effective_sort == "size"


def test_chips_describe_every_active_part_as_plain_text():
    state = SearchState(
        query="[bold]red[/] circle",
        concept="triangle",
        concept_exclude=True,
        min_megapixels=1,
        shape="portrait",
        max_bytes=5_000_000,
        min_rating=7,
        sort="random",
        seed=42,
    )
    chips = state.chips()
    assert chips[0] == "search: [bold]red[/] circle"
    assert "without “triangle” ≥ 0.25" in chips
    assert "MP ≥ 1" in chips
    assert "portrait" in chips
    assert "size ≤ 5.0 MB" in chips
    assert "rating ≥ 7" in chips
    assert chips[-1] == "sort: random seed 42"
    assert SearchState().chips() == ["sort: path ↑"]
    assert SearchState(sort="size").chips() == ["sort: file size ↓"]


def test_plain_search_is_a_query_alone_best_first():
    assert SearchState(query="red").is_plain_search
    assert not SearchState().is_plain_search
    assert not SearchState(query="red", min_megapixels=1).is_plain_search
    assert not SearchState(query="red", concept="x").is_plain_search
    assert not SearchState(query="red", sort="size").is_plain_search
    assert not SearchState(query="red", descending=False).is_plain_search


def test_the_first_query_sorts_best_matches_first_a_later_one_keeps_the_sort():
    first = SearchState(sort="name", descending=False).submitted("beach")
    assert (first.query, first.sort, first.descending) == ("beach", "score", True)
    later = SearchState(query="beach", sort="size", descending=False).submitted("dunes")
    assert (later.query, later.sort, later.descending) == ("dunes", "size", False)
    assert SearchState(sort="name").submitted("") == SearchState(sort="name")


def test_within_a_chosen_folder_and_cleared_there():
    state = SearchState(query="cat", min_rating=5)
    inside = state.within("/photos", "trips")
    assert (inside.root, inside.folder, inside.query) == ("/photos", "trips", "cat")
    assert inside.within("/photos", "trips") is inside  # unchanged: the same state
    assert inside.cleared() == SearchState(root="/photos", folder="trips")
    assert inside.within(None, None).folder is None


def test_the_sort_key_cycles_past_relevance_without_a_query():
    keys = []
    state = SearchState(sort="path")
    for _ in range(12):
        state = state.next_sort()
        keys.append(state.sort)
    assert "score" not in keys and keys[0] == "rating"
    assert SearchState(query="cat", sort="path").next_sort().sort == "score"
