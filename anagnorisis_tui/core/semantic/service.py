"""Per-library state for semantic search: the chosen model, the loaded engine, the text encoder
and the searcher - what the Library facade's issue-3 methods delegate to.

Nothing here imports torch at module level: the model loads on the first call that needs it,
and a text query uses the numpy export of the text tower when one exists (core/textnp.py).
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils

from anagnorisis_tui.core.base.config import Settings
from anagnorisis_tui.core.semantic import model_choice as models
from anagnorisis_tui.core.semantic import search, vectors
from anagnorisis_tui.core.semantic import text_numpy as textnp


class Semantic:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()  # model loading takes seconds: not under the db lock
        self._choice: models.ModelChoice | None = None
        self._choice_key: tuple[str, str, str] | None = None
        self._embedder: Any = None
        self._text: textnp.NumpyTextEncoder | None = None
        self._searcher: search.Searcher | None = None

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def choice(self) -> models.ModelChoice:
        key = (self.settings.model, self.settings.pretrained, self.settings.device)
        with self._lock:
            if self._choice is None or self._choice_key != key:
                self._choice = models.resolve(settings=self.settings)
                self._choice_key = key
            return self._choice

    @property
    def model_id(self) -> str:
        return self.choice().model_id

    def use_embedder(self, embedder: Any) -> None:
        """Share an already loaded engine (tests, or a UI that loaded it elsewhere)."""
        with self._lock:
            self._embedder = embedder

    def embedder(self) -> Any:
        from anagnorisis_tui.core.semantic import engine as embeddings

        with self._lock:
            model_id = self.model_id
            if self._embedder is None or self._embedder.model_id != model_id:
                cache = str(self.data_dir / "models")
                self._embedder = embeddings.load(self.choice(), cache_dir=cache)
            return self._embedder

    def text_encoder(self) -> Any:
        """The loaded model if there is one, else its verified numpy export (no torch import),
        else the model itself - exporting its text tower so the next process needs no torch."""
        with self._lock:
            model_id = self.model_id
            if self._embedder is not None and self._embedder.model_id == model_id:
                return self._embedder
            if self._text is None or self._text.model_id != model_id:
                self._text = textnp.NumpyTextEncoder.open(self.data_dir, model_id)
            if self._text is not None:
                return self._text
            emb = self.embedder()
            self.export_text(emb)
            return emb

    def export_text(self, emb: Any) -> None:
        if textnp.available(self.data_dir, emb.model_id):
            return
        # An optimisation only: if it fails, text search keeps using torch.
        with contextlib.suppress(Exception):
            textnp.export(emb, self.data_dir)

    def searcher(self) -> search.Searcher:
        with self._lock:
            model_id = self.model_id
            if self._searcher is None or self._searcher.model_id != model_id:
                if self._searcher is not None:
                    self._searcher.close()
                self._searcher = search.Searcher(self.data_dir, model_id)
            return self._searcher

    def query_vector(self, db: sqlite_utils.Database, query: str) -> np.ndarray:
        terms = search.parse(query)
        parts: list[tuple[float, np.ndarray]] = []
        texts = [t for t in terms if t.kind == "text"]
        if texts:
            encoded = self.text_encoder().encode_texts([t.value for t in texts])
            parts += [(t.weight, v) for t, v in zip(texts, encoded, strict=True)]
        parts += [(t.weight, self.image_vector(db, t.value)) for t in terms if t.kind == "image"]
        return search.combine(parts)

    def image_vector(self, db: sqlite_utils.Database, path: str) -> np.ndarray:
        """A file's vector: the stored one when its content is embedded, else computed now."""
        from anagnorisis_tui.core.semantic import imageprep

        content_hash = search.image_hash_for(db, path)
        _, matrix = vectors.load_vectors(db, self.model_id, [content_hash])
        if len(matrix):
            return matrix[0]
        emb = self.embedder()
        try:
            pixels = imageprep.load(path, emb.image_size, emb.resize_mode)
        except imageprep.ImageDecodeError as exc:
            raise search.QueryError(f"cannot use image {path}: {exc}") from exc
        return emb.encode_images(pixels[None])[0]

    def stored_vector(self, db: sqlite_utils.Database, content_hash: str) -> np.ndarray:
        _, matrix = vectors.load_vectors(db, self.model_id, [content_hash])
        if not len(matrix):
            raise search.NoVector(
                "this image has no vector yet: run `anagnorisis-tui embed` (or wait for the "
                "background embedding) first"
            )
        return matrix[0]

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
