"""`--version` and `--help` build the whole parser, so they show what start-up costs: they must
import no numpy, no SQLite helpers, no image or grouping code, no Textual, no torch."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

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
