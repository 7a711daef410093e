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


def run(args: argparse.Namespace) -> int:
    # Replaced by the TUI launch (issue 6). Until then: scan and print the summary.
    from anagnorisis_tui.cli import CommandError

    raise CommandError("the terminal app is not built yet; use `anagnorisis-tui scan LIBRARY`")
