"""The Search/Filter screen: a query box, every filter and sort, and the ranked result grid.

`/` focuses the query, Enter searches. Each search or filter change runs in the exclusive
"search" thread worker: a newer request cancels the older one, and a result that still arrives
for an older request is dropped by its token, so the grid only ever shows the newest state.
The tokens, and whether the results take the focus after Enter, are ui/state/search_run.py's.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from anagnorisis_tui.core.errors import UserError
from anagnorisis_tui.core.views.paging import ImageEntry
from anagnorisis_tui.ui.screens.base import AppScreen
from anagnorisis_tui.ui.state.search_run import SearchRun, results_line
from anagnorisis_tui.ui.state.search_source import (
    CoreReader,
    SearchSource,
    pre_encode,
    read_search,
    warm_text_model,
)
from anagnorisis_tui.ui.state.search_state import SORTS, SearchState
from anagnorisis_tui.ui.state.sources import ListSource
from anagnorisis_tui.ui.widgets.entry_summary import describe_entry
from anagnorisis_tui.ui.widgets.filter_bar import FilterBar
from anagnorisis_tui.ui.widgets.filter_panel import FilterPanel
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import PAGE_SIZE, ThumbnailGrid

SEARCH_GROUP = "search"
ENCODE_AFTER_S = 0.15
# Keys typed after Enter wait this long at most for the results (a first search on a busy NAS
# loads the text model); ctrl+q is never held.
SEARCH_HOLD_S = 120.0
NOTHING_MATCHES = "nothing matches: loosen a filter (x clears them all)"
FIRST_PAGE = PAGE_SIZE  # the grid's first read is served from what the search already read

QUERY_HELP = (
    "describe images: beach sunset -people 2:golden · an image path finds similar ones "
    "· Enter searches"
)


class SearchScreen(AppScreen):
    """Mode "search". Also shows fixed result lists (`show_entries`, e.g. "more like this")."""

    DEFAULT_CSS = """
    SearchScreen #query {
        margin: 0 1;
    }
    SearchScreen #search-body {
        height: 1fr;
    }
    SearchScreen #results-column {
        width: 1fr;
    }
    SearchScreen #results {
        height: 1fr;
    }
    SearchScreen #highlighted {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    SearchScreen.-no-panel FilterPanel {
        display: none;
    }
    """

    BINDINGS = [
        Binding("slash", "focus_query", "Search", id="search.focus_query", tooltip="Type a query"),
        Binding(
            "f",
            "toggle_filters",
            "Filters",
            id="search.toggle_filters",
            tooltip="Show or hide the filter controls",
        ),
        Binding("F", "focus_filters", "Edit filters", id="search.focus_filters", show=False),
        Binding("o", "cycle_sort", "Sort", id="search.cycle_sort", tooltip="Next sort key"),
        Binding(
            "d",
            "toggle_direction",
            "↑↓",
            id="search.toggle_direction",
            tooltip="Flip the sort direction",
        ),
        Binding(
            "r",
            "reshuffle",
            "Reshuffle",
            id="search.reshuffle",
            tooltip="Random order with a new seed",
        ),
        Binding(
            "x",
            "clear_filters",
            "Clear",
            id="search.clear_filters",
            tooltip="Clear the query and every filter",
        ),
        Binding(
            "D",
            "groups",
            "Duplicates",
            id="search.groups",
            tooltip="Walk through similarity groups (duplicates)",
        ),
        Binding("escape", "focus_results", "Results", id="search.focus_results", show=False),
    ]

    @dataclass
    class ResultsReady(Message):
        token: int
        source: SearchSource
        seconds: float

    @dataclass
    class PreviewReady(Message):
        token: int
        entries: list[ImageEntry]
        seconds: float

    @dataclass
    class SearchFailed(Message):
        token: int
        error: str

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.state = SearchState()
        self.search_run = SearchRun()
        self.last_seconds: float | None = None  # Enter -> results ready, for the benchmark
        self._reader = CoreReader()
        self._pending: tuple[str, Sequence[ImageEntry]] | None = None
        self._keep_focus = False
        self._shown = False  # resumed and not suspended since (the screen in front)
        self._again_after_scan = False  # nothing matched while the library was being indexed
        self._encode_timer: Timer | None = None

    @property
    def _token(self) -> int:
        return self.search_run.token

    @property
    def painted_token(self) -> int:
        """The search whose results the grid shows (benchmarks wait for it)."""
        return self.search_run.painted

    # -- layout ---------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        yield Input(placeholder=QUERY_HELP, id="query")
        yield FilterBar(self.state, id="filter-bar")
        with Horizontal(id="search-body"):
            yield FilterPanel(self.state, id="filters")
            with Vertical(id="results-column"):
                yield ThumbnailGrid(
                    image_class=self.app.image_class,
                    thumbnails=self.app.thumbnails,
                    typeahead=self.app.typeahead,
                    id="results",
                )
                yield Static("", id="highlighted")

    def on_mount(self) -> None:
        self.query_one("#query", Input).focus()
        self.state = self._scoped(self.state)
        if self._pending is not None:
            self.show_entries(*self._pending)
        else:
            self.apply(self.state)
        # Load the text encoder while the user types, so the first Enter does not wait for it
        # (its own thread: browsing without a query never waits for the model).
        self.run_worker(
            partial(warm_text_model, self.library),
            thread=True,
            group="search-warm",
            exit_on_error=False,
        )
        self.app.job_signal.subscribe(self, self._job_event)

    def _job_event(self, name: str) -> None:
        if name == "scan" and self._again_after_scan and not self.app.jobs.running("scan"):
            self._again_after_scan = False
            self.apply(self.state)

    def _scoped(self, state: SearchState) -> SearchState:
        """`state` within the folder chosen on the Library screen (its tree's "All images": all)."""
        scope = self.app.scope.chosen
        return state if scope is None else state.within(scope.root, scope.folder)

    def on_screen_resume(self) -> None:
        if self._shown:
            # A second resume with no suspend between (Textual sends two when a mode is first
            # shown): it would take the focus the first one left on "more like this" results
            # and give it to the query box, where the next `/` is typed as text.
            return
        self._shown = True
        scoped = self._scoped(self.state)
        if scoped != self.state and self._pending is None:
            self._set(scoped)
        # Back from the viewer or showing "more like this", the grid keeps focus; arriving any
        # other way (/ or F2), the query box takes the keys.
        if self._keep_focus:
            self._keep_focus = False
        else:
            self.action_focus_query()

    def on_screen_suspend(self) -> None:
        self._shown = False

    def on_unmount(self) -> None:
        self._reader.close()

    # -- running searches -----------------------------------------------------------------
    def apply(self, state: SearchState) -> None:
        """Show `state` everywhere and fetch its results (superseding any search in flight)."""
        self.state = state
        token = self.search_run.start()
        self._again_after_scan = False
        self.query_one(FilterBar).show(state, "searching…")
        self._search(state, token, time.perf_counter())

    @work(thread=True, group=SEARCH_GROUP, exclusive=True, exit_on_error=False)
    def _search(self, state: SearchState, token: int, started: float) -> None:
        worker = get_current_worker()

        def preview(entries: list[ImageEntry]) -> None:
            self.post_message(self.PreviewReady(token, entries, time.perf_counter() - started))

        try:
            source = read_search(
                self.library,
                state,
                self._reader,
                FIRST_PAGE,
                cancelled=lambda: worker.is_cancelled,
                preview=preview,
            )
        except UserError as exc:
            # Empty query, only negative terms, missing path, model unavailable: shown beside
            # the query, never as a traceback.
            if not worker.is_cancelled:
                self.post_message(self.SearchFailed(token, str(exc)))
            return
        if source is not None:
            self.post_message(self.ResultsReady(token, source, time.perf_counter() - started))

    @on(PreviewReady)
    def _preview_ready(self, message: PreviewReady) -> None:
        if not self.search_run.take_preview(message.token):
            return  # superseded, or the exact results are already shown
        self.last_seconds = message.seconds
        self.query_one(FilterBar).set_status(f"best {len(message.entries)} · ranking all…")
        grid = self.query_one("#results", ThumbnailGrid)
        grid.set_source(ListSource(message.entries, title="search preview"))

    @on(ResultsReady)
    def _results_ready(self, message: ResultsReady) -> None:
        paint = self.search_run.take_results(message.token)
        if paint is None:
            return  # a newer search is on its way
        if paint.first:
            self.last_seconds = message.seconds
        count = message.source.count()
        # Nothing indexed matches yet: it runs again after the scan (keys typed wait for it).
        indexing = bool(self.state.query.strip()) and self.app.jobs.running("scan")
        status, self._again_after_scan = results_line(count, indexing=indexing)
        self.query_one(FilterBar).set_status(status)
        grid = self.query_one("#results", ThumbnailGrid)
        # After a preview the user may already be moving in it: the cursor stays where it is.
        cursor = grid.cursor if paint.keeps_cursor else 0
        grid.set_source(message.source, cursor=min(cursor, max(0, count - 1)))
        if not count:
            if not self._again_after_scan and self.search_run.focus_on_empty(message.token):
                self._focus_awaited_results()
            self.query_one("#highlighted", Static).update(
                Text(status if self._again_after_scan else NOTHING_MATCHES)
            )

    @on(SearchFailed)
    def _search_failed(self, message: SearchFailed) -> None:
        if not self.search_run.is_current(message.token):
            return
        self.search_run.stop_awaiting()
        self.query_one(FilterBar).set_status(f"error: {message.error}")
        self.notify(message.error, title="Search", severity="warning")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The app's one handler reports the error itself; the bar must not say "searching…".
        if event.worker.group == SEARCH_GROUP and event.state == WorkerState.ERROR:
            self.search_run.stop_awaiting()
            self.query_one(FilterBar).set_status("search failed")

    # -- inputs ---------------------------------------------------------------------------
    @on(Input.Submitted, "#query")
    def _query_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        state = self.state.submitted(event.value.strip())
        shown = (state.effective_sort, state.effective_descending)
        if shown != (self.state.effective_sort, self.state.effective_descending):
            self.query_one("#filters", FilterPanel).show_state(state)
        self.apply(state)
        # Focus moves to the results once they are painted: moving it now would restyle the
        # screen and rebuild the footer while the search runs, delaying the results.
        self.search_run.await_focus()
        # Keys typed after Enter are for the results: they wait until those have the focus
        # (not merely until it was asked for: Enter typed next must not reach the query box).
        self.app.typeahead.hold(
            lambda: not self.search_run.awaiting_focus,
            timeout=SEARCH_HOLD_S,
            reason="search",
            keys_for=self.query_one("#results", ThumbnailGrid),
        )

    @on(Input.Changed, "#query")
    def _query_typed(self, event: Input.Changed) -> None:
        """Encode the query on the reader thread while the user is still typing, so Enter finds
        its vector ready (the text encoder is most of a search's cost on a CPU)."""
        event.stop()
        if self._encode_timer is not None:
            self._encode_timer.stop()
        text = event.value.strip()
        if text:
            self._encode_timer = self.set_timer(
                ENCODE_AFTER_S, lambda: self._reader.submit(pre_encode, self.library, text)
            )

    @on(FilterPanel.Changed)
    def _filters_changed(self, event: FilterPanel.Changed) -> None:
        event.stop()
        self.apply(dataclasses.replace(event.state, query=self.state.query))

    def show_entries(self, title: str, entries: Sequence[ImageEntry]) -> None:
        """Show a fixed list (e.g. "more like this" from the viewer) instead of a search."""
        if not self.query("#results"):  # not composed yet (is_mounted is False in on_mount)
            self._pending = (title, entries)  # shown by on_mount
            return
        self._pending = None
        self.search_run.supersede()  # any search in flight is now stale
        self.workers.cancel_group(self, SEARCH_GROUP)
        count = len(entries)
        # The list comes best first and no filter applies to it: the bar and the panel say so.
        self.query_one(FilterBar).show_list(f"{title}: {count:,} images", SORTS["score"])
        self.query_one("#filters", FilterPanel).show_state(
            dataclasses.replace(self.state, sort="score", descending=True), order=("score", True)
        )
        grid = self.query_one("#results", ThumbnailGrid)
        grid.set_source(ListSource(entries, title=title))
        grid.focus()
        self._keep_focus = True  # the resume that follows app.show_results leaves it there

    @on(ThumbnailGrid.Selected, "#results")
    def _open(self, message: ThumbnailGrid.Selected) -> None:
        self._keep_focus = True
        self.app.open_viewer(message.grid.source, message.index)

    @on(ThumbnailGrid.Highlighted)
    def _highlighted(self, event: ThumbnailGrid.Highlighted) -> None:
        entry = event.entry
        if entry is not None and self.search_run.focus_on_highlight():
            self.call_after_refresh(self._focus_awaited_results)
        self.query_one("#highlighted", Static).update(describe_entry(entry) if entry else "")

    def _focus_awaited_results(self) -> None:
        grid = self.query_one("#results", ThumbnailGrid)
        if grid.has_focus:
            self.search_run.focused()
        else:
            grid.focus()  # on_descendant_focus ends the wait once it has happened

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget.id == "results":
            self.search_run.focused()

    # -- actions --------------------------------------------------------------------------
    def _set(self, state: SearchState) -> None:
        self.query_one("#filters", FilterPanel).show_state(state)
        self.apply(state)

    def action_focus_query(self) -> None:
        # The previous query selected: typing replaces it, an arrow key keeps and edits it.
        query = self.query_one("#query", Input)
        query.focus()
        query.select_all()

    def action_focus_results(self) -> None:
        self.query_one("#results", ThumbnailGrid).focus()

    def action_toggle_filters(self) -> None:
        self.toggle_class("-no-panel")

    def action_focus_filters(self) -> None:
        self.remove_class("-no-panel")
        self.query_one("#sort").focus()

    def action_cycle_sort(self) -> None:
        self._set(self.state.next_sort())

    def action_toggle_direction(self) -> None:
        self._set(dataclasses.replace(self.state, descending=not self.state.descending))

    def action_reshuffle(self) -> None:
        seed = random.randrange(1, 1_000_000)
        self._set(dataclasses.replace(self.state, sort="random", seed=seed))

    def action_clear_filters(self) -> None:
        self.query_one("#query", Input).value = ""
        self._set(self.state.cleared())

    def action_groups(self) -> None:
        panel = self.query_one("#filters", FilterPanel)
        try:
            threshold, method = panel.group_params()
        except ValueError:
            threshold, method = None, "both"
        self._open_groups(threshold, method)

    @on(FilterPanel.GroupsRequested)
    def _groups_requested(self, event: FilterPanel.GroupsRequested) -> None:
        event.stop()
        self._open_groups(event.threshold, event.method)

    def _open_groups(self, threshold: float | None, method: str) -> None:
        from anagnorisis_tui.ui.screens.groups import GroupsScreen

        self.app.push_screen(
            GroupsScreen(
                threshold=threshold, method=method, root=self.state.root, folder=self.state.folder
            )
        )
