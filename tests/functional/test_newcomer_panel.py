"""The filter panel as a newcomer read it (issue 22, section 3): an error shows below the control
it is about, and no label runs into its control's placeholder."""

from __future__ import annotations

from textual.widgets import Input, Label

from anagnorisis_tui.ui.widgets.filter_panel import FilterPanel
from tests.functional.test_filter_panel import PanelApp


def _row_above_error(panel: FilterPanel):
    children = list(panel.children)
    error = panel.query_one("#filter-error")
    return children[children.index(error) - 1]


async def test_a_filter_error_shows_beside_its_control():
    app = PanelApp()
    async with app.run_test(size=(60, 50)) as pilot:
        panel = app.query_one(FilterPanel)
        for control, typed, says in (
            ("min_score", "abc", "min score"),
            ("max_size", "5 parsecs", "max size"),
            ("taken_to", "1999-13", "date taken"),
        ):
            box = app.query_one(f"#{control}", Input)
            box.focus()
            box.value = ""
            await pilot.press(*typed, "enter")
            await pilot.pause()
            assert says in str(panel.query_one("#filter-error").render())
            assert box in _row_above_error(panel).children, control
            box.value = ""
            await pilot.press("enter")
            await pilot.pause()


async def test_labels_fit_their_column():
    app = PanelApp()
    async with app.run_test(size=(60, 50)):
        for label in app.query(FilterPanel).first().query(Label):
            text = str(label.render())
            assert len(text) < label.size.width or not text, text  # a space before the box
