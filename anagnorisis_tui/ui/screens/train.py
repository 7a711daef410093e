"""The Train screen: train the personal evaluator, read its honest metrics, work the rate-next queue.

Training runs in the exclusive "train" thread worker; it reports through coalesced progress
messages and stops at the next step when cancelled. The report is plain data from the core; this
screen only lays it out: held-out metrics beside the baseline, learning curves, the spread of the
user's ratings against the model's, and the queue of images whose rating would teach it most.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, DataTable, ProgressBar, Static
from textual.worker import Worker, WorkerState

from anagnorisis_tui.core.base import rating_text
from anagnorisis_tui.core.base.progress import Progress, format_eta
from anagnorisis_tui.core.errors import UserError
from anagnorisis_tui.core.views.paging import ImageEntry
from anagnorisis_tui.core.work.results import TrainResult
from anagnorisis_tui.core.work.runner import TaskFailed
from anagnorisis_tui.ui.messages import LibraryChanged, RatingChanged
from anagnorisis_tui.ui.screens.base import AppScreen
from anagnorisis_tui.ui.state.sources import QueueSource
from anagnorisis_tui.ui.state.train_view import (
    QueueItem,
    TrainView,
    queue_items,
    train_view,
)
from anagnorisis_tui.ui.widgets.metrics_table import MetricsTable
from anagnorisis_tui.ui.widgets.train_plots import CurvesPlot, RatingsHistogram

TRAIN_GROUP = "train"
QUEUE_GROUP = "rate-next"
QUEUE_SIZE = 50
REFRESH_EVERY = 5  # ratings given in the viewer between background refreshes of the queue


class TrainScreen(AppScreen):
    """Mode "train"."""

    DEFAULT_CSS = """
    TrainScreen #train-top {
        height: 3;
        padding: 0 1;
    }
    TrainScreen #train-top Button {
        margin-right: 2;
    }
    TrainScreen #train-status {
        width: 1fr;
        content-align: left middle;
        height: 3;
    }
    TrainScreen #train-progress-row {
        height: 1;
        padding: 0 1;
    }
    TrainScreen #train-progress-label {
        width: 1fr;
    }
    TrainScreen .panel {
        border: round $foreground 30%;
        border-title-color: $text-accent;
        height: 1fr;
    }
    TrainScreen #train-body {
        height: 1fr;
    }
    TrainScreen #train-left {
        width: 1fr;
    }
    TrainScreen #train-right {
        width: 1fr;
    }
    TrainScreen #metrics-panel {
        height: auto;
        min-height: 6;
        padding: 0 1;
    }
    TrainScreen #rate-next {
        height: 1fr;
    }
    """

    BINDINGS = [
        Binding("t", "train", "Train", id="train.train", tooltip="Train image evaluator"),
        Binding("escape", "cancel_train", "Cancel", id="train.cancel", tooltip="Stop training now"),
        Binding(
            "n", "rate_next", "Rate next", id="train.rate_next", tooltip="Open the rate-next queue"
        ),
        Binding("R", "refresh_queue", "Refresh queue", id="train.refresh_queue", show=False),
    ]

    @dataclass
    class ProgressMade(Message):
        progress: Progress

        def can_replace(self, message: Message) -> bool:
            # Keep only the newest progress in the queue: the bar needs no history.
            return isinstance(message, TrainScreen.ProgressMade)

    @dataclass
    class Trained(Message):
        view: TrainView

    @dataclass
    class RatingsCounted(Message):
        """The user's ratings per 0..10, shown until a training's report shows them."""

        counts: list[int]

    @dataclass
    class TrainRefused(Message):
        reason: str

    @dataclass
    class QueueLoaded(Message):
        items: list[QueueItem]
        entries: list[ImageEntry]

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._cancel: threading.Event | None = None
        self._queue: list[QueueItem] = []
        self._entries: list[ImageEntry] = []
        self._walking: QueueSource | None = None  # the queue the viewer was opened on
        self._ratings_since_refresh = 0
        self._trained_shown = False  # a training's report is on screen (it has the ratings)

    # -- layout ---------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        with Horizontal(id="train-top"):
            yield Button("Train image evaluator (t)", id="train-button", variant="primary")
            yield Button("Cancel (esc)", id="cancel-button", disabled=True)
            yield Static("", id="train-status")
        with Horizontal(id="train-progress-row"):
            yield Static("", id="train-progress-label")
            yield ProgressBar(id="train-progress", show_eta=False)
        with Horizontal(id="train-body"):
            with Vertical(id="train-left"):
                metrics = Vertical(MetricsTable(id="metrics"), id="metrics-panel", classes="panel")
                metrics.border_title = "How well it predicts: held-out test and cross-validation"
                yield metrics
                curves = Vertical(CurvesPlot(id="curves"), classes="panel")
                curves.border_title = "Training vs validation"
                yield curves
            with Vertical(id="train-right"):
                hist = Vertical(RatingsHistogram(id="histogram"), classes="panel")
                hist.border_title = "Your ratings vs the model's"
                yield hist
                queue = Vertical(
                    DataTable(id="rate-next", cursor_type="row"), id="queue-panel", classes="panel"
                )
                queue.border_title = "Rate next (Enter: rate them in the viewer)"
                yield queue

    def on_mount(self) -> None:
        table = self.query_one("#rate-next", DataTable)
        table.add_columns("#", "image", "model", "why")
        self.query_one("#train-progress-row").display = False
        self._show_status("rate images in the viewer (number keys), then train here")
        self._load_last()
        self.action_refresh_queue()
        self.app.rating_signal.subscribe(self, self._rating_given)

    def _rating_given(self, message: RatingChanged) -> None:
        """The queue the viewer walks is this screen's: it keeps each rating given (a page
        read again shows it) and, while the user works it, is refreshed every few ratings."""
        if self._walking is None:
            return
        self._walking.rated(message.content_hash, message.value)
        if message.value is None:
            return
        self._ratings_since_refresh += 1
        if self._ratings_since_refresh >= REFRESH_EVERY:
            self._ratings_since_refresh = 0
            self.action_refresh_queue()

    def on_screen_resume(self) -> None:
        # Back from rating in the viewer: the queue (and what is rated) has moved on.
        self.action_refresh_queue()
        if not self._trained_shown:
            self._load_last()

    # -- plumbing -------------------------------------------------------------------------
    def _show_status(self, text: str) -> None:
        self.query_one("#train-status", Static).update(Text(text))

    @work(thread=True, group="train-load", exit_on_error=False)
    def _load_last(self) -> None:
        """The active evaluator's saved report, so the screen shows where things stand."""
        try:
            info = self.library.evaluator.info()
        except UserError:  # no vectors yet: training will say why
            info = None
        if info and info.get("metrics"):
            self.post_message(self.Trained(train_view(info["metrics"])))
        else:  # never trained: the ratings given so far, not "none yet"
            self.post_message(self.RatingsCounted(self.library.ratings.histogram()))

    @on(RatingsCounted)
    def _ratings_counted(self, message: RatingsCounted) -> None:
        if self._trained_shown:
            return
        self.query_one("#histogram", RatingsHistogram).show_counts(message.counts, [])
        rated = sum(message.counts)
        if rated and self._cancel is None:
            noun = "image" if rated == 1 else "images"
            self._show_status(f"{rated:,} {noun} rated: press t to train")

    # -- training -------------------------------------------------------------------------
    def action_train(self) -> None:
        if self._cancel is not None:
            self.notify("Training is already running; Escape cancels it.")
            return
        self._cancel = threading.Event()
        self.query_one("#train-button", Button).disabled = True
        self.query_one("#cancel-button", Button).disabled = False
        self.query_one("#train-progress-row").display = True
        self.query_one("#train-progress-label", Static).update("starting…")
        self.query_one("#train-progress", ProgressBar).update(total=None, progress=0)
        self._train(self._cancel)

    @work(thread=True, group=TRAIN_GROUP, exclusive=True, exit_on_error=False)
    def _train(self, cancel: threading.Event) -> TrainView | None:
        # In a child process (core/work/tasks.py): the fitting never competes with the UI
        # thread for the GIL, and quitting stops it at once.
        def progress(p: Progress) -> None:
            self.post_message(self.ProgressMade(p))

        try:
            result = self.app.jobs.run_child("train", {}, progress=progress, cancel=cancel)
        except TaskFailed as exc:
            if not exc.user:
                raise
            # TrainingError and friends: a reason for the user (too few ratings, no vectors).
            self.post_message(self.TrainRefused(str(exc)))
            return None
        trained = TrainResult.from_json(result) if result is not None else None
        if cancel.is_set() or trained is None or trained.cancelled or trained.report is None:
            return None
        view = train_view(trained.report)
        self.post_message(self.Trained(view))
        # New predictions: grids sorted or filtered by rating and the viewer read them again.
        self.app.post_message(LibraryChanged())
        return view

    def action_cancel_train(self) -> None:
        if self._cancel is None:
            return
        self._cancel.set()
        self.query_one("#train-progress-label", Static).update("cancelling…")

    @on(Button.Pressed, "#train-button")
    def _train_pressed(self) -> None:
        self.action_train()

    @on(Button.Pressed, "#cancel-button")
    def _cancel_pressed(self) -> None:
        self.action_cancel_train()

    @on(ProgressMade)
    def _progress(self, message: ProgressMade) -> None:
        p = message.progress
        bar = self.query_one("#train-progress", ProgressBar)
        bar.update(total=p.total, progress=p.done)
        label = Text(f"{p.stage}: {p.detail}" if p.detail else p.stage)
        if p.total:
            label.append(f"  {p.done}/{p.total}  ETA {format_eta(p.eta)}", style="dim")
        self.query_one("#train-progress-label", Static).update(label)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != TRAIN_GROUP or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        cancelled = self._cancel is not None and self._cancel.is_set()
        self._cancel = None
        self.query_one("#train-button", Button).disabled = False
        self.query_one("#cancel-button", Button).disabled = True
        self.query_one("#train-progress-row").display = False
        # Unexpected errors reach the app's one error handler; refusals come as TrainRefused.
        if event.state != WorkerState.ERROR and cancelled:
            self.notify("Training cancelled; the previous model stays in use.")
            self._show_status("training cancelled; the previous model stays in use")

    @on(TrainRefused)
    def _refused(self, message: TrainRefused) -> None:
        self._show_status(message.reason)
        self.notify(message.reason, title="Not trained", severity="warning", timeout=8)

    @on(Trained)
    def _trained(self, message: Trained) -> None:
        view = message.view
        self._trained_shown = True
        self.query_one("#metrics", MetricsTable).show_rows(view.rows, note=view.note)
        self.query_one("#curves", CurvesPlot).show_curves(
            view.curves, x=view.curve_x, xlabel=view.curve_label, title=view.curves_title
        )
        self.query_one("#histogram", RatingsHistogram).show_counts(
            view.user_counts, view.model_counts
        )
        self._show_status(view.summary)
        self.action_refresh_queue()

    # -- rate-next queue ------------------------------------------------------------------
    def action_refresh_queue(self) -> None:
        self._load_queue()

    @work(thread=True, group=QUEUE_GROUP, exclusive=True, exit_on_error=False)
    def _load_queue(self) -> None:
        try:
            items = queue_items(self.library.evaluator.rate_next(top_k=QUEUE_SIZE))
        except UserError:  # no vectors yet (the evaluator says so when training)
            items = []
        # Full catalogue entries, so the viewer shows and rates them like any other image.
        entries = [self.library.views.entry(item.path) for item in items]
        kept = [(i, e) for i, e in zip(items, entries, strict=True) if e is not None]
        self.post_message(self.QueueLoaded([i for i, _ in kept], [e for _, e in kept]))

    @on(QueueLoaded)
    def _queue_loaded(self, message: QueueLoaded) -> None:
        self._queue = message.items
        self._entries = message.entries
        self.query_one("#queue-panel").border_subtitle = (
            f"{len(message.items)} images" if message.items else "empty: needs embedded images"
        )
        table = self.query_one("#rate-next", DataTable)
        table.clear()
        for i, item in enumerate(message.items, 1):
            predicted = rating_text.effective(None, item.predicted, none="–")
            # Text cells: file names are user data, never markup.
            table.add_row(str(i), Text(item.name), predicted, Text(item.reason), key=item.hash)
        if self._walking is not None:
            self._walking.replace_ahead(message.entries, {i.hash: i.reason for i in message.items})

    def action_rate_next(self) -> None:
        self._open_queue(0)

    @on(DataTable.RowSelected, "#rate-next")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self._open_queue(event.cursor_row)

    def _open_queue(self, start: int) -> None:
        if not self._entries:
            self.notify("The rate-next queue is empty: embed and rate some images first.")
            return
        # The viewer rates with a number key and moves on, so the queue is worked through in
        # order; every REFRESH_EVERY ratings a fresher queue replaces what is still ahead.
        reasons = {item.hash: item.reason for item in self._queue}
        self._walking = QueueSource(self._entries, reasons)
        self._ratings_since_refresh = 0
        self.app.open_viewer(self._walking, start)
