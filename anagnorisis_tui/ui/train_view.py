"""Turns the evaluator's plain-data TrainReport into what the Train screen shows. UI-free.

Kept apart from the screen so the mapping (which rows, which curves, which numbers) is unit-tested
without Textual, and so a change in the report's shape is absorbed in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from anagnorisis_tui.ui.widgets.metrics_table import MetricsRow

MODEL_NAMES = {
    "ridge": "ridge regression",
    "mlp": "MLP regressor",
    "softmax_mlp": "MLP, 11-way softmax",
    "baseline": "baseline: constant mean",
}


@dataclass(frozen=True)
class TrainView:
    rows: list[MetricsRow]
    note: str = ""
    curves: dict[str, list[float]] = field(default_factory=dict)
    curves_title: str = ""
    user: list[float] = field(default_factory=list)  # the user's ratings
    model: list[float] = field(default_factory=list)  # the model's predictions
    summary: str = ""


@dataclass(frozen=True)
class QueueItem:
    hash: str
    path: str
    name: str
    predicted: float | None
    reason: str


def _row(name: str, metrics: Any, *, chosen: bool = False, baseline: bool = False) -> MetricsRow:
    return MetricsRow(
        MODEL_NAMES.get(name, name),
        getattr(metrics, "mae", None),
        getattr(metrics, "spearman", None),
        getattr(metrics, "pairwise", None),
        chosen=chosen,
        baseline=baseline,
    )


def train_view(library: Any, report: Any) -> TrainView:
    """Called in a worker thread: may read the catalogue through the facade."""
    rows = [
        _row(name, metrics, chosen=name == report.chosen)
        for name, metrics in report.candidates.items()
    ]
    rows.append(_row("baseline", report.baseline, baseline=True))
    n = getattr(report.baseline, "n", None)
    note = f"{report.folds}-fold cross-validation on {n} ratings" if n else ""
    user, model = library.rating_distributions()
    return TrainView(
        rows=rows,
        note=note,
        curves={k: list(v) for k, v in report.curve.items()},
        curves_title=f"{MODEL_NAMES.get(report.chosen, report.chosen)}: MSE per epoch",
        user=list(user),
        model=list(model),
        summary=f"model: {MODEL_NAMES.get(report.chosen, report.chosen)}",
    )


def queue_items(library: Any, top_k: int = 50) -> list[QueueItem]:
    items = []
    for item in library.rate_next(top_k=top_k):
        items.append(
            QueueItem(
                hash=item.hash,
                path=item.path,
                name=os.path.basename(item.path),
                predicted=getattr(item, "predicted", None),
                reason=getattr(item, "reason", ""),
            )
        )
    return items
