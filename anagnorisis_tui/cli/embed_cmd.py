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

from anagnorisis_tui.cli.model_args import (
    ModelNotes,
    add_model_options,
    demo_model_note,
    settings_with_model,
)


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
    """Scan and embed in one child process (the runner the app uses): each new image is read
    and decoded once for its catalogue entry, identity, thumbnail, perceptual hash and vector."""
    from anagnorisis_tui.cli import CommandError
    from anagnorisis_tui.cli.scan_cmd import ProgressLine, command_error
    from anagnorisis_tui.core.base import fsnames
    from anagnorisis_tui.core.demo.generate import demo_root
    from anagnorisis_tui.core.library import Library
    from anagnorisis_tui.core.work.scan_run import ScanRun

    settings = settings_with_model(args)
    cancel = threading.Event()
    line = ProgressLine(sys.stderr) if sys.stderr.isatty() and not args.quiet else None
    # A first use downloads and prepares the model: on the line, or a note at each start and end.
    notes = None if args.quiet or line is not None else ModelNotes(sys.stderr)

    def stop(_signum, _frame) -> None:
        cancel.set()

    with Library(settings) as lib:
        roots = lib.catalogue.roots()
        root = args.library or (roots[0] if roots else None)
    if settings.demo and root is None:  # `embed --demo`: the demo's pictures, made first
        root = demo_root(settings)
        root.mkdir(parents=True, exist_ok=True)
    # The demo library embeds with its shipped model unless one was chosen.
    note = demo_model_note(settings)
    if note and not args.quiet:
        print(note, file=sys.stderr)
    if root is None:
        raise CommandError(
            "no library folder: pass LIBRARY or save one with `scan LIBRARY` "
            "(the demo library: `embed --demo`)"
        )
    old_int = signal.signal(signal.SIGINT, stop)
    try:
        scan = ScanRun(settings, str(root), embed=True, batch_size=args.batch)
        result = scan.run(progress=line or notes, cancel=cancel)
    except Exception as exc:
        raise command_error(exc, settings) from None
    finally:
        signal.signal(signal.SIGINT, old_int)
        if line is not None:
            line.clear()
    assert result is not None  # only kill() gives None, and nothing here kills it
    scanned, ingest, embed = result.scan, result.ingest, result.embed
    if ingest.model_error:
        if cancel.is_set():  # Ctrl-C during the download: the bytes so far are kept
            print(f"interrupted: {ingest.model_error}", file=sys.stderr)
            return 130
        raise CommandError(ingest.model_error)
    if embed is None:
        print("interrupted during the scan; nothing embedded", file=sys.stderr)
        return 130
    cancelled = embed.cancelled or scanned.cancelled
    if not args.quiet:
        with Library(settings) as lib:
            done, total = lib.semantic.vector_counts()
            model_id = lib.semantic.model_id
        seconds = ingest.seconds or scanned.seconds
        rate = embed.embedded / seconds if seconds else 0.0
        print(
            f"{fsnames.display(scanned.root)}: embedded {embed.embedded:,} images in "
            f"{seconds:.1f} s ({rate:,.1f} images/s) with {embed.label} on {embed.device}"
            f" ({embed.engine})"
        )
        extra = []
        errors = embed.errors + ingest.failed
        if errors:
            extra.append(f"{errors:,} could not be decoded (see `anagnorisis-tui errors`)")
        missing = embed.missing + ingest.missing
        if missing:
            extra.append(f"{missing:,} vanished since the scan")
        if extra:
            print("; ".join(extra))
        print(f"{done:,} of {total:,} present images have vectors for {model_id}")
        if cancelled:
            print("interrupted: run `anagnorisis-tui embed` again to finish (nothing is lost)")
    return 130 if cancelled else 0
