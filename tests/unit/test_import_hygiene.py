"""The core never imports Textual or Rich, and nothing imports torch until a model is needed.

Every module under anagnorisis_tui.core, subpackages included, is imported in a fresh interpreter
of its own and reported as its own test, so one failure never hides another.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import anagnorisis_tui.core as core

CORE_MODULES = sorted(
    m.name for m in pkgutil.walk_packages(core.__path__, prefix="anagnorisis_tui.core.")
)


def _imported_after(module: str) -> set[str]:
    code = f"import sys, {module}\nprint('\\n'.join(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_every_subpackage_is_walked():
    assert "anagnorisis_tui.core.base.db" in CORE_MODULES
    assert "anagnorisis_tui.core.library" in CORE_MODULES
    for package in ("base", "catalogue", "semantic", "views", "duplicates", "evaluator"):
        assert f"anagnorisis_tui.core.{package}.service" in CORE_MODULES or package == "base"


@pytest.mark.parametrize("module", [*CORE_MODULES, "anagnorisis_tui.cli"])
def test_imports_no_ui_and_no_torch(module):
    loaded = _imported_after(module)
    if module != "anagnorisis_tui.cli":
        assert not {"textual", "rich"} & loaded
    assert "torch" not in loaded
