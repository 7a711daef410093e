"""The controls for every filter and sort of the Search/Filter screen, as one compact form.

The panel never applies anything itself: each edit that parses becomes a new SearchState, posted
as `FilterPanel.Changed`; an edit that does not parse marks its control and says why beside it,
and the last good state stays in force. Typing is debounced so a number being typed is not
searched digit by digit; selects and checkboxes apply at once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from anagnorisis_tui.core.duplicates.options import DEFAULT_THRESHOLD
from anagnorisis_tui.ui.state.search_state import (
    SORTS,
    FilterInputError,
    SearchState,
    parse_number,
    parse_proportion,
    parse_seed,
    parse_size,
    size_text,
)

# Shapes the core knows (core/views/filters.py SHAPES); "any" means no shape filter.
SHAPES = ("any", "landscape", "portrait", "square", "panorama", "tall")

DEBOUNCE_S = 0.3
# Defaults of core/duplicates/groups.py (DEFAULT_THRESHOLD, METHODS), repeated to keep this import light.
DEFAULT_GROUP_THRESHOLD = DEFAULT_THRESHOLD  # the command line's default too
GROUP_METHODS = ("both", "phash", "vectors")


# The control each filter error is about, by the words its message starts with
# (search_state.py names the control first: "min size: ...", "date taken: ...").
_ERROR_CONTROLS = {
    "seed": "seed",
    "min score": "min_score",
    "concept threshold": "concept_threshold",
    "min megapixels": "min_mp",
    "max megapixels": "max_mp",
    "resolution": "min_mp",
    "min proportion": "min_ratio",
    "max proportion": "max_ratio",
    "proportion": "min_ratio",
    "min size": "min_size",
    "max size": "max_size",
    "file size": "min_size",
    "min rating": "min_rating",
    "max rating": "max_rating",
    "rating": "min_rating",
    "date taken": "taken_from",
    "unknown sort": "sort",
    "group similarity": "group_threshold",
}


def _control_of(message: str) -> str | None:
    what = message.partition(":")[0].strip()
    return _ERROR_CONTROLS.get(what) or next(
        (c for words, c in _ERROR_CONTROLS.items() if message.startswith(words)), None
    )


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


class FilterPanel(VerticalScroll, can_focus=False):
    DEFAULT_CSS = """
    FilterPanel {
        width: 36;
        height: 1fr;
        padding: 0 1;
        border-right: vkey $foreground 20%;
    }
    FilterPanel .heading {
        margin-top: 1;
        text-style: bold;
        color: $text-accent;
    }
    FilterPanel Horizontal {
        height: 1;
        margin-bottom: 0;
    }
    FilterPanel Horizontal > Label {
        width: 9;
        color: $text-muted;
    }
    FilterPanel Input {
        width: 1fr;
        margin-right: 1;
    }
    FilterPanel Select {
        width: 1fr;
    }
    FilterPanel Input.-invalid {
        color: $error;
    }
    FilterPanel #filter-error {
        color: $error;
        height: auto;
    }
    FilterPanel Checkbox {
        height: 1;
        border: none;
        padding: 0;
    }
    """

    @dataclass
    class GroupsRequested(Message):
        """Open the similarity groups with these parameters."""

        threshold: float
        method: str

    @dataclass
    class Changed(Message):
        """A new, valid state from the controls."""

        panel: FilterPanel
        state: SearchState

        @property
        def control(self) -> FilterPanel:
            return self.panel

    def __init__(self, state: SearchState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._state = state
        self._debounce: Timer | None = None

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        s = self._state
        yield Static("Sort", classes="heading")
        with Horizontal():
            yield Label("by")
            yield Select(
                [(label, key) for key, label in SORTS.items()],
                value=s.effective_sort,
                allow_blank=False,
                compact=True,
                id="sort",
            )
        with Horizontal():
            yield Label("order")
            yield Select(
                [("descending ↓", True), ("ascending ↑", False)],
                value=s.effective_descending,
                allow_blank=False,
                compact=True,
                id="descending",
            )
        with Horizontal():
            yield Label("seed")
            yield Input(
                str(s.seed), compact=True, id="seed", tooltip="random order seed; r reshuffles"
            )
        with Horizontal():
            yield Label("score ≥")  # "min score" filled the label and ran into the placeholder
            yield Input(
                _fmt(s.min_score),
                placeholder="e.g. 0.25",
                compact=True,
                id="min_score",
                tooltip="leave out search results below this score; then sort by any key",
            )
        yield Static("Text concept", classes="heading")
        with Horizontal():
            yield Label("concept")
            yield Input(s.concept, placeholder="e.g. screenshot", compact=True, id="concept")
        with Horizontal():
            yield Label("min sim")
            yield Input(f"{s.concept_threshold:g}", compact=True, id="concept_threshold")
        yield Checkbox("exclude matches", s.concept_exclude, compact=True, id="concept_exclude")
        yield Static("Resolution (megapixels)", classes="heading")
        with Horizontal():
            yield Label("min–max")
            yield Input(_fmt(s.min_megapixels), placeholder="min", compact=True, id="min_mp")
            yield Input(_fmt(s.max_megapixels), placeholder="max", compact=True, id="max_mp")
        yield Static("Proportion (width/height)", classes="heading")
        with Horizontal():
            yield Label("shape")
            yield Select(
                [(name, name) for name in SHAPES],
                value=s.shape or "any",
                allow_blank=False,
                compact=True,
                id="shape",
            )
        with Horizontal():
            yield Label("min–max")
            yield Input(_fmt(s.min_ratio), placeholder="e.g. 4:3", compact=True, id="min_ratio")
            yield Input(_fmt(s.max_ratio), placeholder="max", compact=True, id="max_ratio")
        yield Static("File size", classes="heading")
        with Horizontal():
            yield Label("min–max")
            yield Input(size_text(s.min_bytes), placeholder="500k", compact=True, id="min_size")
            yield Input(size_text(s.max_bytes), placeholder="5MB", compact=True, id="max_size")
        yield Static("Rating (yours, else predicted)", classes="heading")
        with Horizontal():
            yield Label("min–max")
            yield Input(_fmt(s.min_rating), placeholder="0", compact=True, id="min_rating")
            yield Input(_fmt(s.max_rating), placeholder="10", compact=True, id="max_rating")
        yield Static("Date taken (EXIF, else modified)", classes="heading")
        with Horizontal():
            yield Label("from–to")
            yield Input(s.taken_from, placeholder="2023", compact=True, id="taken_from")
            yield Input(s.taken_to, placeholder="2024-06", compact=True, id="taken_to")
        yield Static("Similarity groups", classes="heading")
        with Horizontal():
            yield Label("min sim")
            yield Input(
                f"{DEFAULT_GROUP_THRESHOLD:g}",
                compact=True,
                id="group_threshold",
                tooltip="cosine similarity that makes two images one group (0–1]",
            )
        with Horizontal():
            yield Label("method")
            yield Select(
                [(m, m) for m in GROUP_METHODS],
                value="both",
                allow_blank=False,
                compact=True,
                id="group_method",
            )
        yield Button("Find groups (D)", id="find-groups", compact=True)
        yield Static("", id="filter-error")

    # -- state in and out -----------------------------------------------------------------
    @property
    def state(self) -> SearchState:
        return self._state

    def show_state(self, state: SearchState, order: tuple[str, bool] | None = None) -> None:
        """Fill the controls from a state chosen elsewhere (reshuffle, reset, query box)."""
        # Programmatic changes post Changed events later; they read back as this same state,
        # so apply_now finds nothing new and posts nothing.
        self._state = state
        # The order the results have: relevance needs a query (`order`: a list's own order).
        self._show_order(state, order)
        self.query_one("#seed", Input).value = str(state.seed)
        self.query_one("#concept", Input).value = state.concept
        self.query_one("#concept_threshold", Input).value = f"{state.concept_threshold:g}"
        self.query_one("#concept_exclude", Checkbox).value = state.concept_exclude
        self.query_one("#min_mp", Input).value = _fmt(state.min_megapixels)
        self.query_one("#max_mp", Input).value = _fmt(state.max_megapixels)
        self.query_one("#shape", Select).value = state.shape or "any"
        self.query_one("#min_ratio", Input).value = _fmt(state.min_ratio)
        self.query_one("#max_ratio", Input).value = _fmt(state.max_ratio)
        self.query_one("#min_size", Input).value = size_text(state.min_bytes)
        self.query_one("#max_size", Input).value = size_text(state.max_bytes)
        self.query_one("#min_rating", Input).value = _fmt(state.min_rating)
        self.query_one("#max_rating", Input).value = _fmt(state.max_rating)
        self.query_one("#taken_from", Input).value = state.taken_from
        self.query_one("#taken_to", Input).value = state.taken_to
        self.query_one("#min_score", Input).value = _fmt(state.min_score)
        self._set_error(None)

    def read_controls(self) -> SearchState:
        """The state the controls describe now; raises FilterInputError naming the bad control."""
        value = lambda wid: self.query_one(f"#{wid}", Input).value  # noqa: E731
        threshold = parse_number(value("concept_threshold"), what="concept threshold", minimum=-1.0)
        shape = self.query_one("#shape", Select).value
        sort = str(self.query_one("#sort", Select).value)
        descending = bool(self.query_one("#descending", Select).value)
        if (sort, descending) == (self._state.effective_sort, self._state.effective_descending):
            # The order shown is the state's (relevance falling back to path): keep its own sort,
            # so the first query still sorts by relevance.
            sort, descending = self._state.sort, self._state.descending
        elif self._state.sort != self._state.effective_sort and sort != self._state.effective_sort:
            descending = self._state.descending  # a key chosen over the fallback: its own order
        state = dataclasses.replace(
            self._state,
            sort=sort,
            descending=descending,
            seed=parse_seed(value("seed")),
            concept=value("concept").strip(),
            concept_threshold=0.25 if threshold is None else threshold,
            concept_exclude=self.query_one("#concept_exclude", Checkbox).value,
            min_megapixels=parse_number(value("min_mp"), what="min megapixels"),
            max_megapixels=parse_number(value("max_mp"), what="max megapixels"),
            shape=None if shape == "any" else str(shape),
            min_ratio=parse_proportion(value("min_ratio"), what="min proportion"),
            max_ratio=parse_proportion(value("max_ratio"), what="max proportion"),
            min_bytes=parse_size(value("min_size"), what="min size"),
            max_bytes=parse_size(value("max_size"), what="max size"),
            min_rating=parse_number(value("min_rating"), what="min rating"),
            max_rating=parse_number(value("max_rating"), what="max rating"),
            taken_from=value("taken_from").strip(),
            taken_to=value("taken_to").strip(),
            min_score=parse_number(value("min_score"), what="min score", minimum=-1.0),
        )
        state.validate()
        return state

    def _set_error(self, message: str | None, control: str | None = None) -> None:
        """Say why below the row of the control it is about (else where it is)."""
        error = self.query_one("#filter-error", Static)
        error.update(Text(message or ""))
        if message and control is not None:
            row = self.query_one(f"#{control}").parent
            if isinstance(row, Widget) and row is not error and row.parent is self:
                self.move_child(error, after=row)

    def apply_now(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        try:
            state = self.read_controls()
        except FilterInputError as exc:
            self._set_error(str(exc), _control_of(str(exc)))
            return
        self._set_error(None)
        if state != self._state:
            self._state = state
            self._show_order(state)
            self.post_message(self.Changed(self, state))

    def _show_order(self, state: SearchState, order: tuple[str, bool] | None = None) -> None:
        """The sort controls as the results are ordered, set at once: a control still showing
        the fallback's order when the next change is read would be read as the user's choice."""
        sort, descending = order or (state.effective_sort, state.effective_descending)
        self.query_one("#sort", Select).value = sort
        self.query_one("#descending", Select).value = descending

    # -- events ---------------------------------------------------------------------------
    def group_params(self) -> tuple[float, str]:
        """(threshold, method) from the group controls; raises FilterInputError."""
        text = self.query_one("#group_threshold", Input).value
        threshold = parse_number(text, what="group similarity")
        if threshold is None:
            threshold = DEFAULT_GROUP_THRESHOLD
        if not 0.0 < threshold <= 1.0:
            raise FilterInputError("group similarity: a cosine similarity in (0, 1]")
        return threshold, str(self.query_one("#group_method", Select).value)

    @on(Button.Pressed, "#find-groups")
    def _find_groups(self, event: Button.Pressed) -> None:
        event.stop()
        try:
            threshold, method = self.group_params()
        except FilterInputError as exc:
            self._set_error(str(exc), "group_threshold")
            return
        self._set_error(None)
        self.post_message(self.GroupsRequested(threshold, method))

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if event.input.id == "group_threshold":
            return  # used when the groups are opened, not a filter of this grid
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE_S, self.apply_now)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "group_threshold":
            self.query_one("#find-groups", Button).press()
            return
        self.apply_now()

    @on(Select.Changed, "#sort, #descending, #shape")
    @on(Checkbox.Changed)
    def _toggled(self, event: Message) -> None:
        event.stop()
        self.apply_now()
