"""`--version` and `--help` build the whole parser, so they show what start-up costs: they must
import no numpy, no SQLite helpers, no image or grouping code, no Textual, no torch."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


HEAVY = {
    "numpy",
    "sqlite_utils",
    "sqlite3",
    "PIL",
    "torch",
    "textual",
    "rich",
    "platformdirs",
    "anagnorisis_tui.core.duplicates.groups",
    "anagnorisis_tui.core.library",
}

PROBE = """
import contextlib, io, json, sys
from anagnorisis_tui.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print(json.dumps({"out": out.getvalue(), "modules": sorted(sys.modules)}))
"""


@pytest.mark.parametrize(
    "argv",
    [["--version"], ["--help"], ["scan", "--help"], ["groups", "--help"], ["list", "--help"]],
    ids=" ".join,
)
def test_version_and_help_import_nothing_heavy(argv):
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True
    )
    found = json.loads(result.stdout.splitlines()[-1])
    assert found["out"].strip(), "printed nothing"
    loaded = set(found["modules"])
    assert not HEAVY & loaded
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_each_command_is_registered_by_the_module_named_for_it():
    import argparse
    import importlib

    from anagnorisis_tui import cli

    for name in cli.COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(f"anagnorisis_tui.cli.{name}").register(sub, cli._common)
        assert {c: name for c in sub.choices} == {
            c: m for c, m in cli.COMMANDS.items() if m == name
        }
    full = cli.build_parser()
    assert set(full._subparsers._group_actions[0].choices) == set(cli.COMMANDS)


@pytest.mark.parametrize(
    "argv",
    [
        ["--version"],
        ["--help"],
        ["scan", "--help"],
        ["similar", "--help"],
        ["nonsense", "--help"],
        ["--data-dir", "d", "list", "--bogus"],
        ["rate"],
    ],
    ids=" ".join,
)
def test_output_is_the_same_as_with_every_command_registered(argv, capsys):
    """Registering only the command being run changes nothing a user sees."""
    from anagnorisis_tui import cli

    with pytest.raises(SystemExit) as lazy:
        cli.main(argv)
    seen = capsys.readouterr()
    with pytest.raises(SystemExit) as full:
        cli.build_parser().parse_args(argv)
    expected = capsys.readouterr()
    assert (lazy.value.code, seen.out, seen.err) == (full.value.code, expected.out, expected.err)
