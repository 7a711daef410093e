"""Train screen: train -> honest metrics shown -> predictions in the viewer and the rating sort;
rate-next -> rate in the viewer -> retrain."""

from __future__ import annotations

import re

import pytest

from anagnorisis_tui.ui.screens.search import SearchScreen
from anagnorisis_tui.ui.screens.train import TrainScreen
from anagnorisis_tui.ui.screens.viewer import ViewerScreen
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid
from anagnorisis_tui.ui.widgets.metrics_table import MetricsTable
from tests.support import childhooks
from tests.support.app_fixtures import RATED
from tests.support.waiting import until

pytestmark = pytest.mark.slow


async def _train(app, pilot, settle) -> TrainScreen:
    await settle(pilot)
    await pilot.press("f4")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, TrainScreen)
    await pilot.press("t")
    await settle(pilot, rounds=30)
    return screen


async def test_train_shows_metrics_then_predictions_in_viewer_and_rating_sort(
    rated, make_test_app, settle
):
    library, taste = rated
    n = library.semantic.vector_counts()[1]
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _train(app, pilot, settle)
        table = screen.query_one(MetricsTable).plain()
        assert "held-out" in table and "baseline (mean)" in table
        assert "5-fold CV" in table and "✓" in table
        assert screen.query_one("#rate-next").row_count > 0
        info = library.evaluator.info()
        assert info is not None and info["metrics"]["n_ratings"] == RATED

        # The rating sort: rated images first (the user's rating), then predictions.
        await pilot.press("f2")
        await settle(pilot)
        search = app.screen
        assert isinstance(search, SearchScreen)
        search.query_one("#sort").value = "rating"
        await settle(pilot)
        grid = search.query_one("#results", ThumbnailGrid)
        assert grid.count == n
        everything = list(grid.source.page(0, n))
        unrated = [e for e in everything if e.rating is None]
        assert len(unrated) == n - RATED
        assert all(e.predicted is not None for e in unrated)  # every unrated image predicted
        effective = [e.effective_rating for e in everything]
        assert effective == sorted(effective, reverse=True)
        # Predictions learned the taste: unrated red shapes are predicted above the rest.
        ranked = sorted(unrated, key=lambda e: -e.predicted)
        reds = sum("-red-" in e.name for e in unrated)
        assert sum("-red-" in e.name for e in ranked[:reds]) >= 0.8 * reds
        # Captions mark predictions as the model's (~ and ☆), ratings as the user's (★).
        shown = {c.entry.hash: c.caption_text for c in grid.cells if c.entry}
        for entry in everything:
            if entry.hash in shown:
                mark = "☆" if entry.rating is None else "★"
                assert mark in shown[entry.hash], shown[entry.hash]
        assert any("☆" in text and text.startswith("~") for text in shown.values())

        # The viewer marks the prediction as the model's.
        grid.go_to(next(i for i, e in enumerate(everything) if e.rating is None))
        grid.focus()
        await pilot.press("enter")
        await settle(pilot)
        viewer = app.screen
        assert isinstance(viewer, ViewerScreen)
        assert viewer.entry.rating is None
        shown = str(viewer.query_one("#prediction").render())
        assert re.match(r"Model ~\d{1,2}\.\d / 10", shown), shown  # as the CLI and grid


async def test_rate_next_opens_the_viewer_rates_and_retrains(rated, make_test_app, settle):
    library, _ = rated
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _train(app, pilot, settle)
        queue = list(screen._entries)
        assert queue and all(e.rating is None for e in queue)
        await pilot.press("n")
        await settle(pilot)
        viewer = app.screen
        assert isinstance(viewer, ViewerScreen)
        assert viewer.entry.hash == queue[0].hash
        await pilot.press("9")
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert library.ratings.get(queue[0].hash) == 9.0
        assert library.ratings.get(queue[1].hash) == 2.0
        assert viewer.entry.hash == queue[2].hash  # each number key rates and advances
        await pilot.press("f4")
        await settle(pilot)
        assert app.screen is screen
        assert queue[0].hash not in {e.hash for e in screen._entries}  # the queue moved on
        await pilot.press("t")
        await settle(pilot, rounds=30)
        assert library.evaluator.info()["metrics"]["n_ratings"] == RATED + 2


async def test_the_queue_refreshes_while_rating_and_keeps_the_users_place(
    rated, make_test_app, settle
):
    library, _ = rated
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _train(app, pilot, settle)
        before = [e.hash for e in screen._entries]
        await pilot.press("n")
        await settle(pilot)
        viewer = app.screen
        assert isinstance(viewer, ViewerScreen)
        why = str(viewer.query_one("#position").render())
        assert "rate next: " + screen._queue[0].reason in why  # says why it was chosen
        for value in "86241":  # REFRESH_EVERY ratings: the queue refreshes in the background
            await pilot.press(value)
            await settle(pilot)
        source = viewer.source
        await until(pilot, lambda: [e.hash for e in source.entries[6:]] != before[6:])
        now = [e.hash for e in source.entries]
        assert now[:6] == before[:6]  # what was seen, and where the user is, stayed put
        assert viewer.index == 5 and viewer.entry.hash == before[5]
        assert now[6:] != before[6:]  # what is ahead was replaced by the fresher queue
        rated_now = {h for h in now if library.ratings.get(h) is not None}
        assert rated_now == set(before[:5])  # nothing rated is asked for again
        await pilot.press("right")
        await settle(pilot)
        assert viewer.entry.hash == now[6]
        assert source.reason(now[6]) in str(viewer.query_one("#position").render())


async def test_train_from_the_command_palette_on_any_screen(rated, make_test_app, settle):
    library, _ = rated
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.current_mode == "library"
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Train image evaluator", "Rate next", "Find duplicates"} <= titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Train image evaluator", "enter")
        await settle(pilot, rounds=30)
        assert isinstance(app.screen, TrainScreen)
        assert library.evaluator.info()["metrics"]["n_ratings"] == RATED


async def test_escape_cancels_training_and_the_previous_model_stays(
    rated, make_test_app, settle, tmp_path, monkeypatch
):
    library, _ = rated
    # The real training, in its child process, held at each step until the user cancels.
    childhooks.install(tmp_path, monkeypatch, childhooks.HELD_TRAINING)
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        screen = app.screen
        await pilot.press("t")
        label = screen.query_one("#train-progress-label")
        # Until the child reported its first step.
        await until(pilot, lambda: "starting" not in str(label.render()))
        assert screen.query_one("#train-progress-row").display
        assert screen.query_one("#cancel-button").disabled is False
        await pilot.press("escape")
        await settle(pilot)
        assert not screen.query_one("#train-progress-row").display
        assert "cancelled" in str(screen.query_one("#train-status").render())
        assert library.evaluator.info() is None  # nothing half-trained became active


async def test_too_few_ratings_is_explained_not_a_crash(rated, make_test_app, settle):
    library, taste = rated
    for content_hash in list(taste)[10:]:  # 10 left
        library.ratings.clear(content_hash)
    app = make_test_app(library)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _train(app, pilot, settle)
        status = str(screen.query_one("#train-status").render())
        assert "at least 15" in status and "Rate 5 more" in status
        assert screen.query_one("#train-button").disabled is False
