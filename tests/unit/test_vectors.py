import numpy as np

from anagnorisis_tui.core.base import db as dbmod
from anagnorisis_tui.core.semantic import vectors


def test_vectors_roundtrip_normalised(tmp_path):
    database = dbmod.connect(tmp_path / "v.db")
    vectors.register_model(database, "m", 4, dtype="float16")
    vectors.put_vectors(database, "m", ["a", "b"], np.array([[3, 4, 0, 0], [0, 0, 0, 2.0]]))
    hashes, mat = vectors.load_vectors(database, "m")
    assert hashes == ["a", "b"]
    np.testing.assert_allclose(mat, [[0.6, 0.8, 0, 0], [0, 0, 0, 1]], atol=1e-3)
    hashes, mat = vectors.load_vectors(database, "m", ["b", "zz"])
    assert hashes == ["b"] and mat.shape == (1, 4)
    assert vectors.load_vectors(database, "other")[0] == []
