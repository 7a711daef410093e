"""Library facade, semantic part (issue 3): the CLIP model, embedding, the search index,
text/image search and similar images.

Thin methods mixed into `core.library.Library`; the work is in core/semantic.py and the modules
it uses (models, embeddings, pipeline, index, search). Nothing here imports torch at import time.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from anagnorisis_tui.core.base.progress import ProgressCallback
from anagnorisis_tui.core.views import paging as query

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np
    import sqlite_utils

    from anagnorisis_tui.core.base.config import Settings


class SemanticMixin:
    if TYPE_CHECKING:
        settings: Settings
        db: sqlite_utils.Database
        data_dir: Path
        _lock: threading.Lock

        def text_vector(self, text: str) -> tuple[str, np.ndarray]: ...

        def refresh_predictions_quietly(
            self,
            *,
            progress: ProgressCallback | None = None,
            cancel: threading.Event | None = None,
        ) -> int: ...

    @property
    def semantic(self):
        """Model, engine, text encoder and searcher for this library (core/semantic.py)."""
        sem = self.__dict__.get("_semantic")
        if sem is None:
            from anagnorisis_tui.core.semantic.service import Semantic

            with self._lock:
                sem = self.__dict__.setdefault("_semantic", Semantic(self.settings))
        return sem

    def model_choice(self):
        """The configured model (models.ModelChoice), resolved without importing torch;
        raises models.ModelUnavailable when a configured local path does not exist."""
        return self.semantic.choice()

    @property
    def model_id(self) -> str:
        return self.semantic.model_id

    def embedder(self):
        """The loaded CLIP engine (embeddings.Embedder), loaded once (imports torch); raises
        models.ModelUnavailable whose message says how to fix it (e.g. a local path)."""
        return self.semantic.embedder()

    def use_embedder(self, embedder) -> None:
        """Share an already loaded engine (tests load tiny-clip once per session)."""
        self.semantic.use_embedder(embedder)

    def text_encoder(self):
        """Something with encode_texts(list[str]) -> unit vectors: numpy when exported."""
        return self.semantic.text_encoder()

    def embed(
        self,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        build_index: bool = True,
        batch_size: int | None = None,
    ):
        """Embed every present image without a vector for the model (pipeline.EmbedSummary),
        then rebuild the search index when it has fallen behind."""
        from anagnorisis_tui.core.semantic import embed_pipeline as pipeline
        from anagnorisis_tui.core.semantic import index

        emb = self.embedder()
        self.semantic.export_text(emb)
        summary = pipeline.embed_library(
            self.db,
            emb,
            progress=progress,
            cancel=cancel,
            batch_size=batch_size or pipeline.DEFAULT_BATCH,
        )
        if (
            build_index
            and not summary.cancelled
            and index.needs_build(self.db, self.data_dir, self.model_id)
        ):
            self.build_index(progress=progress, cancel=cancel)
        if summary.embedded and not summary.cancelled:
            # New vectors get predicted ratings from the active evaluator (issue 5).
            self.refresh_predictions_quietly(progress=progress, cancel=cancel)
        return summary

    def build_index(
        self,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> dict | None:
        """Build and atomically publish the model's search index (returns its meta)."""
        from anagnorisis_tui.core.semantic import index

        return index.build(self.db, self.data_dir, self.model_id, progress=progress, cancel=cancel)

    def vector_counts(self) -> tuple[int, int]:
        """(present images with a vector for the model, present images)."""
        from anagnorisis_tui.core.semantic import embed_pipeline as pipeline

        return pipeline.counts(self.db, self.model_id)

    def embed_errors(self) -> list[tuple[str, str, str]]:
        """(hash, path, reason) of images the model could not decode/embed."""
        from anagnorisis_tui.core.semantic import embed_pipeline as pipeline

        return pipeline.errors(self.db, self.model_id)

    def query_vector(self, query: str):
        """The unit vector of a query in the search language (core/search.py); raises
        search.QueryError (bad query) or models.ModelUnavailable (no model)."""
        return self.semantic.query_vector(self.db, query)

    def ranked(
        self, query: str, *, limit: int | None = 1000, cutoff: float | None = None
    ) -> list[tuple[str, float]]:
        """(content hash, score) best first for a query, for filters to join in SQL.

        limit=None scores every vector exactly. Hashes may include images no longer present.
        """
        found = self.semantic.searcher().ranked(self.db, self.query_vector(query), limit)
        return [(h, s) for h, s in found if cutoff is None or s >= cutoff]

    def search(self, query: str, *, top_k: int = 100, cutoff: float | None = None):
        """Top images for a query (list of search.SearchHit: hash, path, score)."""
        from anagnorisis_tui.core.semantic import search

        vec = self.query_vector(query)
        return search.hits(self.db, self.semantic.searcher(), vec, top_k=top_k, cutoff=cutoff)

    def search_preview(self, text: str, *, top_k: int) -> list[query.ImageEntry]:
        """The first `top_k` results of a plain search from the index (tens of ms), as catalogue
        entries with their scores, for a screen to paint while the exact, filterable view of
        the same search (`count`/`page` with ViewSpec.search) is computed (issue 7)."""
        import dataclasses

        from anagnorisis_tui.core.semantic import search

        _, vector = self.text_vector(text)  # cached: the exact view reuses the encoding
        out = []
        for hit in search.hits(self.db, self.semantic.searcher(), vector, top_k=top_k):
            found = query.entry(self.db, hit.path)
            if found is not None:
                out.append(dataclasses.replace(found, score=hit.score))
        return out

    def similar(self, content_hash: str, *, top_k: int = 100):
        """Images most like the one with this content hash (itself excluded); raises
        search.NoVector when it has no vector yet."""
        from anagnorisis_tui.core.semantic import search

        vec = self.semantic.stored_vector(self.db, content_hash)
        searcher = self.semantic.searcher()
        return search.hits(self.db, searcher, vec, top_k=top_k, exclude={content_hash})

    def similar_image(self, path: str, *, top_k: int = 100):
        """Images most like an image file (in the library or not; itself excluded)."""
        from anagnorisis_tui.core.semantic import search

        content_hash = search.image_hash_for(self.db, path)
        vec = self.semantic.image_vector(self.db, path)
        searcher = self.semantic.searcher()
        return search.hits(self.db, searcher, vec, top_k=top_k, exclude={content_hash})

    def _vector_model_id(self) -> str | None:
        """The configured model (issue 3) when it has vectors; else None (callers then use the
        model with the most vectors, so a library embedded with another model still works)."""
        from anagnorisis_tui.core.semantic import vectors
        from anagnorisis_tui.core.semantic.model_choice import ModelUnavailable

        try:
            model_id = self.model_id
        except ModelUnavailable:
            return None
        return model_id if vectors.model_spec(self.db, model_id) is not None else None
