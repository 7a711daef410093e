"""Fixtures for the Search/groups/Train tests and snapshots (issue 7; made visible by conftest)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from uidata import make_images

from anagnorisis_tui.core import vectors
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.query import ViewSpec


@pytest.fixture
def trash_home(tmp_path, monkeypatch) -> Path:
    """A test-local freedesktop trash (send2trash reads its location at import)."""
    from send2trash import plat_other

    data = tmp_path / "home" / ".local" / "share"
    data.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", os.fsencode(data))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", os.fsencode(data / "Trash"))
    monkeypatch.setattr(plat_other, "HOMETRASH", str(data / "Trash"))
    return data / "Trash"


def _photo(path: Path, seed: int, size: int) -> None:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (6, 6, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC).save(path, quality=90)


@pytest.fixture
def dupes(settings, tmp_path, trash_home):
    root = tmp_path / "photos"
    _photo(root / "trip" / "big.jpg", 1, 192)  # suggested keeper: highest resolution
    _photo(root / "trip" / "small.jpg", 1, 96)
    shutil.copy(root / "trip" / "big.jpg", root / "trip" / "[b]copy[i].jpg")
    _photo(root / "cats" / "cat.jpg", 7, 128)
    _photo(root / "cats" / "cat-small.jpg", 7, 64)
    _photo(root / "alone.jpg", 99, 128)
    library = Library(settings)
    library.set_root(root)
    assert library.scan(root).files == 6
    yield library, root
    library.close()


COLOURS = ["red", "green", "blue", "yellow"]
N = 48


@pytest.fixture
def rated(settings, tmp_path) -> tuple[Library, dict[str, float]]:
    """48 real images with structured vectors; the user rated 30 (likes red, with noise)."""
    rng = np.random.default_rng(3)
    root = tmp_path / "photos"
    colours = [COLOURS[i % 4] for i in range(N)]
    make_images(root, [f"{i:02d}_{c}.jpg" for i, c in enumerate(colours)], size=(48, 32))
    library = Library(settings)
    library.set_root(root)
    library.scan(root)
    entries = sorted(library.page(ViewSpec(), 0, N), key=lambda e: e.name)
    protos = {c: rng.normal(size=32) for c in COLOURS}
    matrix = np.stack([protos[c] + rng.normal(0, 0.5, 32) for c in colours])
    vectors.register_model(library.db, "test-model", 32, dtype="float32")
    vectors.put_vectors(library.db, "test-model", [e.hash for e in entries], matrix)
    taste = {}
    for entry, colour in list(zip(entries, colours, strict=True))[:30]:
        value = float(np.clip(round((8 if colour == "red" else 3) + rng.normal(0, 1)), 0, 10))
        library.set_rating(entry.hash, value)
        taste[entry.hash] = value
    yield library, taste
    library.close()
