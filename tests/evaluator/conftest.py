"""Fixtures for the personal evaluator tests (helpers live in tests/support/preference.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.semantic import vectors
from tests.support.preference import (
    COLOURS,
    MODEL_ID,
    SHAPES,
    PreferenceLibrary,
    add_images,
    preference,
    structured_vectors,
)


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


@pytest.fixture
def shapes_pref(shapes_library, shapes_images) -> PreferenceLibrary:
    """The real thing: generated shapes images, scanned and embedded by the shipped tiny CLIP
    (tests/conftest.py), and the simulated user who likes red and dislikes triangles."""
    rows = shapes_library.db.execute(
        "SELECT path, hash FROM files WHERE present = 1 ORDER BY path"
    ).fetchall()
    specs = [shapes_images[path] for path, _ in rows]
    colours = [s.colour for s in specs]
    shapes = [s.shape for s in specs]
    root = Path(rows[0][0]).parent.parent
    return PreferenceLibrary(
        shapes_library,
        root,
        [h for _, h in rows],
        [p for p, _ in rows],
        colours,
        shapes,
        preference(colours, shapes, np.random.default_rng(7)),
    )
