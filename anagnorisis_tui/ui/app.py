"""The Textual app: modes (Library, Search, Viewer, Train), jobs, keymap, errors as notices.

`make_app(settings, ...)` is the one way to build it, shared by the CLI and the tests. The
terminal's graphics protocol must be chosen before `App.run` (see ui/graphics.py), so the
image widget class is an argument here, never detected inside the running app.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.driver import Driver
from textual.screen import Screen
from textual.signal import Signal
from textual.widget import AwaitMount
from textual.worker import Worker

from anagnorisis_tui.core.base.config import Settings
from anagnorisis_tui.core.catalogue.thumbnails import ThumbnailStore, cache_dir
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.views.paging import ImageEntry
from anagnorisis_tui.ui import commands, job_events, keymap
from anagnorisis_tui.ui.graphics import status_round_trip, take_typed_at_start
from anagnorisis_tui.ui.jobs import Jobs
from anagnorisis_tui.ui.key_input import escape_aware_driver
from anagnorisis_tui.ui.link import Flight
from anagnorisis_tui.ui.messages import JobFinished, JobProgressed, LibraryChanged, RatingChanged
from anagnorisis_tui.ui.pictures import LinkMeter, MeteredFile, Pictures, metered_driver
from anagnorisis_tui.ui.quick_quit import REFRESH_S, QuitWatch, watching_driver
from anagnorisis_tui.ui.state.scope import LibraryScope
from anagnorisis_tui.ui.state.sources import GridSource, ViewSource
from anagnorisis_tui.ui.typeahead import TypeAhead
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import PAGE_SIZE as FIRST_PAGE
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid

if TYPE_CHECKING:
    from anagnorisis_tui.ui.graphics import PictureWidget

# Classes whose bindings the keymap may rename (the mode screens are added to these).
KEYMAP_CLASSES: list[type[DOMNode]] = [ThumbnailGrid]


class LazyScreen:
    """A MODES entry that imports its screen's module when the mode is first shown.

    Search and Train pull in plotting and filter code the first paint does not need. Every
    mode is lazy, so this module imports no screen: screens import the app class to type
    `self.app` (see screens/base.py) without an import cycle.
    """

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    @property
    def screen_class(self) -> type[Screen]:
        screen_class: type[Screen] = getattr(importlib.import_module(self.module), self.name)
        return screen_class

    def __call__(self) -> Screen:
        return self.screen_class()


class AnagnorisisApp(App):
    CSS_PATH = str(Path(__file__).with_name("app.tcss"))  # absolute: subclasses live elsewhere
    TITLE = "anagnorisis"
    MODES = {
        "library": LazyScreen("anagnorisis_tui.ui.screens.library", "LibraryScreen"),
        "search": LazyScreen("anagnorisis_tui.ui.screens.search", "SearchScreen"),
        "viewer": LazyScreen("anagnorisis_tui.ui.screens.viewer", "ViewerScreen"),
        "train": LazyScreen("anagnorisis_tui.ui.screens.train", "TrainScreen"),
    }
    BINDINGS = [
        Binding(
            "f1",
            "switch_mode('library')",
            "Library",
            id="app.mode.library",
            tooltip="The library: folders and the thumbnail grid",
        ),
        Binding(
            "f2,slash",
            "switch_mode('search')",
            "Search",
            id="app.mode.search",
            tooltip="Search and filter",
        ),
        Binding(
            "f3",
            "view_current",
            "Viewer",
            id="app.mode.viewer",
            tooltip="The highlighted image, large",
        ),
        Binding(
            "f4",
            "switch_mode('train')",
            "Train",
            id="app.mode.train",
            tooltip="Train the personal evaluator",
        ),
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Keys and how to use"),
        Binding(
            "ctrl+p",
            "command_palette",
            "Commands",
            id="app.commands",
            show=False,
            tooltip="Every action, searchable",
        ),
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit (running jobs stop cleanly)"),
    ]
    COMMAND_PALETTE_BINDING = "ctrl+p"

    def __init__(
        self,
        settings: Settings,
        library: Library,
        *,
        image_class: type[PictureWidget],
        scan_on_start: bool = True,
        embed_after_scan: bool = True,
    ) -> None:
        self.settings = settings
        # The library shown: its catalogue owns its roots (`library.catalogue.current_root()`:
        # the folder opened, chosen or the session's; the demo's in the demo's own catalogue).
        self.library = library
        self.image_class = image_class
        self.scan_on_start = scan_on_start
        self.embed_after_scan = embed_after_scan
        # Libraries the app showed before this one (the demo), closed when the app ends.
        self._retired: list[Library] = []
        self.thumbnails = ThumbnailStore(cache_dir(library.data_dir))
        self.jobs = Jobs(self, lambda: self.library)
        # Thumbnails the cache lacks, and a query image's vector, are made in a child process:
        # the UI never decodes an original (ui/job_events.py).
        job_events.attach(library, self.jobs, self.thumbnails)
        # Open (create, migrate) the catalogue here, on one thread, before any other thread
        # opens its own connection: two threads migrating a fresh database at once collide.
        library.db  # noqa: B018
        # The library grid's first count and page are read while Textual starts up.
        # Its roots as the views see them (the catalogue's), and the folder chosen in the
        # Library screen's tree, which Search searches within (ui/state/scope.py).
        self.scope = LibraryScope(library)
        self.first_source: ViewSource | None = ViewSource(
            library, self.scope.spec(), title="All images"
        )
        self.first_source.prefetch(FIRST_PAGE)
        self.link_meter = LinkMeter()  # before super().__init__, which picks the driver
        # The link measured by the terminal's own answers, where it answers (ui/link.py).
        round_trip = status_round_trip()
        self.flight = Flight(enabled=round_trip is not None, rtt=round_trip)
        # What the driver writes to the terminal through (None: not a terminal, e.g. tests).
        self.terminal_output: MeteredFile | None = None
        # Set by the command line (ui/terminal_guard.py): gives the terminal back and ends the
        # process, instead of Textual's own shutdown (draining its queues, pruning every widget,
        # joining its threads, then the interpreter's teardown: 0.5-1.5 s on a loaded CPU).
        self.end_process: Callable[[int], None] | None = None
        self.quit_watch = QuitWatch()  # quits from the input thread while the loop is busy
        super().__init__()
        self.job_signal: Signal[str] = Signal(self, "jobs")
        self.job_events = job_events.JobEvents(
            self, self.jobs, self.job_signal, lambda: self.settings.data_dir
        )
        self.library_signal: Signal[None] = Signal(self, "library")
        self.rating_signal: Signal[RatingChanged] = Signal(self, "rating")
        self.keymap_problems: list[str] = []
        self._viewer_context: tuple[GridSource, int] | None = None
        self._viewer_from = "library"
        self._mode_bases: dict[str, Screen] = {}  # each mode's base screen, once shown
        self.typeahead = TypeAhead(self)
        self.pictures = Pictures(settings.pictures, self.link_meter, self.flight)
        self.pictures.on_change = self._pictures_changed

    def get_driver_class(self) -> type[Driver]:
        # Writes to the terminal are timed so `[ui] pictures = "auto"` can follow the link.
        base = super().get_driver_class()
        if base.__name__ != "LinuxDriver":
            return base
        metered = metered_driver(base, self.link_meter, self._output_opened, self.flight)
        # Escape and the key after it, typed together, read as two keys (ui/key_input.py);
        # the terminal's answers to the link's status requests taken out of the keys.
        on_status = self.flight.answer if self.flight.enabled else None
        return watching_driver(escape_aware_driver(metered, on_status), self.quit_watch)

    def _output_opened(self, output: MeteredFile) -> None:
        self.terminal_output = output

    def _pictures_changed(self, level: str) -> None:
        if level == "low":
            text = 'Slow link: pictures sent at low quality ([ui] pictures = "high" keeps them)'
            self.call_later(self.notify, text, title="Pictures", timeout=6, markup=False)

    async def on_event(self, event: events.Event) -> None:
        # Keys go through the type-ahead gate (ui/typeahead.py) so none is lost while a screen
        # is being shown; ctrl+q quits at once, whatever is queued.
        if isinstance(event, events.Key) and not event.is_forwarded:
            if not self.typeahead.released(event):
                self.quit_watch.key_taken()
            if event.key != "ctrl+q" and self.typeahead.intercept(event):
                return
        await super().on_event(event)

    # -- startup -----------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._apply_keymap()
        self.switch_mode("library")
        # Keys typed while the terminal was being asked what it can draw (ui/graphics.py).
        for key, character in take_typed_at_start():
            self.post_message(events.Key(key, character))
        for problem in self.keymap_problems:
            # Long enough to read, and to outlive a slow start on a loaded machine.
            self.notify(problem, title="Settings", severity="warning", markup=False, timeout=30)
        self.call_after_refresh(self._freeze_startup_objects)
        if self.quit_watch.quit is not None:
            self.set_interval(REFRESH_S, self._publish_quit_keys)

    def _publish_quit_keys(self) -> None:
        self.quit_watch.keys = self.typeahead.quit_keys()

    def _freeze_startup_objects(self) -> None:
        # Every repaint allocates thousands of short-lived strips, which regularly sets off a
        # full collection; that collection walks every object alive since startup (Textual,
        # Rich, PIL, numpy: hundreds of thousands) and stalled one page flip in three by
        # about 60 ms. Those objects live as long as the app, so the collector stops visiting
        # them. Objects made later, such as a model loaded for search, are collected as usual.
        gc.freeze()

    def keymap_classes(self) -> list[type[DOMNode]]:
        modes = [m.screen_class for m in self.MODES.values() if isinstance(m, LazyScreen)]
        return [type(self), *modes, *KEYMAP_CLASSES]

    def _apply_keymap(self) -> None:
        if not self.settings.keymap:
            return  # nothing to check: no reason to import every mode's screen now
        known = {info.id for info in keymap.catalogue(self.keymap_classes())}
        good, self.keymap_problems = keymap.validate(dict(self.settings.keymap), known)
        if good:
            self.set_keymap(good)

    # -- the library shown ---------------------------------------------------------------------
    @property
    def on_demo(self) -> bool:
        """Whether the app shows the demo library (its own catalogue, apart from the user's)."""
        return self.library.settings.demo

    def switch_library(self, library: Library) -> None:
        """Show `library` (the user's, after the demo) from now on: its jobs, thumbnails and
        every mode's screen start afresh; nothing of the library shown before stays in view."""
        self.jobs.forget_all()
        self._retired.append(self.library)
        self.library = library
        self.thumbnails.move_to(cache_dir(library.data_dir))
        job_events.attach(library, self.jobs, self.thumbnails)
        library.db  # noqa: B018 - opened (and upgraded) here, before any worker thread
        self.first_source = None
        self.scope = LibraryScope(library)
        self._viewer_context = None
        for mode, screen in type(self).MODES.items():
            if mode != self.current_mode:  # made again, on the new library, when next shown
                self.remove_mode(mode)
                self.add_mode(mode, screen)

    def close_libraries(self) -> None:
        """Close the library shown and those shown before it (the command line, at the end)."""
        for library in (*self._retired, self.library):
            library.close()
        self._retired.clear()

    # -- navigation --------------------------------------------------------------------------
    def switch_mode(self, mode: str) -> AwaitMount:
        shown = super().switch_mode(mode)
        # Remembered here, so other screens can reach a mode's base screen by public API.
        self._mode_bases[mode] = self.screen_stack[0]
        return shown

    def base_screen(self, mode: str) -> Screen | None:
        """The screen at the bottom of `mode`'s stack (None: that mode was never shown)."""
        return self._mode_bases.get(mode)

    def open_viewer(self, source: GridSource | None, index: int) -> None:
        """Show image `index` of `source` in the viewer (next/previous walk the source)."""
        if source is None:
            return
        from anagnorisis_tui.ui.screens.viewer import ViewerScreen

        self._viewer_context = (source, index)
        if self.current_mode != "viewer":
            self._viewer_from = self.current_mode  # where Escape goes back to
        self.switch_mode("viewer")
        viewer = self.screen
        if isinstance(viewer, ViewerScreen):
            viewer.show(source, index)

    def action_view_current(self) -> None:
        """The viewer on the image highlighted in this mode's grid (else as it was left)."""
        if self.current_mode != "viewer":
            for grid in self.screen.query(ThumbnailGrid):
                if grid.source is not None and grid.count:
                    self.open_viewer(grid.source, grid.cursor)
                    return
        self.switch_mode("viewer")

    def show_results(self, title: str, entries: Sequence[ImageEntry]) -> None:
        """Show a list of entries (e.g. more like this) in the Search mode's grid."""
        from anagnorisis_tui.ui.screens.search import SearchScreen

        self.switch_mode("search")
        if isinstance(self.screen, SearchScreen):
            self.screen.show_entries(title, entries)

    def viewer_closed(self, source: GridSource | None, index: int) -> None:
        """The viewer hands its position back so the grid it came from follows it."""
        self.switch_mode(self._return_mode(source))
        for grid in self.screen.query(ThumbnailGrid):
            if source is not None and grid.source is source:
                grid.go_to(index)
                grid.focus()

    def _return_mode(self, source: GridSource | None) -> str:
        for mode in ("library", "search"):
            base = self.base_screen(mode)
            if base is None or source is None:
                continue
            if any(g.source is source for g in base.query(ThumbnailGrid)):
                return mode
        # Not a grid's (the Train screen's rate-next queue): the mode it was opened from.
        return self._viewer_from if self._viewer_from in self.MODES else "library"

    # -- actions -----------------------------------------------------------------------------
    def action_help(self) -> None:
        from anagnorisis_tui.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        self.quit_now()

    def quit_now(self, return_code: int = 0) -> None:
        """Stop every job and end the app: at once where the command line set `end_process`.

        Child processes are killed at once and thread jobs told to stop; what they committed is
        kept and the database stays consistent (every batch is its own transaction, every file
        is renamed into place), so nothing needs waiting for. Without `end_process` (tests),
        Textual's own shutdown runs and the CLI waits for the job threads."""
        self.jobs.stop_all()
        if self.end_process is not None and self.terminal_output is not None:
            self.end_process(return_code)
        self.exit(return_code=return_code)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from anagnorisis_tui.ui.screens.base import AppScreen

        # Search/Train workflow actions reachable from every screen.
        from anagnorisis_tui.ui.workflow_commands import global_commands

        ours = list(commands.system_commands(self, screen))
        if isinstance(screen, AppScreen):
            ours += screen.extra_commands()
        ours += global_commands(self)
        yield from ours
        # Textual's own, less one it offers under a title of ours ("Quit": ours has its key).
        titles = {command.title for command in ours}
        for command in super().get_system_commands(screen):
            if command.title not in titles:
                yield command

    # -- app-wide events ---------------------------------------------------------------------
    @on(JobProgressed)
    def _job_progressed(self, message: JobProgressed) -> None:
        self.job_events.progressed(message)

    @on(JobFinished)
    def _job_finished(self, message: JobFinished) -> None:
        self.job_events.finished(message)

    @on(LibraryChanged)
    def _library_changed(self) -> None:
        self.library_signal.publish(None)

    @on(RatingChanged)
    def _rating_changed(self, message: RatingChanged) -> None:
        self.rating_signal.publish(message)

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        self.job_events.worker_changed(event)  # failures become notices (ui/job_events.py)


def make_app(
    settings: Settings,
    *,
    library: Library | None = None,
    graphics: str | None = None,
    image_class: type[PictureWidget] | None = None,
    scan_on_start: bool = True,
    embed_after_scan: bool = True,
) -> AnagnorisisApp:
    """The app for `settings`. Pass `image_class` or `graphics` (default: settings.graphics)."""
    if image_class is None:
        from anagnorisis_tui.ui.graphics import image_widget_class

        image_class = image_widget_class(graphics or settings.graphics)
    return AnagnorisisApp(
        settings,
        library or Library(settings),
        image_class=image_class,
        scan_on_start=scan_on_start,
        embed_after_scan=embed_after_scan,
    )
