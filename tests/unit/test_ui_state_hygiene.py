"""ui/state holds view state the screens read, and draws nothing: none of its modules imports
Textual, so each is usable (and unit-tested) without an app. One fresh interpreter per module,
each reported as its own test (the full suite); the fast lane imports them all in one
interpreter and names the module that first brought Textual or torch in."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import anagnorisis_tui.ui.state as state

STATE_MODULES = sorted(
    m.name for m in pkgutil.walk_packages(state.__path__, prefix="anagnorisis_tui.ui.state.")
)


def test_the_state_package_is_walked():
    assert "anagnorisis_tui.ui.state.page_cache" in STATE_MODULES
    assert "anagnorisis_tui.ui.state.search_state" in STATE_MODULES


def test_the_state_package_as_a_whole_imports_no_textual():
    from tests.unit.test_import_hygiene import _first_importers

    first = _first_importers(STATE_MODULES)
    brought = {package: first[package] for package in ("textual", "torch") if package in first}
    assert brought == {}, f"imported by: {brought}"


@pytest.mark.slow
@pytest.mark.parametrize("module", STATE_MODULES)
def test_state_module_imports_no_textual(module):
    code = (
        f"import sys, {module}\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "textual" not in loaded
    assert "torch" not in loaded
