"""The core never imports Textual or Rich, and nothing imports torch until a model is needed."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import anagnorisis_tui.core as core

CORE_MODULES = sorted(f"anagnorisis_tui.core.{m.name}" for m in pkgutil.iter_modules(core.__path__))


def _imported_after(module: str) -> set[str]:
    code = f"import sys, {module}\nprint('\\n'.join(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_core_modules_exist():
    assert "anagnorisis_tui.core.base.db" in CORE_MODULES
    assert "anagnorisis_tui.core.library" in CORE_MODULES


def test_core_never_imports_textual_or_rich():
    for module in CORE_MODULES:
        loaded = _imported_after(module)
        assert not {"textual", "rich"} & loaded, module


def test_core_and_cli_do_not_import_torch():
    for module in [*CORE_MODULES, "anagnorisis_tui.cli"]:
        loaded = _imported_after(module)
        assert "torch" not in loaded, module
