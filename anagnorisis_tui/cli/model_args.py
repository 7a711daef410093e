"""Options shared by the commands that need a CLIP model (embed, search, similar), and what
they show while a model gets ready on its first use."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from anagnorisis_tui.core.base.progress import Progress


def add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument(
        "--model",
        metavar="NAME",
        help="open_clip architecture (e.g. ViT-B-32), `tiny-clip` (the small demo/test model "
        "that ships with the app), local-dir:/folder or hf-hub:org/repo[@revision] "
        "(settings: model.name; env ANAGNORISIS_MODEL)",
    )
    group.add_argument(
        "--pretrained",
        metavar="TAG_OR_PATH",
        help="open_clip pretrained tag (downloaded once, needs internet) or a local weights "
        "file or folder (settings: model.pretrained; env ANAGNORISIS_PRETRAINED)",
    )
    group.add_argument(
        "--device",
        metavar="DEVICE",
        help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps (settings: "
        "model.device; env ANAGNORISIS_DEVICE)",
    )


def settings_with_model(args: argparse.Namespace):
    from anagnorisis_tui.cli import settings_from_args

    return settings_from_args(
        args,
        model=getattr(args, "model", None),
        pretrained=getattr(args, "pretrained", None),
        device=getattr(args, "device", None),
    )


class ModelNotes:
    """A model's first use on a stream that is no terminal: a line when the download or the
    one-time preparation starts and one when it ends (a log stays readable)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started: set[str] = set()
        self.ended: set[str] = set()

    def __call__(self, p: Progress) -> None:
        from anagnorisis_tui.core.semantic import model_progress

        if p.stage == model_progress.DOWNLOAD:
            if p.stage not in self.started:
                size = f" ({p.total / 1e6:,.1f} MB)" if p.total else ""
                resumed = f", resuming at {p.done_before / 1e6:,.1f} MB" if p.done_before else ""
                self._say(p.stage, f"downloading {p.detail}{size}{resumed}")
            elif p.total and p.done >= p.total and p.stage not in self.ended:
                self.ended.add(p.stage)
                self._say(p.stage, f"downloaded {p.detail} in {p.elapsed:.0f} s")
        elif p.stage == model_progress.PREPARE:
            if p.stage not in self.started:
                self._say(p.stage, f"{model_progress.PREPARE_TITLE}...")
            if p.total and p.done >= p.total and p.stage not in self.ended:
                self.ended.add(p.stage)
                self._say(p.stage, f"model prepared in {p.elapsed:.0f} s")

    def _say(self, stage: str, text: str) -> None:
        self.started.add(stage)
        print(text, file=self.stream, flush=True)


class ModelFeedback:
    """What a command that may load a model for the first time shows and how it stops.

    `with ModelFeedback(quiet) as feedback: lib.semantic.search(..., **feedback.kwargs)`: the
    download (bytes, rate, ETA) and the one-time preparation (step, time so far) on stderr -
    a self-overwriting line on a terminal, a line at each start and end elsewhere - and Ctrl-C
    as `feedback.cancel`: the download stops with its bytes kept for the next run. A second
    Ctrl-C interrupts at once.
    """

    def __init__(self, quiet: bool = False) -> None:
        from anagnorisis_tui.cli.scan_cmd import ProgressLine

        self.cancel = threading.Event()
        self.line = ProgressLine(sys.stderr) if sys.stderr.isatty() and not quiet else None
        self.notes = None if quiet or self.line is not None else ModelNotes(sys.stderr)
        self._old_handler: Any = None

    @property
    def kwargs(self) -> dict[str, Any]:
        return {"progress": self.progress, "cancel": self.cancel}

    def progress(self, p: Progress) -> None:
        from anagnorisis_tui.core.semantic import model_progress

        if not model_progress.is_model_stage(p):
            return
        if self.line is not None:
            self.line(p)
        elif self.notes is not None:
            self.notes(p)

    def _stop(self, _signum: int, _frame: Any) -> None:
        self.cancel.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def __enter__(self) -> ModelFeedback:
        if threading.current_thread() is threading.main_thread():
            self._old_handler = signal.signal(signal.SIGINT, self._stop)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._old_handler is not None:
            signal.signal(signal.SIGINT, self._old_handler)
        if self.line is not None:
            self.line.clear()


def demo_model_note(settings: Any) -> str | None:
    """The line that names the demo's shipped model for a command on the demo library
    (`--demo`) where no model was chosen, as the app uses it; None elsewhere."""
    from anagnorisis_tui.core.semantic import model_choice

    if not settings.demo or not settings.session_model:
        return None
    choice = model_choice.resolve(settings=settings)
    return f"the demo library: {model_choice.describe(choice, demo=True)}"
