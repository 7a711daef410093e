"""The semantic service: the chosen model, the loaded engine, embedding, the search index, text
and image search, similar images.

Nothing here imports torch at module level: the model loads on the first call that needs it,
and a text query uses the numpy export of the text tower when one exists (text_numpy.py).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from anagnorisis_tui.core.base.config import Settings
from anagnorisis_tui.core.base.connections import Connections
from anagnorisis_tui.core.base.progress import ProgressCallback
from anagnorisis_tui.core.semantic import (
    index,
    model_choice,
    readiness,
    search,
    vector_io,
    vectors,
)
from anagnorisis_tui.core.semantic import text_numpy as textnp
from anagnorisis_tui.core.semantic.search import SearchHit

if TYPE_CHECKING:  # embedding's module (PIL, the decoders) is imported when embedding runs:
    # a cold text search never needs it
    from anagnorisis_tui.core.semantic import embed_pipeline

# Called after embedding added vectors (the evaluator predicts them): (progress, cancel) -> None.
VectorsAdded = Callable[[ProgressCallback | None, threading.Event | None], object]
# Computes the vector of an image file that has none stored: path -> unit vector.
ImageEncoder = Callable[[str], np.ndarray]


class SemanticService:
    def __init__(
        self,
        settings: Settings,
        connections: Connections,
        *,
        on_vectors_added: VectorsAdded | None = None,
    ) -> None:
        self.settings = settings
        self._connections = connections
        self._on_vectors_added = on_vectors_added
        self._lock = threading.RLock()  # model loading takes seconds: not under the db lock
        self._choice: model_choice.ModelChoice | None = None
        self._choice_key: tuple[str, str, str, str] | None = None
        self._embedder: Any = None
        self._text: Any = None  # NumpyTextEncoder or onnx_engine.OnnxText
        self._searcher: search.Searcher | None = None
        self._image_encoder: ImageEncoder | None = None

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def model_choice(self) -> model_choice.ModelChoice:
        """The configured model, resolved without importing torch; raises ModelUnavailable when
        a configured local path does not exist."""
        settings = self.settings
        key = (settings.session_model, settings.model, settings.pretrained, settings.device)
        with self._lock:
            if self._choice is None or self._choice_key != key:
                self._choice = model_choice.resolve(settings=self.settings)
                self._choice_key = key
            return self._choice

    def search_readiness(self) -> readiness.SearchReadiness:
        """Whether the configured model can search now from files on this machine (no network,
        no torch; imports the hub client: call it off the UI thread). Raises ModelUnavailable
        as model_choice() does."""
        return readiness.check(self.model_choice(), self.data_dir)

    @property
    def model_id(self) -> str:
        return self.model_choice().model_id

    def use_embedder(self, embedder: Any) -> None:
        """Share an already loaded engine (tests, or a UI that loaded it elsewhere)."""
        with self._lock:
            self._embedder = embedder

    def use_image_encoder(self, encode: ImageEncoder | None) -> None:
        """Compute the vectors of images with none stored through `encode` instead of this
        process's engine (the app: in a child process, so the UI never loads a model)."""
        with self._lock:
            self._image_encoder = encode

    def embedder(
        self,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Any:
        """The model's engine, loaded once: ONNX Runtime on a CPU (exported the first time,
        then opened without torch), torch on a GPU or for a model that will not export. A
        first use may download the weights, reported to `progress` ("download")."""
        from anagnorisis_tui.core.semantic import onnx_engine

        with self._lock:
            model_id = self.model_id
            if self._embedder is None or self._embedder.model_id != model_id:
                # Weights downloaded by earlier versions into the data dir are still found there.
                self._embedder = onnx_engine.load_engine(
                    self.model_choice(),
                    self.data_dir,
                    engine=self.settings.engine,
                    cache_dir=str(self.data_dir / "models"),
                    progress=progress,
                    cancel=cancel,
                )
            return self._embedder

    def text_encoder(
        self,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Any:
        """The loaded engine if there is one, else the verified numpy export of the text tower
        (no torch import; the fastest cold start, BENCHMARKS.md), else its ONNX export, else
        the engine itself - which exports them so the next process needs no torch. Loading the
        engine may download and prepare the model: `progress` hears of it, `cancel` stops it."""
        from anagnorisis_tui.core.semantic import onnx_engine

        with self._lock:
            model_id = self.model_id
            if self._embedder is not None and self._embedder.model_id == model_id:
                return self._embedder
            if self._text is None or self._text.model_id != model_id:
                self._text = textnp.NumpyTextEncoder.open(
                    self.data_dir, model_id
                ) or onnx_engine.open_text(self.data_dir, model_id)
            if self._text is not None:
                return self._text
            emb = self.embedder(progress=progress, cancel=cancel)
            self.export_text(emb)
            return emb

    def export_text(self, emb: Any) -> None:
        if emb.engine != "torch" or textnp.available(self.data_dir, emb.model_id):
            return  # an ONNX engine made its text export when it was made
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

    def query_vector(
        self,
        query: str,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> np.ndarray:
        """The unit vector of a query in the search language (search.py); raises QueryError
        (bad query) or ModelUnavailable (no model). A model's first use reports its download
        and preparation to `progress` and stops on `cancel` (progress.Cancelled)."""
        return self._query(query, progress=progress, cancel=cancel)[0]

    def _query(
        self,
        query: str,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> tuple[np.ndarray, bool]:
        """(query vector, whether it must be searched exactly: search.needs_exact)."""
        terms = search.parse(query)
        parts: list[tuple[float, np.ndarray]] = []
        texts = [t for t in terms if t.kind == "text"]
        if texts:
            encoder = self.text_encoder(progress=progress, cancel=cancel)
            encoded = encoder.encode_texts([t.value for t in texts])
            parts += [(t.weight, v) for t, v in zip(texts, encoded, strict=True)]
        parts += [
            (t.weight, self.image_vector(t.value, progress=progress, cancel=cancel))
            for t in terms
            if t.kind == "image"
        ]
        return search.combine(parts), search.needs_exact(terms)

    def image_vector(
        self,
        path: str,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> np.ndarray:
        """A file's vector: the stored one when its content is embedded, else computed now."""
        db = self._connections.db
        from anagnorisis_tui.core.semantic import imageprep

        content_hash = search.image_hash_for(db, path)
        _, matrix = vectors.load_vectors(db, self.model_id, [content_hash])
        if len(matrix):
            return np.asarray(matrix[0])
        if self._image_encoder is not None:
            return self._image_encoder(path)
        emb = self.embedder(progress=progress, cancel=cancel)
        try:
            pixels = imageprep.load(path, emb.image_size, emb.resize_mode)
        except imageprep.ImageDecodeError as exc:
            raise search.QueryError(f"cannot use image {path}: {exc}") from exc
        return np.asarray(emb.encode_images(pixels[None])[0])

    def stored_vector(self, content_hash: str) -> np.ndarray:
        _, matrix = vectors.load_vectors(self._connections.db, self.model_id, [content_hash])
        if not len(matrix):
            raise search.NoVector(
                "this image has no vector yet: run `anagnorisis-tui embed` (or wait for the "
                "background embedding) first"
            )
        return np.asarray(matrix[0])

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None

    # -- embedding and the index ------------------------------------------------------------
    def embed(
        self,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        build_index: bool = True,
        batch_size: int | None = None,
    ) -> embed_pipeline.EmbedSummary:
        """Embed every present image without a vector for the model, then rebuild the search
        index when it has fallen behind and tell `on_vectors_added` about new vectors."""
        from anagnorisis_tui.core.semantic import embed_pipeline

        db = self._connections.db
        emb = self.embedder(progress=progress, cancel=cancel)
        self.export_text(emb)
        summary = embed_pipeline.embed_library(
            db,
            emb,
            progress=progress,
            cancel=cancel,
            batch_size=batch_size or embed_pipeline.DEFAULT_BATCH,
        )
        if (
            build_index
            and not summary.cancelled
            and index.needs_build(db, self.data_dir, self.model_id)
        ):
            self.build_index(progress=progress, cancel=cancel)
        if summary.embedded and not summary.cancelled and self._on_vectors_added is not None:
            self._on_vectors_added(progress, cancel)
        return summary

    def build_index(
        self,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> dict[str, Any] | None:
        """Build and atomically publish the model's search index (returns its meta)."""
        return index.build(
            self._connections.db, self.data_dir, self.model_id, progress=progress, cancel=cancel
        )

    def vector_counts(self) -> tuple[int, int]:
        """(present images with a vector for the model, present images)."""
        from anagnorisis_tui.core.semantic import embed_pipeline

        return embed_pipeline.counts(self._connections.db, self.model_id)

    def embed_errors(self) -> list[tuple[str, str, str]]:
        """(hash, path, reason) of images the model could not decode/embed."""
        from anagnorisis_tui.core.semantic import embed_pipeline

        return embed_pipeline.errors(self._connections.db, self.model_id)

    def export_vectors(self, path: str | Path) -> int:
        """Write the model's vectors to a file keyed by content hash (vector_io.py)."""
        return vector_io.export_file(self._connections.db, self.model_id, path)

    def import_vectors(
        self,
        path: str | Path,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> vector_io.ImportSummary:
        """Add a file's vectors (same model id, or VectorFileError), then rebuild the index and
        tell `on_vectors_added`, as embedding them here would."""
        model_id = self.model_id
        summary = vector_io.import_file(
            self._connections.db, path, model_id, expected_dim=self._known_dim(model_id)
        )
        if summary.imported:
            self.build_index(progress=progress, cancel=cancel)
            if self._on_vectors_added is not None:
                self._on_vectors_added(progress, cancel)
        return summary

    def _known_dim(self, model_id: str) -> int | None:
        """The vector length this machine's model makes, when known without loading it: from
        its exported ONNX engine's spec.json (None when there is none yet)."""
        import json

        from anagnorisis_tui.core.semantic.onnx_models import cache_dir

        try:
            spec = json.loads((cache_dir(self.data_dir, model_id) / "spec.json").read_text())
            return int(spec["dim"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def vector_model_id(self) -> str | None:
        """The configured model when it has vectors; else None (callers then use the model
        with the most vectors, so a library embedded with another model still works)."""
        try:
            model_id = self.model_id
        except model_choice.ModelUnavailable:
            return None
        return model_id if vectors.model_spec(self._connections.db, model_id) is not None else None

    # -- search -----------------------------------------------------------------------------
    def ranked(
        self, query: str, *, limit: int | None = 1000, cutoff: float | None = None
    ) -> list[tuple[str, float]]:
        """(content hash, score) best first for a query, for filters to join in SQL.

        limit=None scores every vector exactly. Hashes may include images no longer present.
        """
        vec, exact = self._query(query)
        found = self.searcher().ranked(self._connections.db, vec, limit, exact=exact)
        return [(h, s) for h, s in found if cutoff is None or s >= cutoff]

    def search(
        self,
        query: str,
        *,
        top_k: int = 100,
        cutoff: float | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> list[SearchHit]:
        """Top images for a query (hash, path, score); `progress`/`cancel` as query_vector's."""
        vec, exact = self._query(query, progress=progress, cancel=cancel)
        db = self._connections.db
        return search.hits(db, self.searcher(), vec, top_k=top_k, cutoff=cutoff, exact=exact)

    def similar(self, content_hash: str, *, top_k: int = 100) -> list[SearchHit]:
        """Images most like the one with this content hash (itself excluded); raises NoVector
        when it has no vector yet."""
        vec = self.stored_vector(content_hash)
        db = self._connections.db
        return search.hits(db, self.searcher(), vec, top_k=top_k, exclude={content_hash})

    def similar_image(
        self,
        path: str,
        *,
        top_k: int = 100,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> list[SearchHit]:
        """Images most like an image file (in the library or not; itself excluded);
        `progress`/`cancel` as query_vector's."""
        db = self._connections.db
        content_hash = search.image_hash_for(db, path)
        vec = self.image_vector(path, progress=progress, cancel=cancel)
        return search.hits(db, self.searcher(), vec, top_k=top_k, exclude={content_hash})
