"""The core never imports Textual or Rich, and nothing imports torch until a model is needed.

Every module under anagnorisis_tui.core, subpackages included, is imported in a fresh interpreter
of its own and reported as its own test, so one failure never hides another (the full suite).
The fast lane imports them all in one interpreter, one after another, and names the module that
first brought Textual, Rich or torch in: the same check (the union of what they import), in one
process start instead of a hundred.
"""

from __future__ import annotations

import json
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


def _first_importers(modules: list[str]) -> dict[str, str]:
    """Each top-level package loaded while importing `modules` in order, in one fresh
    interpreter: the module whose import brought it in first."""
    code = (
        "import importlib, json, sys\n"
        "top = lambda: {m.split('.')[0] for m in sys.modules}\n"
        "seen, first = top(), {}\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "    now = top()\n"
        "    first.update({new: name for new in now - seen})\n"
        "    seen = now\n"
        "print(json.dumps(first))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    found: dict[str, str] = json.loads(out)
    return found


def test_the_core_as_a_whole_imports_no_ui_and_no_torch():
    first = _first_importers(CORE_MODULES)
    assert "anagnorisis_tui" in first  # the walk imported something
    brought = {
        package: first[package] for package in ("textual", "rich", "torch") if package in first
    }
    assert brought == {}, f"imported by: {brought}"


def test_the_command_line_imports_no_torch():
    assert "torch" not in _first_importers(["anagnorisis_tui.cli"])


@pytest.mark.slow
@pytest.mark.parametrize("module", [*CORE_MODULES, "anagnorisis_tui.cli"])
def test_imports_no_ui_and_no_torch(module):
    loaded = _imported_after(module)
    if module != "anagnorisis_tui.cli":
        assert not {"textual", "rich"} & loaded
    assert "torch" not in loaded
