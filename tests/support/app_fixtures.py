"""Fixtures for the Search/groups/Train tests and snapshots (conftests import them)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from anagnorisis_tui.core.library import Library
from tests.support.imagefiles import smooth_photo


@pytest.fixture
def dupes(settings, tmp_path, trash_home):
    root = tmp_path / "photos"
    smooth_photo(root / "trip" / "big.jpg", 1, 192)  # suggested keeper: highest resolution
    smooth_photo(root / "trip" / "small.jpg", 1, 96)
    shutil.copy(root / "trip" / "big.jpg", root / "trip" / "[b]copy[i].jpg")
    smooth_photo(root / "cats" / "cat.jpg", 7, 128)
    smooth_photo(root / "cats" / "cat-small.jpg", 7, 64)
    smooth_photo(root / "alone.jpg", 99, 128)
    library = Library(settings)
    library.catalogue.set_root(root)
    assert library.catalogue.scan(root).files == 6
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
        content_hash = shapes_library.views.entry(path).hash
        shapes_library.ratings.set(content_hash, value)
        taste[content_hash] = value
    return shapes_library, taste
