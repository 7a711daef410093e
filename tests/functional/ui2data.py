"""Fixtures for the Search/groups/Train tests and snapshots (issue 7; made visible by conftest)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from anagnorisis_tui.core.library import Library


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


RATED = 60


@pytest.fixture
def rated(shapes_library, shapes_images) -> tuple[Library, dict[str, float]]:
    """The shapes library embedded by the tiny CLIP; the user rated 60 of them (likes red).

    Every 5th image is rated, in path order, so every colour and shape is among the rated.
    """
    rng = np.random.default_rng(3)
    taste = {}
    for path in sorted(shapes_images)[::5][:RATED]:
        liked = shapes_images[path].colour == "red"
        value = float(np.clip(round((8 if liked else 3) + rng.normal(0, 1)), 0, 10))
        content_hash = shapes_library.entry(path).hash
        shapes_library.set_rating(content_hash, value)
        taste[content_hash] = value
    return shapes_library, taste
