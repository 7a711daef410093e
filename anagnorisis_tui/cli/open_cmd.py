"""`anagnorisis-tui [LIBRARY]`: open the app on a folder (or the saved library, or the demo)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def register(sub: argparse._SubParsersAction, common: Callable[..., None]) -> None:
    parser = sub.add_parser(
        "open",
        help="open the app on LIBRARY (default: the saved library, else a demo library)",
        description="Open the app on LIBRARY. With no LIBRARY: the saved library, else a small "
        "demo library made from sample images that ship inside installed packages.",
    )
    common(parser)
    parser.add_argument("library", nargs="?", metavar="LIBRARY", help="image folder")
    parser.add_argument(
        "--graphics",
        choices=["auto", "kitty", "sixel", "halfcell", "unicode"],
        help="terminal graphics protocol for images (default: auto-detect)",
    )
    parser.set_defaults(func=run)


def library_from_args(args: argparse.Namespace):
    """(settings, library folder) for `open`: see core.demo.resolve_library."""
    from anagnorisis_tui.cli import CommandError, settings_from_args
    from anagnorisis_tui.core.demo import LibraryNotFound, resolve_library

    settings = settings_from_args(args, graphics=getattr(args, "graphics", None))
    try:
        return settings, resolve_library(settings, args.library)
    except LibraryNotFound as exc:
        raise CommandError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    # Interim until the terminal app lands (issue 6): scan the library and print the summary.
    from anagnorisis_tui.cli.scan_cmd import run_scan

    settings, root = library_from_args(args)
    print(f"scanning {root} (the terminal app is not built yet)")
    return run_scan(settings, str(root))
