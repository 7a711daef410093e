"""The search query language: terms, weights, negatives, image paths, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from anagnorisis_tui.core.semantic.search import QueryError, Term, combine, parse


def test_phrases_weights_and_negatives():
    assert parse("beach sunset -people 2:golden") == [
        Term("text", "beach sunset", 1.0),
        Term("text", "people", -1.0),
        Term("text", "golden", 2.0),
    ]
    assert parse('dog +cat -2:"people walking" 0.5:sky') == [
        Term("text", "dog", 1.0),
        Term("text", "cat", 1.0),
        Term("text", "people walking", -2.0),
        Term("text", "sky", 0.5),
    ]


def test_image_paths_are_terms(tmp_path):
    img = tmp_path / "a photo.jpg"
    img.write_bytes(b"x")
    terms = parse(f'"{img}" -red', cwd=tmp_path)
    assert terms == [Term("image", str(img), 1.0), Term("text", "red", -1.0)]
    assert parse("./a\\ photo.jpg", cwd=tmp_path)[0] == Term("image", str(img), 1.0)
    # Words with a slash that are not paths stay text.
    assert parse("AC/DC poster")[0].kind == "text"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "empty query"),
        ("   ", "empty query"),
        ("- 2:", "empty query"),
        ("-people -cars", "only negative terms"),
        ("./missing.jpg", "does not exist"),
        ("beach 0:sun", "above 0"),
    ],
)
def test_bad_queries_get_clear_messages(query, message, tmp_path):
    with pytest.raises(QueryError, match=message):
        parse(query, cwd=tmp_path)


def test_unbalanced_quote_still_searches():
    assert parse('red "circle') == [Term("text", "red circle", 1.0)]


def test_combine_weights_and_cancellation():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    np.testing.assert_allclose(combine([(1, a), (-1, b)]), [0.7071, -0.7071], atol=1e-4)
    np.testing.assert_allclose(combine([(3, a * 5), (1, b)]), [0.9487, 0.3162], atol=1e-4)
    with pytest.raises(QueryError, match="cancel"):
        combine([(1, a), (-1, a)])
