"""Snapshot fixtures: a catalogue at a fixed path (paths are on screen), unicode images."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from anagnorisis_tui.core.base.config import replace
from anagnorisis_tui.core.library import Library
from tests.support.app_library import catalogue, make_images

# Paths appear on screen, so the snapshot library lives at the same place on every run.
SNAPSHOT_ROOT = Path(tempfile.gettempdir()) / "anagnorisis-snapshots" / "Pictures"


@pytest.fixture
def snapshot_library(settings):
    shutil.rmtree(SNAPSHOT_ROOT, ignore_errors=True)
    names = [f"holiday/beach{i}.jpg" for i in range(5)] + ["[bold]not markup[i].jpg", "cat.jpg"]
    paths = make_images(SNAPSHOT_ROOT, names, size=(120, 80))
    library = Library(replace(settings, library_roots=(str(SNAPSHOT_ROOT),)))
    catalogue(library, SNAPSHOT_ROOT, paths)
    # Fixed timestamps and no scan on start: nothing time-dependent reaches the screen.
    with library.db.conn:
        library.db.execute("UPDATE files SET mtime_ns = 0, added = 0, updated = 0")
    yield library
    library.close()
