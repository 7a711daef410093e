"""`anagnorisis-tui vectors export|import FILE`: move CLIP vectors between machines.

Embed where it is fast (a desktop with a GPU, same model and weights), export there, import on
the NAS: the vectors are keyed by content hash, so paths may differ between the two machines.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from anagnorisis_tui.cli.model_args import add_model_options, settings_with_model


def register(sub: argparse._SubParsersAction, common: Callable[..., None]) -> None:
    parser = sub.add_parser(
        "vectors",
        help="export or import CLIP vectors (embed on a fast machine, use them on the NAS)",
        description="Move the CLIP vectors of one model between libraries: a file keyed by "
        "content hash and model id. Importing needs the same model and weights as the "
        "exporting library; the search index is rebuilt afterwards.",
    )
    common(parser)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, help_text in (
        ("export", "write every vector of the chosen model to FILE"),
        ("import", "add the vectors in FILE to this library (the model must match)"),
    ):
        action = actions.add_parser(name, help=help_text, description=help_text)
        common(action)
        action.add_argument("file", metavar="FILE", help="the vectors file (SQLite)")
        add_model_options(action)
        action.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from anagnorisis_tui.cli import CommandError
    from anagnorisis_tui.core.errors import UserError
    from anagnorisis_tui.core.library import Library

    with Library(settings_with_model(args)) as lib:
        semantic = lib.semantic
        try:
            model_id = semantic.model_id
            if args.action == "export":
                count = semantic.export_vectors(args.file)
                print(f"exported {count:,} vectors for {model_id} to {args.file}")
                return 0
            summary = semantic.import_vectors(args.file)
        except UserError as exc:
            raise CommandError(str(exc)) from None
        done, total = semantic.vector_counts()
    print(
        f"imported {summary.imported:,} vectors for {model_id} "
        f"({summary.in_library:,} of them for images in this library); "
        f"{summary.already:,} were here already"
    )
    if summary.bad:
        print(
            f"{summary.bad:,} malformed vectors skipped (not a content hash, wrong length, "
            "NaN or infinite values, or all zero)",
            file=sys.stderr,
        )
    if summary.errors_cleared:
        print(f"{summary.errors_cleared:,} images that could not be embedded here now have one")
    print(f"{done:,} of {total:,} present images have vectors for {model_id}")
    return 0
