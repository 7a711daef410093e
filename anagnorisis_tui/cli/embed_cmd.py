"""`anagnorisis-tui embed [LIBRARY]`: compute CLIP vectors for every image (resumable).

Scans LIBRARY first (cheap when nothing changed), then embeds what has no vector for the
chosen model and refreshes the search index. Ctrl-C stops after the current batch; everything
finished is kept and the next run resumes.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable

from anagnorisis_tui.cli.model_args import add_model_options, settings_with_model


def register(sub: argparse._SubParsersAction, common: Callable[..., None]) -> None:
    parser = sub.add_parser(
        "embed",
        help="compute CLIP vectors for LIBRARY (default: the saved library) for search",
        description="Scan LIBRARY, then compute a CLIP vector for every image that has none "
        "for the chosen model, and refresh the search index. Copies and renamed files are "
        "never recomputed; an interrupted run resumes where it stopped.",
    )
    common(parser)
    parser.add_argument("library", nargs="?", metavar="LIBRARY", help="image folder")
    add_model_options(parser)
    parser.add_argument("--batch", type=int, default=None, metavar="N", help="images per batch")
    parser.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from anagnorisis_tui.cli import CommandError
    from anagnorisis_tui.cli.scan_cmd import ProgressLine
    from anagnorisis_tui.core.base import fsnames
    from anagnorisis_tui.core.catalogue.scan import ScanError
    from anagnorisis_tui.core.library import Library
    from anagnorisis_tui.core.semantic.model_choice import ModelUnavailable

    settings = settings_with_model(args)
    lib = Library(settings)
    cancel = threading.Event()
    line = ProgressLine(sys.stderr) if sys.stderr.isatty() and not args.quiet else None

    def stop(_signum, _frame) -> None:
        cancel.set()

    old_int = signal.signal(signal.SIGINT, stop)
    try:
        root = args.library or (lib.catalogue.roots() or [None])[0]
        if root is None:
            raise CommandError("no library folder: pass LIBRARY or save one with `scan LIBRARY`")
        try:
            scanned = lib.catalogue.scan(root, progress=line, cancel=cancel)
        except ScanError as exc:
            raise CommandError(str(exc)) from None
        if line:
            line.clear()
        if cancel.is_set():
            print("interrupted during the scan; nothing embedded", file=sys.stderr)
            return 130
        try:
            embedder = lib.semantic.embedder()
        except ModelUnavailable as exc:
            raise CommandError(str(exc)) from None
        summary = lib.semantic.embed(progress=line, cancel=cancel, batch_size=args.batch)
    finally:
        signal.signal(signal.SIGINT, old_int)
        if line is not None:
            line.clear()
        lib.close()
    if not args.quiet:
        done, total = lib.semantic.vector_counts()
        print(
            f"{fsnames.display(scanned.root)}: embedded {summary.embedded:,} images in "
            f"{summary.seconds:.1f} s ({summary.rate:,.1f} images/s) with "
            f"{embedder.choice.label} on {embedder.device}"
        )
        extra = []
        if summary.errors:
            extra.append(f"{summary.errors:,} could not be decoded (see `anagnorisis-tui errors`)")
        if summary.missing:
            extra.append(f"{summary.missing:,} vanished since the scan")
        if extra:
            print("; ".join(extra))
        print(f"{done:,} of {total:,} present images have vectors for {lib.semantic.model_id}")
        if summary.cancelled:
            print("interrupted: run `anagnorisis-tui embed` again to finish (nothing is lost)")
    return 130 if summary.cancelled else 0
