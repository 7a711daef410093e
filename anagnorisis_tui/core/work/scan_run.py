"""One scan, the same for the command line (`scan`, `embed`) and the app (Library mode's scan).

The walk and its comparison with the catalogue run in the caller's process: they load no
decoder and no numpy (tests/cli/test_cli_startup.py, tests/functional/test_ui_process.py). What
is left to read or derive (catalogue, pixel identity, perceptual hashes, thumbnails, vectors)
runs in a child process (runner.py, task `ingest` given the walk), started only when there is
some: a scan that finds nothing new or changed starts no second interpreter. With `embed` the
child always runs, since content catalogued before may still lack its vector.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from anagnorisis_tui.core.base.config import Settings
from anagnorisis_tui.core.base.progress import ProgressCallback
from anagnorisis_tui.core.catalogue.scan_types import FileEvent
from anagnorisis_tui.core.work.results import IngestResult, ThumbEvent, event_from_json

if TYPE_CHECKING:  # the runner loads only when there is work for a child (a no-change scan
    # imports nothing of the child's side: tests/cli/test_scan_process.py)
    from anagnorisis_tui.core.work.runner import ChildTask

ScanEventCallback = Callable[[FileEvent], None]


class ScanRun:
    """Scan `root` (None: the saved library). Thread-safe `kill()` from any thread."""

    def __init__(
        self,
        settings: Settings,
        root: str | None,
        *,
        embed: bool = False,
        files: bool = False,
        batch_size: int | None = None,
    ) -> None:
        self.settings = settings
        self.root = root
        self.embed = embed
        self.files = files  # report each file's outcome to `on_file`
        self.batch_size = batch_size
        self.child: ChildTask | None = None
        self.killed = False
        self._lock = threading.Lock()

    def run(
        self,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        on_file: ScanEventCallback | None = None,
    ) -> IngestResult | None:
        """Walk here, then carry on in a child when there is work; the result, or None when
        `kill()` stopped it (what was committed is kept). Raises what the walk raises
        (ScanError) and TaskFailed for the child."""
        from anagnorisis_tui.core.library import Library
        from anagnorisis_tui.core.work.runner import ChildTask

        report = on_file if self.files else None
        if self._demo_to_make():
            # The demo's pictures are drawn first, in the child (never here), which then scans.
            return self._child(
                ChildTask, {"root": self.root}, report, progress=progress, cancel=cancel
            )
        with Library(self.settings) as lib:
            walked = lib.catalogue.start_scan(
                self.root, progress=progress, cancel=cancel, on_file=report
            )
            if not self.embed and not lib.catalogue.has_work(walked):
                return IngestResult(lib.catalogue.finish_scan(walked, on_file=report))
        return self._child(
            ChildTask, {"walked": walked.to_payload()}, report, progress=progress, cancel=cancel
        )

    def _demo_to_make(self) -> bool:
        if not self.settings.demo:
            return False
        from anagnorisis_tui.core.demo.generate import demo_root, is_complete

        return not is_complete(demo_root(self.settings))

    def _child(
        self,
        child_task: type[ChildTask],
        args: dict[str, Any],
        report: ScanEventCallback | None,
        *,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> IngestResult | None:
        args = {**args, "files": report is not None, "embed": self.embed}
        if self.batch_size:
            args["batch_size"] = self.batch_size
        with self._lock:
            if self.killed:
                return None
            self.child = child = child_task("ingest", self.settings, args)

        def on_event(message: dict[str, Any]) -> None:
            event = event_from_json(message)
            if report is not None and event is not None and not isinstance(event, ThumbEvent):
                report(event)

        value = child.run(progress=progress, cancel=cancel, on_event=on_event)
        return None if value is None else IngestResult.from_json(value)

    def kill(self) -> None:
        """Stop at once: no child starts after this; a running one is killed."""
        with self._lock:
            self.killed = True
            child = self.child
        if child is not None:
            child.kill()
