"""Snapshots of the Search/Filter, groups, Train and confirm screens (unicode images, no clocks).

Update after an intended change with `pytest tests/functional/test_ui2_snapshots.py
--snapshot-update`, then look at the SVGs before committing them.
"""

from __future__ import annotations

import pytest
from textual.app import App
from uidata import make_images

from anagnorisis_tui.core.library import Library
from anagnorisis_tui.ui.screens.confirm import ConfirmScreen

SIZE = (110, 34)


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
    library.set_root(root)
    library.scan(root)
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
        await settle(pilot)

    assert snap_compare(make_test_app(shaped), terminal_size=SIZE, run_before=run_before)


def test_groups_screen(dupes, make_test_app, settle, snap_compare):
    library, _ = dupes

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("escape", "D")
        await settle(pilot)

    assert snap_compare(make_test_app(library), terminal_size=SIZE, run_before=run_before)


def test_train_screen_after_training(rated, make_test_app, settle, snap_compare):
    library, _ = rated

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot, rounds=30)

    assert snap_compare(make_test_app(library), terminal_size=(130, 40), run_before=run_before)


class _ConfirmApp(App):
    def on_mount(self) -> None:
        body = "Keep: trip/big.jpg\nMove 2 to the system trash (undo with u):\n  trip/small.jpg\n  trip/[b]copy[i].jpg"
        self.push_screen(ConfirmScreen("Send 2 files to the trash?", body, confirm_label="Trash"))


def test_confirm_dialog(snap_compare):
    assert snap_compare(_ConfirmApp(), terminal_size=(80, 20))
