"""One grammar for sizes and proportions (core/base/units.py), read and shown the same way by
the filters, the command line and the Search screen."""

from __future__ import annotations

import pytest

from anagnorisis_tui.core.base import units
from anagnorisis_tui.core.base.units import (
    UnitError,
    format_size,
    parse_ratio,
    parse_size,
    size_text,
)
from anagnorisis_tui.core.errors import UserError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234", 1234),
        ("500k", 500_000),
        ("2MB", 2_000_000),
        ("1.5 GiB", round(1.5 * 1024**3)),
        (" 2 mib ", 2 * 1024**2),
        ("+3kB", 3000),
        (".5k", 500),
        ("1.0005k", 1000),  # the nearest byte, not truncated
        ("1.0006k", 1001),
    ],
)
def test_sizes_read(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-3MB", "a file size cannot be negative: '-3MB'"),
        ("lots", "not a file size: 'lots' (try 500k, 2MB or 1.5GiB)"),
        ("5 parsecs", "not a file size"),
        ("1e9", "not a file size"),
        ("", "not a file size"),
    ],
)
def test_sizes_refused_with_one_error(text, message):
    with pytest.raises(UnitError) as caught:
        parse_size(text)
    assert str(caught.value).startswith(message)
    assert isinstance(caught.value, UserError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (None, ""),
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (1234, "1.2 kB"),
        (999_949, "999.9 kB"),
        (999_960, "1.0 MB"),  # rounds up into the next unit, never "1000.0 kB"
        (1_234_567, "1.2 MB"),
        (45_000_000, "45.0 MB"),
        (2_500_000_000, "2.5 GB"),
        (3 * 1000**4, "3.0 TB"),
        (1_234_000 * 1000**4, "1,234,000.0 TB"),
    ],
)
def test_sizes_shown(size, shown):
    assert format_size(size) == shown


def test_the_exact_form_reads_back_to_the_same_bytes():
    for size in (1, 999, 1000, 1500, 1_234_567, 5_000_000, 2_500_000_000, 7 * 1024**3):
        assert parse_size(size_text(size)) == size
    assert size_text(5_000_000) == "5MB" and size_text(None) == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [("16:9", 16 / 9), ("16/9", 16 / 9), ("16x9", 16 / 9), ("1.5", 1.5), (" 3 : 4 ", 0.75)],
)
def test_proportions_read(text, expected):
    assert parse_ratio(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("16:0", "not a proportion: '16:0' (try 16:9, 3/4 or 1.5)"),
        ("wide", "not a proportion"),
        ("0", "a proportion must be above 0"),
        ("-4:3", "a proportion must be above 0"),
    ],
)
def test_proportions_refused_with_one_error(text, message):
    with pytest.raises(UnitError) as caught:
        parse_ratio(text)
    assert str(caught.value).startswith(message)


def test_every_caller_uses_this_grammar():
    from anagnorisis_tui.core.views import filters
    from anagnorisis_tui.ui.state import search_state, text

    assert filters.parse_bytes is units.parse_size
    assert filters.format_bytes is units.format_size
    assert filters.parse_ratio is units.parse_ratio
    assert search_state.format_size is units.format_size
    assert search_state.size_text is units.size_text
    assert text.human_size(1_234_567) == units.format_size(1_234_567)
    assert search_state.parse_size("1.0006k") == parse_size("1.0006k")
    assert search_state.parse_proportion("16x9") == parse_ratio("16x9")
