"""Fixtures for the personal evaluator tests (helpers live in evaluator_helpers.py)."""

from __future__ import annotations

import numpy as np
import pytest
from evaluator_helpers import (
    COLOURS,
    MODEL_ID,
    SHAPES,
    PreferenceLibrary,
    add_images,
    preference,
    structured_vectors,
)

from anagnorisis_tui.core import vectors
from anagnorisis_tui.core.library import Library


@pytest.fixture
def pref_library(settings, tmp_path) -> PreferenceLibrary:
    rng = np.random.default_rng(7)
    n = 240
    colours = [COLOURS[i] for i in rng.integers(0, len(COLOURS), n)]
    shapes = [SHAPES[i] for i in rng.integers(0, len(SHAPES), n)]
    library = Library(settings)
    root = tmp_path / "library"
    names = [f"{i:03d}_{c}_{s}.png" for i, (c, s) in enumerate(zip(colours, shapes, strict=True))]
    hashes = add_images(library, root, names)
    vectors.register_model(library.db, MODEL_ID, 64, dtype="float32")
    vectors.put_vectors(library.db, MODEL_ID, hashes, structured_vectors(colours, shapes, rng))
    yield PreferenceLibrary(
        library,
        root,
        hashes,
        [str(root / n) for n in names],
        colours,
        shapes,
        preference(colours, shapes, rng),
    )
    library.close()
