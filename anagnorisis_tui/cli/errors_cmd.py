"""`anagnorisis-tui errors [LIBRARY] [--json]`: the files a scan could not read, with reasons."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable


def register(sub: argparse._SubParsersAction, common: Callable[..., None]) -> None:
    parser = sub.add_parser(
        "errors",
        help="list files the last scans could not read, with the reason",
        description="List every file recorded as unreadable by a scan (under LIBRARY if given), "
        "with the reason. A file is retried when it changes.",
    )
    common(parser)
    parser.add_argument("library", nargs="?", metavar="LIBRARY", help="image folder")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from anagnorisis_tui.cli import settings_from_args
    from anagnorisis_tui.core.base import fsnames
    from anagnorisis_tui.core.library import Library

    with Library(settings_from_args(args)) as lib:
        rows = lib.catalogue.errors(args.library)
    for path, reason in rows:
        if args.json:
            print(json.dumps({"path": path, "reason": reason}, ensure_ascii=False))
        else:
            # One line per file: a decoder's reason may hold newlines or escape sequences.
            print(f"{fsnames.display(path)}\t{fsnames.display(reason)}")
    if not rows and not args.json:
        print("no errors")
    return 0
