"""`anagnorisis-tui [LIBRARY]`: open the app on a folder (or the saved library, or the demo)."""

from __future__ import annotations

import argparse
import sys
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
    parser.add_argument(
        "--pictures",
        choices=["auto", "high", "low"],
        help="picture quality: low sends fewer bytes (sixel colours, kitty resolution); "
        "auto (default) turns low when the link to the terminal is slow",
    )
    parser.set_defaults(func=run)


def library_from_args(args: argparse.Namespace):
    """(settings, Library, library folder) for `open`: see core.demo.resolve_library."""
    from anagnorisis_tui.cli import settings_from_args
    from anagnorisis_tui.core.demo.generate import resolve_library
    from anagnorisis_tui.core.library import Library

    settings = settings_from_args(
        args, graphics=getattr(args, "graphics", None), pictures=getattr(args, "pictures", None)
    )
    library = Library(settings)
    try:
        return settings, library, resolve_library(settings, args.library, library)
    except BaseException:
        library.close()
        raise


def run(args: argparse.Namespace) -> int:
    """Resolve the library, detect the terminal's graphics, run the app, stop jobs cleanly."""
    from anagnorisis_tui.core.demo.generate import use_demo_model

    settings, library, root = library_from_args(args)
    with library:
        use_demo_model(settings, root)
        # textual-image asks the terminal what it can draw when imported: before Textual owns
        # stdin. An explicit --graphics / [ui] graphics overrides what it finds.
        from anagnorisis_tui.ui.graphics import image_widget_class

        image_class = image_widget_class(settings.graphics)
        from anagnorisis_tui.ui.app import make_app
        from anagnorisis_tui.ui.terminal_guard import guard

        app = make_app(settings, library=library, image_class=image_class, root=str(root))
        try:
            with guard(app):  # the terminal comes back clean even after kill -9
                app.run()
        finally:
            # Jobs were told to stop on quit; wait for their threads so the last batch commits.
            app.jobs.cancel_all()
            if not app.jobs.wait(60):
                print("warning: a background job did not stop in time", file=sys.stderr)
    return app.return_code or 0
