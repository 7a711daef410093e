"""Turns the evaluator's TrainReport (or the saved form of the last one) into what the Train
screen shows. UI-free, so the mapping is unit-tested without Textual and a change in the
report's shape is absorbed in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from anagnorisis_tui.core.evaluator.training import TrainReport

MODEL_NAMES = {
    "ridge": "ridge regression",
    "mlp": "MLP regressor",
    "softmax_mlp": "MLP, 11-way softmax",
    "baseline": "baseline (mean)",
}


def model_name(kind: str | None) -> str:
    return MODEL_NAMES.get(kind or "", kind or "?")


@dataclass(frozen=True)
class MetricsRow:
    name: str
    mae: float | None
    spearman: float | None
    pairwise: float | None
    scope: str = ""  # e.g. "held-out (30 images)"; rows of one scope are listed together
    chosen: bool = False
    baseline: bool = False


@dataclass(frozen=True)
class TrainView:
    rows: list[MetricsRow]
    note: str = ""
    curves: dict[str, list[float]] = field(default_factory=dict)
    curves_title: str = ""
    curve_x: list[float] = field(default_factory=list)  # epochs, or ridge alphas
    curve_label: str = "epoch"
    user_counts: list[int] = field(default_factory=list)  # the user's ratings per 0..10
    model_counts: list[int] = field(default_factory=list)  # the model's predictions per 0..10
    summary: str = ""
    beats_baseline: bool = False


@dataclass(frozen=True)
class QueueItem:
    hash: str
    path: str
    name: str
    predicted: float | None
    reason: str


def _as_dict(report: TrainReport | dict[str, Any]) -> dict[str, Any]:
    return report if isinstance(report, dict) else report.as_dict()


def _row(scope: str, name: str, metrics: dict[str, Any] | None, **flags: bool) -> MetricsRow:
    metrics = metrics or {}
    return MetricsRow(
        name,
        metrics.get("mae"),
        metrics.get("spearman"),
        metrics.get("pairwise"),
        scope=scope,
        **flags,
    )


def train_view(report: TrainReport | dict[str, Any]) -> TrainView:
    """A TrainReport, or the dict saved with the active evaluator (no per-candidate rows)."""
    r = _as_dict(report)
    chosen = r.get("chosen")
    rows: list[MetricsRow] = []
    holdout = r.get("holdout")
    if holdout:
        scope = f"held-out · {holdout.get('n', r.get('n_holdout', '?'))} images"
        rows.append(_row(scope, model_name(chosen), holdout, chosen=True))
        rows.append(_row(scope, model_name("baseline"), r.get("holdout_baseline"), baseline=True))
    candidates = r.get("candidates") or []
    if candidates:
        scope = f"{r.get('cv_folds', '?')}-fold CV · {r.get('cv_rows', '?')} images"
        for cand in candidates:
            rows.append(
                _row(scope, model_name(cand["kind"]), cand["cv"], chosen=cand["kind"] == chosen)
            )
        rows.append(_row(scope, model_name("baseline"), r.get("baseline_cv"), baseline=True))
    beats = bool(r.get("beats_baseline"))
    n = r.get("n_ratings", 0)
    note = f"trained on {n} rated images; {r.get('predicted', 0)} images predicted"
    if r.get("n_rated_without_vectors"):
        note += f"; {r['n_rated_without_vectors']} rated images have no vectors yet"
    if holdout and not beats:
        note += " — not better than the baseline yet: rate more images (n opens the queue)"
    return TrainView(
        rows=rows,
        note=note,
        curves={k: [float(v) for v in vals] for k, vals in (r.get("curve") or {}).items()},
        curves_title=f"{model_name(chosen)}: mean squared error",
        curve_x=[float(v) for v in r.get("curve_x") or []],
        curve_label=r.get("curve_label") or "epoch",
        user_counts=list(r.get("rating_histogram") or []),
        model_counts=list(r.get("prediction_histogram") or []),
        summary=f"model: {model_name(chosen)}" + (" (beats the baseline)" if beats else ""),
        beats_baseline=beats,
    )


def queue_items(items: Any) -> list[QueueItem]:
    """The rate-next queue, leaving out images whose file is gone."""
    out = []
    for item in items:
        if not item.path:
            continue
        out.append(
            QueueItem(
                hash=item.hash,
                path=item.path,
                name=os.path.basename(item.path),
                predicted=item.predicted,
                reason=item.reason,
            )
        )
    return out
