"""Viewer mode: one image large, its details, the rating bar; rate with number keys and move on.

The viewer walks the source it was opened from (a folder's grid, search results), so next and
previous follow what the user was looking at. Rating keys: 0–9 rate that value, `t` rates 10
(ten), backspace clears; with auto-advance on (the default, `a` toggles) a rating moves on to
the next image.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Static

from anagnorisis_tui.core.base import rating_text
from anagnorisis_tui.core.errors import UserError
from anagnorisis_tui.core.evaluator.store import Prediction
from anagnorisis_tui.core.views.paging import ImageEntry
from anagnorisis_tui.ui.messages import RatingChanged
from anagnorisis_tui.ui.screens.base import AppScreen
from anagnorisis_tui.ui.state.sources import GridSource, QueueSource
from anagnorisis_tui.ui.state.text import human_size, safe
from anagnorisis_tui.ui.typeahead import Hold, TypeAheadTarget
from anagnorisis_tui.ui.widgets.image_view import ImageView
from anagnorisis_tui.ui.widgets.rating_bar import RatingBar

SIMILAR_HOLD_S = 60.0  # the most keys typed after `m` wait for its results

_RATE_BINDINGS = [
    Binding(
        str(n),
        f"rate({n})",
        "Rate" if n == 0 else f"Rate {n}",
        show=n == 0,
        key_display="0-9" if n == 0 else None,
        id=f"viewer.rate_{n}",
        tooltip="Rate 0–9 (t rates 10); moves on when auto-advance is on",
    )
    for n in range(10)
]


class ViewerScreen(TypeAheadTarget, AppScreen):
    BINDINGS = [
        *_RATE_BINDINGS,
        Binding("t", "rate(10)", "Rate 10", id="viewer.rate_10", tooltip="Rate 10 (ten)"),
        Binding(
            "backspace,delete",
            "clear_rating",
            "Clear",
            show=False,
            id="viewer.clear_rating",
            tooltip="Remove your rating of this image",
        ),
        Binding("right,l,n,space", "step(1)", "Next", id="viewer.next", tooltip="Next image"),
        Binding("left,h,p", "step(-1)", "Prev", id="viewer.previous", tooltip="Previous image"),
        Binding(
            "m",
            "more_like_this",
            "More like this",
            id="viewer.similar",
            tooltip="Images that look like this one (needs embeddings)",
        ),
        Binding(
            "a",
            "toggle_advance",
            "Auto-advance",
            show=False,
            id="viewer.auto_advance",
            tooltip="Move to the next image after rating (on/off)",
        ),
        Binding(
            "i",
            "toggle_info",
            "Info",
            show=False,
            id="viewer.info",
            tooltip="Show or hide the details panel",
        ),
        Binding(
            "escape,enter",
            "close",
            "Back",
            id="viewer.back",
            tooltip="Back to the grid, at this image",
        ),
    ]

    class _EntryLoaded(Message):
        def __init__(
            self,
            token: int,
            index: int,
            count: int,
            entry: ImageEntry | None,
            prediction: Prediction | None,
        ) -> None:
            super().__init__()
            self.token, self.index, self.count = token, index, count
            self.entry, self.prediction = entry, prediction

    def __init__(self) -> None:
        super().__init__()
        self.source: GridSource | None = None
        self.index = 0
        self.count = 0
        self.entry: ImageEntry | None = None
        self.prediction: Prediction | None = None
        self.auto_advance = True
        self._token = 0
        self._shown_token = 0

    def typeahead_ready(self) -> bool:
        """Keys typed ahead (ui/typeahead.py) wait for the entry asked for last: a rating typed
        right after another one rates the image it moved on to."""
        return self.source is None or self._shown_token == self._token

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="viewer-body"):
            yield ImageView(self.app.image_class, id="image")
            with Vertical(id="info"):
                yield Static("", id="details", markup=False)
                yield Static("Your rating", classes="heading", markup=False)
                yield RatingBar(id="rating")
                yield Static("", id="rating-text", markup=False)
                yield Static("", id="prediction", markup=False)
                yield Static("", id="position", markup=False)

    def on_screen_resume(self) -> None:
        if self.source is None:
            self._adopt_library_selection()

    def _adopt_library_selection(self) -> None:
        """Opened with F3 and nothing chosen yet: show the library grid's current image."""
        from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid

        library = self.app.base_screen("library")
        if library is not None:
            for grid in library.query(ThumbnailGrid):
                if grid.source is not None and grid.count:
                    self.show(grid.source, grid.cursor)
                    return
        self.query_one(ImageView).show(None, "Nothing to show yet: open an image from the library.")

    # -- navigation ------------------------------------------------------------------------
    def show(self, source: GridSource, index: int) -> None:
        self.source = source
        self._load(index)

    def _load(self, index: int) -> None:
        if self.source is None:
            return
        self._token += 1
        self.run_worker(
            partial(self._read_entry, self.source, index, self._token),
            thread=True,
            group="viewer-entry",
            exclusive=True,
            exit_on_error=False,
            name="viewer: entry",
        )

    def _read_entry(self, source: GridSource, index: int, token: int) -> None:
        count = source.count()
        index = max(0, min(index, count - 1)) if count else 0
        page = source.page(index, 1) if count else []
        entry = page[0] if page else None
        prediction: Prediction | None = None
        if entry is not None:
            # The rating shown is the catalogue's, read now: the viewer never patches the list
            # it walks. A list kept in memory (search results, the rate-next queue) is its
            # owner's to update (a grid follows the app's rating signal; the Train screen its
            # queue), and that may land after this read when keys come fast.
            entry = replace(entry, rating=self.library.ratings.get(entry.hash))
            try:
                prediction = self.library.evaluator.prediction(entry.hash)
            except Exception:  # noqa: BLE001 - a missing model is not worth an error here
                prediction = None
        self.post_message(self._EntryLoaded(token, index, count, entry, prediction))

    @on(_EntryLoaded)
    def _entry_loaded(self, message: _EntryLoaded) -> None:
        if message.token != self._token:
            return  # the user already moved on
        self._shown_token = message.token
        self.index, self.count, self.entry = message.index, message.count, message.entry
        self.prediction = message.prediction
        image = self.query_one(ImageView)
        if self.entry is None:
            image.show(None, "No images here.")
        elif image.path != self.entry.os_path:
            image.show(self.entry.os_path)
        self._update_info()

    def action_step(self, delta: int) -> None:
        if self.source is None or not self.count:
            return
        target = self.index + delta
        if not 0 <= target < self.count:
            self.notify("Last image." if delta > 0 else "First image.", timeout=2)
            return
        self.index = target
        self._load(target)

    def action_close(self) -> None:
        self.app.viewer_closed(self.source, self.index)

    # -- rating ----------------------------------------------------------------------------
    def action_rate(self, value: int) -> None:
        entry = self.entry
        if entry is None:
            return
        stored = self.library.ratings.set(entry.hash, value)
        self._rated(entry, stored)
        if self.auto_advance and self.index + 1 < self.count:
            self.action_step(1)

    def action_clear_rating(self) -> None:
        entry = self.entry
        if entry is None:
            return
        self.library.ratings.clear(entry.hash)
        self._rated(entry, None)

    def _rated(self, entry: ImageEntry, value: float | None) -> None:
        self.entry = replace(entry, rating=value)
        # Whoever keeps a list with this image in it (a grid, the Train screen's queue) follows
        # the app's rating signal: the viewer only says what changed.
        self.app.post_message(RatingChanged(entry.hash, value))
        self._update_info()

    @on(RatingBar.Changed)
    def _bar_clicked(self, message: RatingBar.Changed) -> None:
        self.action_rate(message.value)

    def action_toggle_advance(self) -> None:
        self.auto_advance = not self.auto_advance
        state = "on" if self.auto_advance else "off"
        self.notify(f"Auto-advance after rating: {state}", timeout=2)
        self._update_info()

    def action_toggle_info(self) -> None:
        info = self.query_one("#info")
        info.display = not info.display

    # -- more like this --------------------------------------------------------------------
    def action_more_like_this(self) -> None:
        entry = self.entry
        if entry is None:
            return
        # Keys typed after `m` are for the results (`/` then a query searches from there):
        # they wait until the results are shown, or a notice says there are none.
        hold = self.app.typeahead.hold(timeout=SIMILAR_HOLD_S, reason="more like this")
        self.run_worker(
            partial(self._find_similar, entry, hold),
            thread=True,
            group="viewer-similar",
            exclusive=True,
            exit_on_error=False,
            name="more like this",
        )

    def _find_similar(self, entry: ImageEntry, hold: Hold) -> None:
        try:
            try:
                hits = self.library.semantic.similar(entry.hash, top_k=100)
            except UserError as exc:  # no model, or no vector for this image yet
                self.app.call_from_thread(
                    self.notify, f"No similar images: {exc}", severity="warning", markup=False
                )
                return
            entries = []
            for hit in hits:
                found = self.library.views.entry(hit.path)
                if found is not None:
                    entries.append(replace(found, score=hit.score))
            title = f"More like {safe(entry.name)}"
            self.app.call_from_thread(self.app.show_results, title, entries)
        finally:
            hold.release()  # the gate still waits for the Search screen to settle

    # -- details ---------------------------------------------------------------------------
    def _update_info(self) -> None:
        entry = self.entry
        details = self.query_one("#details", Static)
        if entry is None:
            details.update("")
            self.query_one(RatingBar).value = None
            return
        text = Text()
        text.append(safe(entry.name) + "\n", style="bold")
        text.append(safe(entry.path) + "\n\n")
        from anagnorisis_tui.core.catalogue.capture_date import describe

        if entry.taken is not None:
            when = ("Taken", describe(entry.taken, entry.taken_offset))
        else:  # no capture date in the file: the file's own time stands in, and says so
            when = ("Modified", describe(entry.mtime_ns / 1e9, None) + " (no capture date)")
        rows = [
            when,
            ("Size", human_size(entry.size)),
            ("Resolution", f"{entry.width}×{entry.height}" if entry.width else "unknown"),
            ("Format", entry.format or "unknown"),
            ("Hash", entry.hash),
        ]
        for label, value in rows:
            text.append(f"{label:<11}", style="dim")
            text.append(f"{value}\n")
        details.update(text)
        self.query_one(RatingBar).value = entry.rating
        rating = "not rated" if entry.rating is None else f"{entry.rating:g} / 10"
        self.query_one("#rating-text", Static).update(
            Text.assemble(rating, ("\n0–9 rate · t = 10 · ⌫ clears", "dim"))
        )
        self.query_one("#prediction", Static).update(self._prediction_text())
        advance = "auto-advance on" if self.auto_advance else "auto-advance off"
        position = Text(f"{self.index + 1:,} of {self.count:,} · {advance}", style="dim")
        why = self.source.reason(entry.hash) if isinstance(self.source, QueueSource) else None
        if why:  # walking the rate-next queue: why this image was asked for
            position.append("\nrate next: ", style="dim")
            position.append(why)
        self.query_one("#position", Static).update(position)

    def _prediction_text(self) -> Text:
        p = self.prediction
        if p is None:
            return Text("Model: no prediction", style="dim")
        text = Text.assemble(("Model ", "dim"), f"{rating_text.prediction(p.value)} / 10")
        if p.stale:
            text.append("  (stale: an older model)", style="italic yellow")
        return text
