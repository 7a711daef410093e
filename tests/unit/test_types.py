"""The package type-checks: `mypy` from the repository root, with pyproject.toml's settings
(strict on core/ and ui/state/, unused `type: ignore`s reported everywhere), finds nothing.

The first run of a fresh clone takes ~45 s on one core; later runs reuse the repository's
.mypy_cache and take a few seconds. The second half shows the check itself works: a module of
the core given untyped code and a needless `type: ignore` is reported, not passed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-color-output", "--no-error-summary", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
    )


def test_the_package_type_checks_and_a_type_error_fails_it(tmp_path: Path) -> None:
    result = _mypy()
    assert result.returncode == 0, result.stdout + result.stderr

    # A leaf of the core (nothing imports it), checked from a copy of the warm cache so the
    # repository's cache never records the broken text.
    cache = tmp_path / "cache"
    shutil.copytree(REPO / ".mypy_cache", cache)
    broken = tmp_path / "child.py"
    broken.write_text(
        "def untyped(x):\n    return x\n\n\nvalue: int = 1  # type: ignore[assignment]\n"
    )
    leaf = "anagnorisis_tui/core/work/child.py"
    result = _mypy("--cache-dir", str(cache), "--shadow-file", leaf, str(broken))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Function is missing a type annotation" in result.stdout
    assert 'Unused "type: ignore' in result.stdout
