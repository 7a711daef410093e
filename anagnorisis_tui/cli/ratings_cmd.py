"""`anagnorisis-tui ratings export|import`: ratings as CSV/JSON files or XMP sidecars."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from anagnorisis_tui.core.base.fsnames import display


def register(sub: argparse._SubParsersAction, common: Callable[..., None]) -> None:
    parser = sub.add_parser(
        "ratings",
        help="export or import ratings (CSV, JSON, XMP sidecars)",
        description="Move ratings in and out: CSV/JSON/JSON Lines files keyed by content hash "
        "(with paths), or the xmp:Rating stars of XMP sidecars read by digiKam, darktable and "
        "Lightroom (our 0-10 rating r is ceil(r/2) stars; see README).",
    )
    common(parser)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, help_text in (
        ("export", "write every rating to FILE, or sidecars with --xmp"),
        ("import", "read ratings from FILE, or from sidecars with --xmp"),
    ):
        action = actions.add_parser(name, help=help_text, description=help_text)
        common(action)
        action.add_argument("file", nargs="?", metavar="FILE", help=".csv, .json or .jsonl")
        action.add_argument("--format", choices=["csv", "json", "jsonl"], help="file format")
        action.add_argument(
            "--xmp",
            action="store_true",
            help="XMP sidecars beside the images"
            + (" (writes inside the library folder)" if name == "export" else ""),
        )
        if name == "export":
            action.add_argument(
                "--private",
                action="store_true",
                help="make the written files readable by you alone (0600); by default they "
                "get your umask, as any file you write",
            )
            action.add_argument(
                "--overwrite",
                action="store_true",
                help="with --xmp: replace stars another app set in an existing sidecar "
                "(by default they are kept and listed)",
            )
        if name == "import":
            action.add_argument(
                "--keep-existing",
                action="store_true",
                help="do not change images that already have a rating",
            )
        action.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from anagnorisis_tui.cli import CommandError, settings_from_args
    from anagnorisis_tui.core.library import Library

    if args.xmp == bool(args.file):
        raise CommandError("give either FILE or --xmp")
    with Library(settings_from_args(args)) as library:
        if args.action == "export" and args.xmp:
            written = library.ratings.export_xmp(overwrite=args.overwrite, private=args.private)
            print(
                f"sidecars: {written.written} written, {written.unchanged} already up to date"
                + (f", {len(written.kept)} kept with another app's stars" if written.kept else "")
            )
            _errors(written.kept)
            _errors(written.errors)
            return 1 if written.errors else 0
        if args.action == "export":
            count = library.ratings.export_ratings(args.file, args.format, private=args.private)
            print(f"exported {count} ratings to {args.file}")
            return 0
        if args.xmp:
            side, rep = library.ratings.import_xmp(keep_existing=args.keep_existing)
            print(f"sidecars: {side.imported} with a rating, {side.no_rating} unrated")
        else:
            rep = library.ratings.import_ratings(
                args.file, args.format, keep_existing=args.keep_existing
            )
            side = None
        print(
            f"imported: {rep.added} added, {rep.changed} changed, {rep.unchanged} unchanged"
            + (f", {rep.kept_existing} kept as they were" if rep.kept_existing else "")
            + (
                f"; {rep.not_in_library} for images not in the library"
                if rep.not_in_library
                else ""
            )
        )
        if side is not None:
            _errors(side.errors)
            if side.errors:
                print(f"{len(side.errors)} sidecars not read", file=sys.stderr)
            return 1 if side.errors else 0
        for line, reason in rep.errors:
            print(f"{args.file}:{line}: {display(reason)}", file=sys.stderr)
        if rep.errors:
            print(f"{len(rep.errors)} broken rows skipped", file=sys.stderr)
        return 1 if rep.errors else 0


def _errors(errors: list[tuple[str, str]]) -> None:
    for path, reason in errors:
        print(f"{display(path)}: {display(reason)}", file=sys.stderr)
