"""The Train screen's reading of a training report: rows, curves, histograms, the queue."""

from __future__ import annotations

from types import SimpleNamespace

from anagnorisis_tui.ui.state.train_view import queue_items, train_view


def _metrics(n, mae, rho, pairs):
    return {"n": n, "mae": mae, "spearman": rho, "pairwise": pairs}


REPORT = {
    "n_ratings": 120,
    "n_holdout": 24,
    "cv_folds": 5,
    "cv_rows": 96,
    "chosen": "ridge",
    "holdout": _metrics(24, 1.1, 0.71, 0.78),
    "holdout_baseline": _metrics(24, 2.3, 0.0, 0.5),
    "baseline_cv": _metrics(96, 2.2, 0.0, 0.5),
    "candidates": [
        {"kind": "ridge", "cv": _metrics(96, 1.2, 0.7, 0.77), "seconds": 0.1, "curve": {}},
        {"kind": "mlp", "cv": _metrics(96, 1.4, 0.6, 0.72), "seconds": 0.5, "curve": {}},
    ],
    "curve": {"train": [3.0, 2.0, 1.5], "validation": [3.2, 2.4, 2.1]},
    "curve_x": [0.001, 1.0, 1000.0],
    "curve_label": "ridge alpha (log scale)",
    "rating_histogram": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    "prediction_histogram": [0] * 5 + [100] * 6,
    "predicted": 1000,
    "beats_baseline": True,
}


def test_heldout_rows_come_first_with_the_baseline_beside_the_chosen_model():
    view = train_view(REPORT)
    first, second = view.rows[0], view.rows[1]
    assert first.scope == second.scope == "held-out · 24 images"
    assert (first.name, first.mae, first.chosen) == ("ridge regression", 1.1, True)
    assert second.baseline and second.mae == 2.3
    cv = [r for r in view.rows if r.scope.startswith("5-fold CV")]
    assert [r.name for r in cv] == ["ridge regression", "MLP regressor", "baseline (mean)"]
    assert [r.chosen for r in cv] == [True, False, False]
    assert view.curves == {"train": [3.0, 2.0, 1.5], "validation": [3.2, 2.4, 2.1]}
    assert view.curve_x == [0.001, 1.0, 1000.0] and view.curve_label.startswith("ridge alpha")
    assert view.user_counts[10] == 10 and sum(view.model_counts) == 600
    assert "beats the baseline" in view.summary


def test_saved_report_without_candidates_still_shows_heldout_and_says_when_baseline_wins():
    saved = {k: v for k, v in REPORT.items() if k != "candidates"}
    saved["beats_baseline"] = False
    view = train_view(saved)
    assert len(view.rows) == 2
    assert "not better than the baseline" in view.note


def test_queue_leaves_out_images_whose_file_is_gone():
    items = [
        SimpleNamespace(hash="a", path="/x/a.png", predicted=4.0, reason="uncertain"),
        SimpleNamespace(hash="b", path=None, predicted=None, reason="far from rated"),
    ]
    queue = queue_items(items)
    assert [(q.hash, q.name, q.predicted) for q in queue] == [("a", "a.png", 4.0)]
