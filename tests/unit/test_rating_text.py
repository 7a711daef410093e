"""Ratings read the same everywhere: the user's as given, the model's as ~N.N."""

from __future__ import annotations

from anagnorisis_tui.core.base import rating_text


def test_predictions_have_one_decimal_and_the_models_mark():
    assert rating_text.prediction(4.51688) == "~4.5"
    assert rating_text.prediction(10.0) == "~10.0"
    assert rating_text.prediction(0.04) == "~0.0"


def test_the_users_own_rating_reads_as_given_and_wins():
    assert rating_text.user_rating(7.0) == "7"
    assert rating_text.user_rating(6.5) == "6.5"
    assert rating_text.effective(7.0, 3.21) == "7"
    assert rating_text.effective(None, 3.21) == "~3.2"
    assert rating_text.effective(None, None) == "-"
    assert rating_text.effective(None, None, none="–") == "–"
