"""Command line: `anagnorisis-tui [LIBRARY]` opens the app; subcommands do the same work headless.

Each subcommand lives in its own module here with a `register(subparsers, common)` function.
Building the parser must stay cheap, because `--version` and `--help` build it: the command
modules import only the standard library and light core modules at the top (no numpy, no
SQLite helpers, no torch, no Textual) and import what they need when run
(tests/cli/test_cli_startup.py checks it).

A command reports a failure meant for the user by raising a `UserError` (the core's, or
`CommandError` for the command line's own): main() prints `error: <message>` and exits 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from anagnorisis_tui import __version__
from anagnorisis_tui.core.errors import UserError

if TYPE_CHECKING:
    from anagnorisis_tui.core.base.config import Settings

# Each command, by the module under anagnorisis_tui.cli whose register(subparsers, common)
# adds it (tests/cli/test_cli_startup.py checks the two agree). Only the module of the command
# being run is registered: every subparser costs argparse a few gettext look-ups.
COMMANDS = {
    "open": "open_cmd",
    "scan": "scan_cmd",
    "errors": "errors_cmd",
    "rate": "rate_cmd",
    "train": "train_cmd",
    "next": "train_cmd",
    "explain": "train_cmd",
    "ratings": "ratings_cmd",
    "list": "list_cmd",
    "groups": "groups_cmd",
    "dedupe": "groups_cmd",
    "undo": "groups_cmd",
    "embed": "embed_cmd",
    "search": "search_cmd",
    "similar": "search_cmd",
    "vectors": "vectors_cmd",
}
COMMAND_MODULES = list(dict.fromkeys(COMMANDS.values()))  # in the order help lists them


class CommandError(UserError):
    """A failure of the command line's own (an argument that makes no sense, nothing to do)."""


def _common(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """--data-dir and --config, accepted before or after the subcommand.

    On subcommands the default is SUPPRESS so they do not overwrite a value given before them.
    """
    default = None if top else argparse.SUPPRESS
    parser.add_argument(
        "--data-dir",
        default=default,
        metavar="DIR",
        help="where the catalogue, thumbnails and models live "
        "(default: the user data dir; env ANAGNORISIS_DATA_DIR)",
    )
    parser.add_argument(
        "--config",
        default=default,
        metavar="FILE",
        help="settings file (default: config.toml in the user config dir; env ANAGNORISIS_CONFIG)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="the demo library (kept apart from yours, in the data dir's demo/) instead of "
        "your own",
    )


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    """The parser with the commands of `modules` (default: all, as `--help` lists them)."""
    parser = argparse.ArgumentParser(
        prog="anagnorisis-tui",
        description="Search, filter, de-duplicate and rate your image library from a terminal. "
        "Run with a folder to open the app on it; with no folder, on the saved library "
        "or a small demo library.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in modules:
        module = importlib.import_module(f"anagnorisis_tui.cli.{name}")
        module.register(sub, _common)
        if name == "open_cmd":  # the app's options, where `anagnorisis-tui --help` shows them
            parser.epilog = module.app_options_help()
    return parser


def settings_from_args(args: argparse.Namespace, **overrides: object) -> Settings:
    """The settings of the command line; with `--demo`, those that open the demo library."""
    from anagnorisis_tui.core.base.config import load_settings

    settings = load_settings(data_dir=args.data_dir, config_file=args.config, overrides=overrides)
    if getattr(args, "demo", False):
        from anagnorisis_tui.core.demo.generate import demo_settings

        return demo_settings(settings)
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    from anagnorisis_tui.core.base.private import private_umask

    private_umask()  # all the app writes is its user's alone (README: Security and privacy)
    argv = list(sys.argv[1:] if argv is None else argv)
    # `anagnorisis-tui [options] [LIBRARY]` means `open`: find the first positional word.
    skip_values = {"--data-dir", "--config"}
    positionals = []
    it = iter(argv)
    for a in it:
        if a in skip_values:
            next(it, None)
        elif not a.startswith("-"):
            positionals.append(a)
    first_positional = positionals[0] if positionals else None
    asks = {"-h", "--help", "--version"} & set(argv)
    if first_positional not in COMMANDS and not asks:
        argv, first_positional = ["open", *argv], "open"
    if first_positional in COMMANDS:
        parser = build_parser([COMMANDS[first_positional]])
    elif asks == {"--version"} and not positionals:
        parser = build_parser([])  # prints the version before any command is looked at
    else:
        parser = build_parser()  # top-level help, or an unknown command to report
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `anagnorisis-tui list | head`: stop quietly, like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:
        # A data dir on a full or read-only disk, a file that vanished under us: a message.
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except Exception as exc:
        if type(exc).__module__ != "sqlite3":
            raise
        print(
            f"error: the catalogue cannot be used: {exc} (is the data dir read-only or its disk "
            "full? choose another with --data-dir)",
            file=sys.stderr,
        )
        return 2
