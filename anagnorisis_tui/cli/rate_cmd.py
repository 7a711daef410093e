"""`anagnorisis-tui rate IMAGE VALUE`: rate one library image 0–10 (or `clear` its rating)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable


def register(sub: argparse._SubParsersAction, common: Callable[..., None]) -> None:
    parser = sub.add_parser(
        "rate",
        help="rate an image of the library 0-10",
        description="Rate IMAGE (a file in a scanned library) from 0 to 10; decimals are "
        "accepted. `clear` removes the rating (the history keeps every earlier value).",
    )
    common(parser)
    parser.add_argument("image", metavar="IMAGE", help="path of an image in the library")
    parser.add_argument("value", metavar="VALUE", help="0 to 10, or `clear`")
    parser.set_defaults(func=run)


def library_image(library, path: str) -> str:
    """The content hash of a library image, or a CommandError saying why there is none."""
    from anagnorisis_tui.cli import CommandError

    content = library.ratings.image_hash(path)
    if content is not None:
        return content
    if not os.path.exists(path):
        raise CommandError(f"no such file: {path}")
    raise CommandError(
        f"not in the library: {path} (scan its folder first: `anagnorisis-tui scan FOLDER`)"
    )


def run(args: argparse.Namespace) -> int:
    from anagnorisis_tui.cli import settings_from_args
    from anagnorisis_tui.core.base.ratings import parse_rating
    from anagnorisis_tui.core.library import Library

    with Library(settings_from_args(args)) as library:
        clear = args.value.strip().lower() == "clear"
        if not clear:
            value = parse_rating(args.value)
        content = library_image(library, args.image)
        if clear:
            library.ratings.clear(content)
            print(f"cleared the rating of {args.image}")
        else:
            library.ratings.set(content, value)
            print(f"rated {args.image}: {value:g}")
    return 0
