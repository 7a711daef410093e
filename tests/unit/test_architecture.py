"""The import-linter contracts in pyproject.toml hold, and each one fails when it is broken.

The contracts are the architecture's guards: the core is UI-free, only the embedding engine
imports torch, nothing imports sqlite-utils, the core's subpackages import only downwards, and
every subpackage is placed in a layer. Each break below is injected into a copy of the package,
so the guard itself is shown to work, not just to pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


REPO = Path(__file__).resolve().parents[2]
LINT = "import sys; from importlinter.cli import lint_imports_command; lint_imports_command()"


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(root), NO_COLOR="1", COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-c", LINT, "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )


def test_contracts_hold():
    result = _lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# (module, line appended to it, start of the contract it breaks, text the report names)
BREAKS = [
    ("core/base/paths.py", "import textual", "The core is UI-free", "paths -> textual"),
    (
        "core/catalogue/walk.py",
        "from anagnorisis_tui.ui import app",
        "The core is UI-free",
        "walk ->",
    ),
    ("core/views/filters.py", "import torch", "Only the embedding engine", "filters -> torch"),
    ("ui/app.py", "import open_clip", "Only the embedding engine", "app -> open_clip"),
    (
        "core/base/config.py",
        "from anagnorisis_tui.core.catalogue import walk",
        "Core subpackages",
        "config ->",
    ),
    (
        "core/views/filters.py",
        "from anagnorisis_tui.core import evaluator",
        "Core subpackages",
        "filters ->",
    ),
    (
        "core/duplicates/groups.py",
        "from anagnorisis_tui.core.semantic import search",
        "The evaluator and duplicates",
        "groups -> anagnorisis_tui.core.semantic.search",
    ),
    ("core/grab_bag/__init__.py", "", "Core subpackages", "grab_bag"),  # in no layer
    (
        "ui/jobs.py",
        "from anagnorisis_tui.cli import main",
        "The command line sits above",
        "jobs ->",
    ),
    ("core/views/paging.py", "import sqlite_utils", "The catalogue is opened", "paging ->"),
]


@pytest.fixture(scope="module")
def broken_report(tmp_path_factory: pytest.TempPathFactory) -> str:
    """lint-imports over a copy of the package with every break in BREAKS injected at once."""
    root = tmp_path_factory.mktemp("broken")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(
        REPO / "anagnorisis_tui",
        root / "anagnorisis_tui",
        ignore=shutil.ignore_patterns("__pycache__", "weights"),
    )
    for module, line, _contract, _named in BREAKS:
        target = root / "anagnorisis_tui" / module
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a") as f:
            f.write(f"\n{line}\n")
    result = _lint(root)
    assert result.returncode != 0, result.stdout
    return result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract", "named"),
    BREAKS,
    ids=[f"{b[0]}: {b[1] or 'new'}" for b in BREAKS],
)
def test_a_broken_contract_fails(broken_report: str, module, line, contract, named):
    status = [ln for ln in broken_report.splitlines() if ln.startswith(contract)]
    assert status and " BROKEN" in status[0], broken_report
    assert named in broken_report, broken_report
