"""Snapshots of the Search/Filter, groups, Train and confirm screens (unicode images, no clocks).

Update after an intended change with `pytest tests/functional/test_ui2_snapshots.py
--snapshot-update`, then look at the SVGs before committing them.
"""

from __future__ import annotations

import pytest
from textual.app import App

from anagnorisis_tui.core.library import Library
from anagnorisis_tui.ui.screens.confirm import ConfirmScreen
from tests.support.app_library import make_images
from tests.support.waiting import until

SIZE = (110, 34)


async def _thumbnails_shown(pilot, settle) -> None:
    """Wait until every visible cell shows its picture (they arrive from a worker)."""
    from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid

    def shown() -> bool:
        cells = [c for g in pilot.app.screen.query(ThumbnailGrid) for c in g.cells if c.entry]
        return all(c.shown_image is not None for c in cells)

    # Not a fixed number of rounds: on a loaded machine they ran out and the snapshot failed.
    await settle(pilot)
    assert await until(pilot, shown, deadline=300, interval=0.05), (
        "the visible cells never showed their pictures"
    )
    await settle(pilot)
    await pilot.pause()


@pytest.fixture
def shaped(settings, tmp_path) -> Library:
    """Deterministic real JPEGs of different shapes and sizes, scanned."""
    root = tmp_path / "photos"
    for names, size in (
        (["beach.jpg", "dunes.jpg"], (300, 100)),
        (["tower.jpg"], (90, 240)),
        (["tile.jpg", "[b]odd[i].jpg"], (160, 160)),
        (["street.jpg", "harbour.jpg"], (320, 200)),
    ):
        make_images(root, names, size=size)
    library = Library(settings)
    library.catalogue.set_root(root)
    library.catalogue.scan(root)
    yield library
    library.close()


def test_search_screen_with_filters(shaped, make_test_app, settle, snap_compare):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        screen = pilot.app.screen
        screen.query_one("#min_mp").value = "0.02"
        screen.query_one("#shape").value = "landscape"
        screen.query_one("#sort").value = "resolution"
        await settle(pilot)
        await pilot.press("escape")
        await _thumbnails_shown(pilot, settle)

    assert snap_compare(make_test_app(shaped), terminal_size=SIZE, run_before=run_before)


def test_groups_screen(dupes, make_test_app, settle, snap_compare):
    library, _ = dupes

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("escape", "D")
        await settle(pilot)
        assert await until(
            pilot, lambda: bool(pilot.app.screen.groups), deadline=300, interval=0.05
        ), "the groups screen never listed its groups"
        await _thumbnails_shown(pilot, settle)

    assert snap_compare(make_test_app(library), terminal_size=SIZE, run_before=run_before)


# A fixed report, so the snapshot checks the layout and not the evaluator's numerics (the
# real training flow, on tiny-CLIP vectors, is covered by test_train_flow.py).
REPORT = {
    "n_ratings": 60,
    "n_holdout": 12,
    "cv_folds": 5,
    "cv_rows": 48,
    "chosen": "ridge",
    "holdout": {"n": 12, "mae": 0.83, "spearman": 0.686, "pairwise": 0.822},
    "holdout_baseline": {"n": 12, "mae": 2.47, "spearman": 0.0, "pairwise": 0.5},
    "baseline_cv": {"n": 48, "mae": 2.4, "spearman": 0.0, "pairwise": 0.5},
    "candidates": [
        {"kind": "ridge", "cv": {"n": 48, "mae": 1.48, "spearman": 0.61, "pairwise": 0.72}},
        {"kind": "mlp", "cv": {"n": 48, "mae": 1.54, "spearman": 0.58, "pairwise": 0.70}},
        {"kind": "softmax_mlp", "cv": {"n": 48, "mae": 1.49, "spearman": 0.6, "pairwise": 0.71}},
    ],
    "curve": {
        "train": [0.2, 0.25, 0.4, 0.7, 1.2, 1.9, 2.6, 3.1, 3.4, 3.5, 3.5, 3.5, 3.5],
        "validation": [2.9, 2.6, 2.2, 1.9, 1.8, 2.0, 2.5, 3.0, 3.3, 3.4, 3.5, 3.5, 3.5],
    },
    "curve_x": [10 ** (e / 2) for e in range(-6, 7)],
    "curve_label": "ridge alpha (log scale)",
    "rating_histogram": [1, 2, 6, 14, 9, 5, 4, 6, 8, 3, 2],
    "prediction_histogram": [0, 3, 20, 90, 80, 40, 30, 30, 20, 7, 0],
    "predicted": 320,
    "beats_baseline": True,
}


def test_train_screen_with_a_report(shaped, make_test_app, settle, snap_compare):
    from anagnorisis_tui.ui.screens.train import TrainScreen
    from anagnorisis_tui.ui.state.train_view import train_view

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        screen = pilot.app.screen
        screen.post_message(TrainScreen.Trained(train_view(REPORT)))
        await settle(pilot)

    assert snap_compare(make_test_app(shaped), terminal_size=(130, 40), run_before=run_before)


class _ConfirmApp(App):
    def on_mount(self) -> None:
        body = "Keep: trip/big.jpg\nMove 2 to the system trash (undo with u):\n  trip/small.jpg\n  trip/[b]copy[i].jpg"
        self.push_screen(ConfirmScreen("Send 2 files to the trash?", body, confirm_label="Trash"))


def test_confirm_dialog(snap_compare):
    assert snap_compare(_ConfirmApp(), terminal_size=(80, 20))
