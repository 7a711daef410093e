"""How ratings read wherever they are shown: the CLI, the grid captions, the viewer.

The user's own rating reads as given (`7`, or `7.5` when imported so). The model's prediction
always reads with one decimal after a tilde (`~4.5`: "about 4.5, the model's guess"), so it
never passes for the user's own and never shows more digits than it is worth.
"""

from __future__ import annotations

MODEL_MARK = "~"


def user_rating(value: float) -> str:
    return f"{value:g}"


def prediction(value: float) -> str:
    return f"{MODEL_MARK}{value:.1f}"


def effective(rating: float | None, predicted: float | None, *, none: str = "-") -> str:
    """The user's rating when there is one, else the model's prediction, else `none`."""
    if rating is not None:
        return user_rating(rating)
    if predicted is not None:
        return prediction(predicted)
    return none
