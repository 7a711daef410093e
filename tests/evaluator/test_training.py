"""Training the personal evaluator on tiny-CLIP vectors of generated shapes images: honest
metrics, determinism, clear refusals, stale predictions."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from safetensors import safe_open

from anagnorisis_tui.core.evaluator import metrics as eval_metrics
from anagnorisis_tui.core.evaluator import store as eval_store
from anagnorisis_tui.core.evaluator.training import MIN_RATINGS, TrainingError
from anagnorisis_tui.core.semantic import vectors
from tests.support.preference import rate_first


def test_training_beats_the_mean_baseline_on_a_simulated_preference(shapes_pref):
    n = 160
    rate_first(shapes_pref, n)
    lib = shapes_pref.library
    report = lib.evaluator.train(seed=0)
    assert report.n_ratings == n and report.n_holdout == 32 and report.n_train == 128
    assert {c.kind for c in report.candidates} == {"ridge", "mlp", "softmax_mlp"}
    assert report.chosen in {"ridge", "mlp", "softmax_mlp"}
    assert report.holdout.mae < report.holdout_baseline.mae
    assert report.holdout.spearman > 0.2 and report.holdout.pairwise > 0.55
    assert report.holdout_baseline.pairwise == 0.5 and report.holdout_baseline.spearman == 0
    assert report.beats_baseline
    # Every image with vectors got a prediction; the unrated half follows the user's taste.
    assert report.predicted == len(shapes_pref.hashes)
    unrated = np.array([lib.evaluator.prediction(h).value for h in shapes_pref.hashes[n:]])
    taste = shapes_pref.taste[n:]
    assert eval_metrics.spearman(taste, unrated) > 0.35
    mean = np.full(len(taste), shapes_pref.taste[:n].mean())
    assert eval_metrics.mae(taste, unrated) < eval_metrics.mae(taste, mean)
    assert sum(report.rating_histogram) == n
    assert sum(report.prediction_histogram) == len(shapes_pref.hashes)
    # Curves for the Train screen: "train"/"validation" error at each x (epochs or alphas).
    for curve, xs, label in [
        (report.curve, report.curve_x, report.curve_label),
        *((c.curve, c.curve_x, c.curve_label) for c in report.candidates),
    ]:
        assert set(curve) == {"train", "validation"}
        assert label in {"epoch", "ridge alpha (log scale)"}
        assert all(len(v) == len(xs) > 1 for v in curve.values())


def test_training_is_deterministic_for_a_seed(shapes_pref):
    rate_first(shapes_pref, 60)
    lib = shapes_pref.library
    first = lib.evaluator.train(seed=3)
    preds_first = [lib.evaluator.prediction(h).value for h in shapes_pref.hashes]
    second = lib.evaluator.train(seed=3)
    preds_second = [lib.evaluator.prediction(h).value for h in shapes_pref.hashes]
    assert first.evaluator_id != second.evaluator_id
    assert [c.cv for c in first.candidates] == [c.cv for c in second.candidates]
    assert first.holdout == second.holdout and first.chosen == second.chosen
    assert preds_first == preds_second


def test_too_few_ratings_get_a_clear_message_and_change_nothing(shapes_pref):
    rate_first(shapes_pref, MIN_RATINGS - 1)
    before = shapes_pref.library.db.execute("SELECT * FROM ratings ORDER BY hash").fetchall()
    with pytest.raises(TrainingError, match=f"at least {MIN_RATINGS} rated images.*Rate 1 more"):
        shapes_pref.library.evaluator.train()
    after = shapes_pref.library.db.execute("SELECT * FROM ratings ORDER BY hash").fetchall()
    assert before == after
    assert shapes_pref.library.evaluator.info() is None


def test_identical_ratings_get_a_clear_message(shapes_pref):
    for content in shapes_pref.hashes[:20]:
        shapes_pref.library.ratings.set(content, 7)
    with pytest.raises(TrainingError, match="all 20 ratings are 7"):
        shapes_pref.library.evaluator.train()


def test_rated_images_without_vectors_are_counted_in_the_message(shapes_pref):
    rate_first(shapes_pref, 10)
    for i in range(3):
        shapes_pref.library.ratings.set(f"{i:032x}", 5)
    with pytest.raises(TrainingError, match="3 more rated images have no vectors"):
        shapes_pref.library.evaluator.train()


def test_saved_model_is_safetensors_with_id_version_and_embedding_model(shapes_pref):
    rate_first(shapes_pref, 40)
    lib = shapes_pref.library
    report = lib.evaluator.train()
    info = lib.evaluator.info()
    assert info["id"] == report.evaluator_id and info["kind"] == report.chosen
    with safe_open(info["path"], framework="np") as handle:
        meta = handle.metadata()
    assert meta["id"] == report.evaluator_id
    assert meta["format_version"] == str(eval_store.FORMAT_VERSION)
    assert meta["embed_model_id"] == lib.evaluator.model_id()
    loaded = eval_store.load_file(info["path"], embed_model_id=lib.evaluator.model_id())
    assert loaded.kind == report.chosen


def test_a_model_from_another_embedding_model_gets_a_clear_message(shapes_pref, monkeypatch):
    rate_first(shapes_pref, 40)
    lib = shapes_pref.library
    path = lib.evaluator.info()["path"] if lib.evaluator.info() else None
    assert path is None
    lib.evaluator.train()
    path = lib.evaluator.info()["path"]
    with pytest.raises(eval_store.EvaluatorMismatch, match="tiny-clip.*other-model"):
        eval_store.load_file(path, embed_model_id="other-model")
    vectors.register_model(lib.db, "other-model", 8, dtype="float32")
    monkeypatch.setattr(type(lib.evaluator), "model_id", lambda self: "other-model")
    with pytest.raises(eval_store.EvaluatorMismatch, match="train again"):
        lib.evaluator.refresh_predictions()
    # Old predictions are still shown, flagged stale.
    assert lib.evaluator.prediction(shapes_pref.hashes[100]).stale


def test_predictions_of_an_older_model_are_stale_until_refreshed(shapes_pref, monkeypatch):
    rate_first(shapes_pref, 40)
    lib = shapes_pref.library
    old = lib.evaluator.train(seed=0)
    assert not lib.evaluator.prediction(shapes_pref.hashes[0]).stale
    rate_first(shapes_pref, 80)
    monkeypatch.setattr(eval_store, "PREDICT_CHUNK", 100)  # 320 images: 4 chunks
    cancel = threading.Event()

    def stop_after_first_chunk(p):
        if p.stage == "predict":
            cancel.set()

    new = lib.evaluator.train(seed=0, progress=stop_after_first_chunk, cancel=cancel)
    assert new.cancelled and new.evaluator_id and new.evaluator_id != old.evaluator_id
    assert new.predicted == 100
    preds = [lib.evaluator.prediction(h) for h in shapes_pref.hashes]
    fresh = [p for p in preds if p.evaluator_id == new.evaluator_id]
    stale = [p for p in preds if p.evaluator_id == old.evaluator_id]
    assert len(fresh) == 100 and len(stale) == len(preds) - 100
    assert all(p.stale for p in stale) and not any(p.stale for p in fresh)
    assert lib.evaluator.refresh_predictions() == len(preds) - 100
    assert not any(lib.evaluator.prediction(h).stale for h in shapes_pref.hashes)
    # One prediction per image is kept: the older model's rows were replaced.
    count = lib.db.execute("SELECT count(*) FROM predictions").fetchone()[0]
    assert count == len(shapes_pref.hashes)


def test_new_vectors_get_predictions_on_refresh(shapes_pref):
    rate_first(shapes_pref, 40)
    lib = shapes_pref.library
    lib.evaluator.train()
    rng = np.random.default_rng(1)
    vectors.put_vectors(lib.db, lib.evaluator.model_id(), ["f" * 32], rng.normal(size=(1, 64)))
    assert lib.evaluator.prediction("f" * 32) is None
    assert lib.evaluator.refresh_predictions() == 1
    assert 0 <= lib.evaluator.prediction("f" * 32).value <= 10


def test_cancel_before_saving_keeps_the_previous_evaluator(shapes_pref):
    rate_first(shapes_pref, 40)
    lib = shapes_pref.library
    first = lib.evaluator.train()
    cancel = threading.Event()
    seen = []

    def progress(p):
        seen.append(p)
        if p.stage == "train" and p.done >= 2:
            cancel.set()

    report = lib.evaluator.train(progress=progress, cancel=cancel)
    assert report.cancelled and report.evaluator_id is None
    assert lib.evaluator.info()["id"] == first.evaluator_id
    assert seen[0].total and all(p.stage == "train" for p in seen)


def test_stored_posterior_matches_the_exact_linear_uncertainty():
    from anagnorisis_tui.core.evaluator.training import posterior_arrays

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 200)) * np.linspace(2, 0.1, 200)
    arrays = posterior_arrays(x, np.zeros(300), alpha=1.0, noise=2.0)
    probe = rng.normal(size=(50, 200)) * np.linspace(2, 0.1, 200)
    xc = x - x.mean(axis=0)
    exact_cov = np.linalg.inv(xc.T @ xc + np.eye(200))
    pc = probe - x.mean(axis=0)
    exact = 2.0 * np.einsum("ij,jk,ik->i", pc, exact_cov, pc)
    approx = eval_store.posterior_variance(arrays, probe)
    np.testing.assert_allclose(approx, exact, rtol=0.1)


def test_quiet_refresh_after_embedding_never_raises(shapes_pref, monkeypatch):
    lib = shapes_pref.library
    assert lib.evaluator.refresh_predictions_quietly() == 0  # no evaluator yet
    rate_first(shapes_pref, 20)
    lib.evaluator.train()
    vectors.put_vectors(lib.db, lib.evaluator.model_id(), ["e" * 32], np.ones((1, 64)))
    assert lib.evaluator.refresh_predictions_quietly() == 1
    monkeypatch.setattr(type(lib.evaluator), "model_id", lambda self: "other-model")
    assert (
        lib.evaluator.refresh_predictions_quietly() == 0
    )  # another model's evaluator: nothing to do


def test_embedding_new_images_gives_them_fresh_predictions(shapes_pref, tmp_path):
    from anagnorisis_tui.core.demo.shapes import write_library

    lib = shapes_pref.library
    rate_first(shapes_pref, 40)
    report = lib.evaluator.train()
    new = write_library(tmp_path / "more", 3, size=96, seed=99)
    lib.catalogue.scan(tmp_path / "more")
    assert lib.semantic.embed().embedded == 3
    for path in new:
        pred = lib.evaluator.prediction(lib.ratings.image_hash(path))
        assert pred is not None and not pred.stale and pred.evaluator_id == report.evaluator_id
