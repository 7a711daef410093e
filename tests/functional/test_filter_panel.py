"""The filter controls: typed values become a new SearchState; nonsense is refused in place."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Input

from anagnorisis_tui.ui.screens.confirm import ConfirmScreen
from anagnorisis_tui.ui.state.search_state import SearchState
from anagnorisis_tui.ui.widgets import filter_panel
from anagnorisis_tui.ui.widgets.filter_panel import FilterPanel
from tests.support.waiting import until


class PanelApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.states: list[SearchState] = []

    def compose(self) -> ComposeResult:
        yield FilterPanel(SearchState(), id="filters")

    def on_filter_panel_changed(self, event: FilterPanel.Changed) -> None:
        self.states.append(event.state)


async def _no_change_to_come(pilot, panel: FilterPanel) -> None:
    """Every control's echo handled, and the debounce it started (if any) fired: a change the
    panel would post has been posted (waits on that, not on a clock)."""
    await pilot.pause()  # every widget's messages handled: the echoes, and the timer they set
    assert await until(pilot, lambda: panel._debounce is None)


async def test_typed_bounds_apply_on_enter_and_bad_values_are_refused():
    app = PanelApp()
    async with app.run_test(size=(60, 50)) as pilot:
        app.query_one("#min_mp", Input).focus()
        await pilot.press("2", ".", "5", "enter")
        await pilot.pause()
        assert app.states[-1].min_megapixels == 2.5
        app.query_one("#max_size", Input).focus()
        await pilot.press(*"5MB", "enter")
        await pilot.pause()
        assert app.states[-1].max_bytes == 5_000_000
        assert app.states[-1].min_megapixels == 2.5
        before = len(app.states)
        app.query_one("#max_mp", Input).focus()
        await pilot.press("1", "enter")  # below the minimum
        await pilot.pause()
        assert len(app.states) == before
        error = str(app.query_one("#filter-error").render())
        assert "minimum is above the maximum" in error


async def test_typing_is_debounced_into_one_change(monkeypatch):
    # The debounce is lengthened here: at 0.3 s, a loaded machine that left the app without the
    # CPU for longer than that between two keys made two changes (a loaded suite run); what is
    # tested is that keys typed within the debounce make one change, not how fast Pilot types.
    monkeypatch.setattr(filter_panel, "DEBOUNCE_S", 5.0)
    app = PanelApp()
    async with app.run_test(size=(60, 50)) as pilot:
        app.query_one("#concept", Input).focus()
        await pilot.press(*"screenshot")
        # The change comes after the debounce: wait for it, then until no debounce is pending,
        # so a second change (one per key) would have come too.
        await until(pilot, lambda: bool(app.states))
        await _no_change_to_come(pilot, app.query_one(FilterPanel))
        assert [s.concept for s in app.states] == ["screenshot"]


async def test_show_state_fills_the_controls_without_echoing_a_change():
    app = PanelApp()
    async with app.run_test(size=(60, 50)) as pilot:
        panel = app.query_one(FilterPanel)
        panel.show_state(SearchState(min_bytes=1_234_567, shape="portrait", seed=9, sort="random"))
        await _no_change_to_come(pilot, panel)
        assert app.query_one("#min_size", Input).value == "1234567"
        assert app.query_one("#seed", Input).value == "9"
        assert app.states == []


async def test_confirm_defaults_to_cancel_and_escape_cancels():
    answers: list[bool | None] = []

    class ConfirmApp(App):
        def on_mount(self) -> None:
            self.push_screen(ConfirmScreen("Trash 2 files?", "[bold]x[/].jpg"), answers.append)

    async with ConfirmApp().run_test() as pilot:
        await pilot.press("enter")  # focus starts on Cancel
        await pilot.pause()
    assert answers == [False]
    answers.clear()
    async with ConfirmApp().run_test() as pilot:
        await pilot.press("y")
        await pilot.pause()
    assert answers == [True]


async def test_without_a_query_the_panel_shows_the_order_the_results_have():
    """Relevance needs a query; without one the results read A to Z by path, and the panel says
    so (it said "relevance, descending" beside a results line saying "path ↑"). Reading the
    controls back keeps the state's own sort, so the first query still sorts by relevance."""
    from textual.widgets import Select

    app = PanelApp()
    async with app.run_test(size=(60, 50)) as pilot:
        panel = app.query_one(FilterPanel)
        panel.show_state(SearchState().cleared())
        await _no_change_to_come(pilot, panel)
        assert app.query_one("#sort", Select).value == "path"
        assert app.query_one("#descending", Select).value is False
        assert app.states == []
        assert panel.read_controls() == SearchState()
        assert SearchState().submitted("cat").effective_sort == "score"
        panel.show_state(SearchState(query="cat"))
        await _no_change_to_come(pilot, panel)
        assert app.query_one("#sort", Select).value == "score"
        assert app.query_one("#descending", Select).value is True
