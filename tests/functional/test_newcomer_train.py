"""The Train screen as a newcomer meets it (issue 22, section 3): before any training, and the
rate-next queue walked in the viewer."""

from __future__ import annotations

from anagnorisis_tui.ui.screens.train import TrainScreen
from anagnorisis_tui.ui.screens.viewer import ViewerScreen

SIZE = (120, 40)


async def _train_screen(app, pilot, settle) -> TrainScreen:
    await settle(pilot)
    await pilot.press("f4")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, TrainScreen)
    return screen


async def test_escape_from_the_rate_next_queue_goes_back_to_train(rated, make_test_app, settle):
    library, _ = rated
    app = make_test_app(library)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _train_screen(app, pilot, settle)
        assert screen._entries  # the queue needs no training
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ViewerScreen)
        await pilot.press("5", "escape")
        await settle(pilot)
        assert app.current_mode == "train" and app.screen is screen
        # The library's grid still hands its viewer back to the library.
        await pilot.press("f1")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.current_mode == "library"


async def test_before_the_first_training_the_ratings_given_are_shown(rated, make_test_app, settle):
    library, taste = rated
    app = make_test_app(library)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _train_screen(app, pilot, settle)
        assert library.evaluator.info() is None  # never trained
        await pilot.pause()
        status = str(screen.query_one("#train-status").render())
        assert f"{len(taste)} images rated: press t to train" in status
        plot = _plain(screen.query_one("#histogram"))
        assert f"yours ({len(taste)})" in plot and "none yet" not in plot


def _plain(widget) -> str:
    """What a plotext widget draws, as text."""
    return "\n".join(line.text for line in widget.render_lines(widget.region.reset_offset))


async def test_the_rate_next_queue_keeps_a_rating_given_in_the_viewer(rated, make_test_app, settle):
    """The queue is the Train screen's: it follows the rating signal (the viewer only walks it)."""
    library, _ = rated
    app = make_test_app(library)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _train_screen(app, pilot, settle)
        await pilot.press("n")
        await settle(pilot)
        viewer = app.screen
        assert isinstance(viewer, ViewerScreen)
        first = viewer.entry
        assert first.rating is None
        await pilot.press("4")  # rates, then moves on
        await settle(pilot)
        assert viewer.index == 1
        await pilot.press("left")
        await settle(pilot)
        assert viewer.entry.hash == first.hash and viewer.entry.rating == 4.0
        walking = viewer.source
        assert walking.entries[0].hash == first.hash and walking.entries[0].rating == 4.0
        assert screen is app.base_screen("train")
