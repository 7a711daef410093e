"""`anagnorisis-tui [LIBRARY]`: open the app on a folder (or the saved library, or the demo)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

GRAPHICS = ["auto", "kitty", "sixel", "halfcell", "unicode"]
PICTURES = ["auto", "high", "low"]
GRAPHICS_HELP = "terminal graphics protocol for images (default: auto-detect)"
PICTURES_HELP = (
    "picture quality: low sends fewer bytes (sixel colours, kitty resolution); "
    "auto (default) turns low when the link to the terminal is slow"
)


def app_options_help() -> str:
    """The app's own options, for the top-level help (`anagnorisis-tui [LIBRARY]` is `open`)."""
    graphics, pictures = "|".join(GRAPHICS), "|".join(PICTURES)
    return (
        f"Open the app: anagnorisis-tui [LIBRARY] [--graphics {{{graphics}}}] "
        f"[--pictures {{{pictures}}}]. --graphics: {GRAPHICS_HELP}. --pictures: {PICTURES_HELP}. "
        "(anagnorisis-tui open --help)"
    )


def register(sub: argparse._SubParsersAction, common: Callable[..., None]) -> None:
    parser = sub.add_parser(
        "open",
        help="open the app on LIBRARY (default: the saved library, else a demo library)",
        description="Open the app on LIBRARY. With no LIBRARY: the saved library, else (or with "
        "--demo) a small demo library made from sample images that ship inside installed "
        "packages, kept apart from your own library.",
    )
    common(parser)
    parser.add_argument("library", nargs="?", metavar="LIBRARY", help="image folder")
    parser.add_argument(
        "--graphics",
        choices=GRAPHICS,
        help=GRAPHICS_HELP,
    )
    parser.add_argument("--pictures", choices=PICTURES, help=PICTURES_HELP)
    parser.set_defaults(func=run)


def library_from_args(args: argparse.Namespace):
    """(the user's settings, the Library to open, its folder) for `open`: LIBRARY (saved), else
    the saved library, else (or with `--demo`) the demo library in its own data dir, whose
    pictures the app's first scan makes (core.demo.generate)."""
    from anagnorisis_tui.cli import settings_from_args
    from anagnorisis_tui.core.demo.generate import demo_root, demo_settings, resolve_library
    from anagnorisis_tui.core.library import Library

    demo = bool(getattr(args, "demo", False))
    args.demo = False  # the user's settings: the app goes to them when a folder is chosen
    settings = settings_from_args(
        args, graphics=getattr(args, "graphics", None), pictures=getattr(args, "pictures", None)
    )
    if demo and args.library is not None:
        from anagnorisis_tui.cli import CommandError

        raise CommandError("--demo opens the demo library: give no LIBRARY with it")
    root: Path | None = None
    if not demo:
        with Library(settings) as library:
            root = resolve_library(settings, args.library, library)
    if root is not None:
        return settings, Library(settings), root
    shown = demo_settings(settings)
    root = demo_root(shown)
    root.mkdir(parents=True, exist_ok=True)
    library = Library(shown)
    try:
        if library.catalogue.roots()[:1] != [str(root)]:
            library.catalogue.set_root(root)
    except BaseException:
        library.close()
        raise
    return settings, library, root


def _quiet_keyboard() -> None:
    import os

    from anagnorisis_tui.ui.terminal_replies import quiet_keyboard

    try:
        if os.isatty(0) and os.isatty(1):
            quiet_keyboard(0)
    except OSError:
        pass


def run(args: argparse.Namespace) -> int:
    """Resolve the library, detect the terminal's graphics, run the app, stop jobs cleanly."""
    _quiet_keyboard()  # first: keys typed while the app starts wait for it, unechoed
    settings, library, _root = library_from_args(args)  # the catalogue has it as its current
    # textual-image asks the terminal what it can draw when imported: before Textual owns
    # stdin. An explicit --graphics / [ui] graphics overrides what it finds.
    from anagnorisis_tui.ui.graphics import image_widget_class

    image_class = image_widget_class(settings.graphics)
    from anagnorisis_tui.ui.app import make_app
    from anagnorisis_tui.ui.terminal_guard import guard

    app = make_app(settings, library=library, image_class=image_class)
    try:
        with guard(app):  # the terminal comes back clean even after kill -9
            app.run()
    finally:
        # Jobs were told to stop on quit; wait for their threads so the last batch commits.
        app.jobs.cancel_all()
        if not app.jobs.wait(60):
            print("warning: a background job did not stop in time", file=sys.stderr)
        app.close_libraries()
    return app.return_code or 0
