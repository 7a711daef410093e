"""Make the app's child processes (core/work/runner.py) misbehave on purpose, for tests.

The child is a fresh interpreter, so monkeypatching in the test process cannot reach it; a
`sitecustomize` module on its PYTHONPATH runs first thing in the child instead.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

# Decoding an image of this size kills the child as a crashing decoder would (SIGSEGV).
CRASH_SIZE = (13, 7)

CRASH_ON_DECODE = f"""
import os, signal
from PIL import ImageFile
_real = ImageFile.ImageFile.load
def _load(self):
    if self.size == {CRASH_SIZE!r}:
        os.kill(os.getpid(), signal.SIGSEGV)
    return _real(self)
ImageFile.ImageFile.load = _load
"""

# Every decode waits: a scan of a few hundred images takes long enough to quit mid-way.
SLOW_DECODE = """
import time
from PIL import ImageFile
_real = ImageFile.ImageFile.load
def _load(self):
    if self.tile:
        time.sleep({delay})
    return _real(self)
ImageFile.ImageFile.load = _load
"""


# Training in the child holds at each progress step until the caller cancels it.
HELD_TRAINING = f"""
import sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
from anagnorisis_tui.core.evaluator import training
_real = training.train
def _held(*args, progress=None, cancel=None, **kw):
    def gate(p):
        if progress is not None:
            progress(p)
        if cancel is not None:
            cancel.wait(10)
    return _real(*args, progress=gate, cancel=cancel, **kw)
training.train = _held
"""


def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    folder = tmp_path / "child-hook"
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text(textwrap.dedent(code))
    rest = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(folder), rest) if p))
