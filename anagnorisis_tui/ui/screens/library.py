"""Library mode: the saved folder, scan/thumbnail/embedding progress, folder tree, and the grid.

Saving a folder starts the scan, which in one child process catalogues, caches thumbnails and,
where a model is available, embeds. It is an app job (ui/jobs.py): it keeps running while the
user is in another mode, shows its progress in the mode bar, and stops cleanly on `x` or quit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from anagnorisis_tui.core.base.progress import ProgressCallback
from anagnorisis_tui.core.catalogue.scan_types import ScanSummary
from anagnorisis_tui.core.catalogue.thumbnails import ThumbnailSummary
from anagnorisis_tui.core.errors import UserError
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.work.results import IngestResult
from anagnorisis_tui.ui.messages import LibraryChanged
from anagnorisis_tui.ui.screens.base import AppScreen
from anagnorisis_tui.ui.state.scope import ALL, Scope
from anagnorisis_tui.ui.state.sources import ViewSource
from anagnorisis_tui.ui.state.text import NO_IMAGES, describe, safe, scan_wait_text
from anagnorisis_tui.ui.widgets.folder_tree import FolderTree
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid
from anagnorisis_tui.ui.widgets.job_panel import JobPanel

# While a scan runs, the grid and tree re-read the catalogue at most this often (seconds).
RELOAD_EVERY = 2.0


class LibraryScreen(AppScreen):
    BINDINGS = [
        Binding(
            "o",
            "set_library",
            "Folder…",
            id="library.set_folder",
            tooltip="Choose and save the library folder (starts the scan)",
        ),
        Binding(
            "r",
            "rescan",
            "Rescan",
            id="library.rescan",
            tooltip="Scan the library again (unchanged files are not reread)",
        ),
        Binding(
            "e",
            "embed",
            "Embed",
            id="library.embed",
            tooltip="Compute CLIP vectors for search (needs the model)",
        ),
        Binding(
            "x",
            "cancel_jobs",
            "Cancel",
            id="library.cancel",
            tooltip="Stop the running scan, thumbnails and embedding",
        ),
        Binding(
            "f",
            "focus_folders",
            "Folders",
            id="library.folders",
            tooltip="Move to the folder tree",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._last_reload = 0.0
        self._search_line = ""  # "search: …" from the readiness check (_check_search)

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="library-body"):
            with Vertical(id="sidebar"):
                yield Static("", id="root-label", markup=False)
                yield JobPanel(id="jobs")
                yield FolderTree(id="folders")
            with Vertical(id="library-main"):
                yield ThumbnailGrid(
                    image_class=self.app.image_class,
                    thumbnails=self.app.thumbnails,
                    typeahead=self.app.typeahead,
                    empty_text=NO_IMAGES,
                    id="grid",
                )
                yield Static("", id="status", markup=False)

    @property
    def grid(self) -> ThumbnailGrid:
        return self.query_one("#grid", ThumbnailGrid)

    def on_mount(self) -> None:
        app = self.app
        app.job_signal.subscribe(self, self._job_event)
        # The grid follows ratings and catalogue changes itself (grid_loading.py).
        app.library_signal.subscribe(self, self._library_changed)
        self._show_scope(ALL)
        self.grid.focus()
        self._update_root_label()
        self._first_count = True
        if app.scan_on_start and self._roots():
            self.start_scan()

    @on(ThumbnailGrid.Counted, "#grid")
    def _counted(self) -> None:
        # The folder tree waits for the grid's first count: the first paint comes first.
        if self._first_count:
            self._first_count = False
            self._load_folders()

    # -- catalogue views -----------------------------------------------------------------
    def _roots(self) -> list[str]:
        """The library shown: its roots are the catalogue's (ui/state/scope.py asks it)."""
        return self.app.scope.roots()

    def _update_root_label(self) -> None:
        roots = self._roots()
        label = Text("Library: ", style="bold")
        if self.app.on_demo:
            label.append("the demo (o opens your own folder)")
        else:
            label.append(", ".join(safe(r) for r in roots) if roots else "not set (press o)")
        label.append("\nModel: ", style="bold")
        label.append(self._model_text(roots))
        if self._search_line:
            label.append("\n" + self._search_line)
        self.query_one("#root-label", Static).update(label)
        self._check_search()

    @work(thread=True, exclusive=True, group="search-readiness", exit_on_error=False)
    def _check_search(self) -> None:
        """Whether search can work from local files: said at once, not when a search fails.
        In a thread: the hub client's import costs time; no network is used."""
        from anagnorisis_tui.core.semantic.model_choice import ModelUnavailable

        try:
            line = self.library.semantic.search_readiness().text
        except (ModelUnavailable, OSError):
            line = ""  # the Model line already says why there is none
        self.app.call_from_thread(self._show_search_line, line)

    def _show_search_line(self, line: str) -> None:
        if line != self._search_line:
            self._search_line = line
            self._update_root_label()

    def _model_text(self, roots: list[str]) -> str:
        """The model searches use, named; resolved without loading it (no torch)."""
        choose = self.library.semantic.model_choice
        from anagnorisis_tui.core.semantic import model_choice as models

        try:
            choice = choose()
        except models.ModelUnavailable as exc:
            return f"none ({exc})"
        return models.describe(choice, demo=self.app.on_demo)

    def _library_changed(self, _: None) -> None:
        self._last_reload = time.monotonic()
        self._update_root_label()
        self._load_folders()

    def reload(self) -> None:
        """Re-read counts, pages and folders (after a scan batch, a move, a new root)."""
        self._last_reload = time.monotonic()
        self._update_root_label()
        self.grid.reload()
        self._load_folders()

    @work(thread=True, exclusive=True, group="library-folders", exit_on_error=False)
    def _load_folders(self) -> None:
        folders = self.library.catalogue.folders
        data = [(root, folders(root)) for root in self._roots()]
        self.app.call_from_thread(self.query_one(FolderTree).load, data)

    def _show_scope(self, scope: Scope) -> None:
        # The Search screen searches within the folder chosen here (read when it is shown).
        self.app.scope.chosen = scope
        title = scope.folder or scope.root or "All images"
        spec = self.app.scope.spec(scope)
        first = self.app.first_source
        if first is not None and first.spec == spec:
            self.app.first_source = None
            self.grid.set_source(first)  # its count and first page are being read already
        else:
            self.grid.set_source(ViewSource(self.library, spec, title=title))

    @on(FolderTree.ScopeChosen)
    def _scope_chosen(self, message: FolderTree.ScopeChosen) -> None:
        self._show_scope(message.scope)

    @on(ThumbnailGrid.Highlighted, "#grid")
    def _highlighted(self, message: ThumbnailGrid.Highlighted) -> None:
        status = self.query_one("#status", Static)
        status.update(describe(message.entry) if message.entry else "")

    @on(ThumbnailGrid.Selected, "#grid")
    def _selected(self, message: ThumbnailGrid.Selected) -> None:
        self.app.open_viewer(message.grid.source, message.index)

    # -- jobs ------------------------------------------------------------------------------
    def _job_event(self, name: str) -> None:
        scanning = name == "scan" and self.app.jobs.running("scan")
        if name == "scan":
            self._show_scan_progress()
        if scanning and time.monotonic() - self._last_reload >= RELOAD_EVERY:
            self.reload()

    def _show_scan_progress(self) -> None:
        """While the library is made or scanned, the empty grid says so, with the progress."""
        job = self.app.jobs.jobs.get("scan")
        if job is None or not job.running:
            self.grid.set_empty_text(NO_IMAGES)
            return
        roots = self._roots()
        text = scan_wait_text(job.progress, roots[0] if roots else None, demo=self.app.on_demo)
        self.grid.set_empty_text(text)

    def start_scan(self, *, embed: bool | None = None) -> None:
        """Scan and ingest the library as the command line does (core/work/scan_run.py): the
        walk in a thread here, what is new in a child process: catalogue, pixel identity,
        perceptual hashes, thumbnails and, where a model is available, vectors, from one decode
        of each new image (core/work/tasks.py)."""
        from anagnorisis_tui.core.work.scan_run import ScanRun

        roots = self._roots()
        if embed is None:
            embed = self.app.embed_after_scan and self._embedding_ready()
        title = "Scanning and embedding" if embed else "Scanning"
        scan = ScanRun(self.app.jobs.settings(), roots[0] if roots else None, embed=embed)
        started = self.app.jobs.start(
            "scan", title, scan.run, on_done=self._scan_done, stoppable=scan
        )
        if started is None and embed:
            self.notify("A scan is running; press e again when it has finished.", markup=False)
        self._show_scan_progress()
        self.app.refresh_bindings()

    def _scan_done(self, result: IngestResult | None) -> None:
        if result is None:
            return  # stopped by quitting
        summary = result.scan
        self.post_message(LibraryChanged())
        self.reload()
        self.notify(self._scan_summary(summary), title="Scan", markup=False)
        ingest = result.ingest
        if ingest.failed:
            self.notify(
                f"{ingest.failed:,} images could not be decoded (see `anagnorisis-tui errors`).",
                title="Scan",
                severity="warning",
                markup=False,
            )
        if ingest.model_error:
            self.notify(
                f"No embedding model: {ingest.model_error}",
                title="Semantic search",
                severity="warning",
                timeout=12,
                markup=False,
            )

    @staticmethod
    def _scan_summary(summary: ScanSummary) -> str:
        counts = {
            "files": summary.files,
            "new": summary.new,
            "changed": summary.changed,
            "moved": summary.moved,
            "vanished": summary.vanished,
            "errors": summary.errors,
        }
        parts = [f"{n:,} {label}" for label, n in counts.items() if n]
        text = ", ".join(parts) or "no images found"
        if summary.cancelled:
            text = "cancelled: " + text
        return text

    def start_thumbnails(self) -> None:
        library = self.library
        spec = self.app.scope.spec()

        def job(progress: ProgressCallback, cancel: threading.Event) -> ThumbnailSummary:
            return library.catalogue.make_thumbnails(
                ((entry.hash, entry.os_path) for entry in library.views.walk(spec)),
                total=library.views.count(spec),
                progress=progress,
                cancel=cancel,
            )

        self.app.jobs.start("thumbnails", "Thumbnails", job, on_done=self._thumbnails_done)

    def _thumbnails_done(self, summary: ThumbnailSummary) -> None:
        if summary.failed:
            self.notify(
                f"{summary.failed:,} images could not be read for thumbnails.",
                title="Thumbnails",
                severity="warning",
                markup=False,
            )
        self.grid.reload()

    def _embedding_ready(self) -> bool:
        """Whether a model is configured and present; never imports torch (that is for the job).

        Without one, a notice says how to get one; browsing and rating work regardless.
        """
        from anagnorisis_tui.core.semantic.model_choice import ModelUnavailable

        try:
            self.library.semantic.model_choice()
        except ModelUnavailable as exc:
            self.notify(
                f"Semantic search is off: {exc}",
                title="No embedding model",
                severity="warning",
                timeout=12,
                markup=False,
            )
            return False
        return True

    # -- actions ---------------------------------------------------------------------------
    def action_set_library(self) -> None:
        from anagnorisis_tui.ui.screens.set_library import SetLibraryScreen

        roots = self._roots()
        current = roots[0] if roots and not self.app.on_demo else ""  # the demo: theirs to type
        self.app.push_screen(SetLibraryScreen(current), self._library_chosen)

    def _library_chosen(self, path: str | None) -> None:
        if not path:
            return
        # From the demo, the user's own library: its own catalogue, apart from the demo's.
        library = Library(self.app.settings) if self.app.on_demo else self.library
        try:
            saved = library.catalogue.set_root(path)
        except (UserError, OSError) as exc:
            if library is not self.library:
                library.close()
            self.notify(str(exc), title="Library folder", severity="error", markup=False)
            return
        if library is not self.library:
            self.app.switch_library(library)
            self._first_count = True
        self._show_scope(ALL)
        self.notify(f"Saved {safe(saved)}; scanning…", title="Library folder", markup=False)
        self.post_message(LibraryChanged())
        self._update_root_label()
        self.start_scan()

    def action_rescan(self) -> None:
        if not self._roots():
            self.action_set_library()
            return
        self.start_scan()

    def action_embed(self) -> None:
        if not self._embedding_ready():
            return
        self.start_scan(embed=True)

    def action_cancel_jobs(self) -> None:
        jobs = self.app.jobs
        if not jobs.any_running():
            self.notify("Nothing is running.")
            return
        jobs.cancel_all()
        self.query_one(JobPanel).refresh_jobs()

    def action_focus_folders(self) -> None:
        tree = self.query_one(FolderTree)
        if tree.has_focus:
            self.grid.focus()
        else:
            tree.focus()

    def extra_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand(
            "Build all thumbnails",
            "Cache thumbnails for the whole library now",
            self.start_thumbnails,
        )
