"""The one facade the UI (and the CLI) calls. UI-free: no Textual, no Rich, no torch at import.

A Library owns the settings and hands each thread its own SQLite connection. Long-running
methods take `progress` and `cancel` (a threading.Event) and return plain data.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import sqlite_utils

from anagnorisis_tui.core import (
    actions,
    eval_store,
    evaluator,
    fsnames,
    paths,
    phash,
    query,
    rate_next,
    rating_io,
    ratings,
    textscores,
)
from anagnorisis_tui.core import db as dbmod
from anagnorisis_tui.core import groups as groups_mod
from anagnorisis_tui.core.config import Settings
from anagnorisis_tui.core.filters import FilterError
from anagnorisis_tui.core.progress import ProgressCallback

if TYPE_CHECKING:
    from anagnorisis_tui.core.scan import ScanSummary


class Library:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._local = threading.local()
        self._connections: list[sqlite_utils.Database] = []
        self._lock = threading.Lock()

    # -- connections ---------------------------------------------------------------------
    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection (created, and the schema migrated, on first use)."""
        conn = getattr(self._local, "db", None)
        if conn is None:
            conn = dbmod.connect(self.settings.database)
            self._local.db = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                # Closing a connection made on another thread may be refused; it dies with it.
                with contextlib.suppress(Exception):
                    conn.conn.close()
            self._connections.clear()
        self._local = threading.local()

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    # -- ratings -------------------------------------------------------------------------
    def set_rating(self, content_hash: str, value: object, *, source: str = "user") -> float:
        return ratings.set_rating(self.db, content_hash, value, source=source)

    def clear_rating(self, content_hash: str) -> None:
        ratings.clear_rating(self.db, content_hash)

    def rating(self, content_hash: str) -> float | None:
        found = ratings.get_rating(self.db, content_hash)
        return found.value if found else None

    # -- views ---------------------------------------------------------------------------
    def count(self, spec: query.ViewSpec) -> int:
        return query.count(self.db, spec, scores=self._score_table)

    def page(self, spec: query.ViewSpec, offset: int, limit: int) -> list[query.ImageEntry]:
        return query.page(self.db, spec, offset, limit, scores=self._score_table)

    # -- library roots and scanning (issue 2; core/scan.py) --------------------------------
    def roots(self) -> list[str]:
        """Saved library folders (absolute paths), the current one first."""
        return list(self.settings.library_roots)

    def set_root(self, path: str | os.PathLike[str]) -> str:
        """Make `path` the library folder (saved to settings); returns its absolute path.

        Raises scan.ScanError if it does not exist or is not a folder.
        """
        from anagnorisis_tui.core import scan as scanmod

        root = scanmod.normalise_root(path)
        self.settings.library_roots = [root]
        self.settings.save()
        return root

    def scan(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        on_file: Callable[..., None] | None = None,
    ) -> ScanSummary:
        """Scan `root` (default: the saved library) into the catalogue from this thread."""
        from anagnorisis_tui.core import scan as scanmod

        if root is None:
            if not self.settings.library_roots:
                raise scanmod.ScanError("no library folder saved: choose one first")
            root = self.settings.library_roots[0]
        return scanmod.scan(
            self.db,
            root,
            excludes=self.settings.all_excludes(),
            progress=progress,
            cancel=cancel,
            on_file=on_file,
        )

    def folders(self, root: str | None = None) -> list[tuple[str, int]]:
        """(folder relative to root, images in it and below) for a folder tree, '' first."""
        from anagnorisis_tui.core import scan as scanmod

        root = root if root is not None else (self.roots() or [None])[0]
        if root is None:
            return []
        return scanmod.folder_counts(self.db, fsnames.to_db(os.path.abspath(root)))

    def entry(self, path: str) -> query.ImageEntry | None:
        """The catalogue entry of a present file by its catalogue path text, or None."""
        return query.entry(self.db, path)

    def errors(self, root: str | None = None) -> list[tuple[str, str]]:
        """(path, reason) of every bad file recorded by scans (under root, if given)."""
        from anagnorisis_tui.core import scan as scanmod

        return scanmod.scan_errors(self.db, fsnames.to_db(os.path.abspath(root)) if root else None)

    # -- personal evaluator (issue 5): ratings I/O, training, predictions, queue -------------
    def evaluator_model_id(self) -> str:
        """The embedding model whose vectors the evaluator reads: the active one (issue 3),
        else the model with the most stored vectors."""
        active = self._vector_model_id()
        if active is not None:
            return active
        row = self.db.execute(
            "SELECT model_id FROM vectors GROUP BY model_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        if row is None:
            raise evaluator.TrainingError(
                "no image has vectors yet: run `anagnorisis-tui embed` first"
            )
        return row[0]

    def image_hash(self, path: str | os.PathLike[str]) -> str | None:
        return rating_io.hash_for_path(self.db, path)

    def train(
        self,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        seed: int = 0,
    ) -> evaluator.TrainReport:
        return evaluator.train(
            self.db,
            self.evaluator_model_id(),
            paths.models_dir(self.data_dir),
            seed=seed,
            progress=progress,
            cancel=cancel,
        )

    def evaluator_info(self) -> dict | None:
        """The active evaluator (id, kind, created, and its last training report's metrics)."""
        return eval_store.active_row(self.db, self.evaluator_model_id())

    def prediction(self, content_hash: str) -> eval_store.Prediction | None:
        try:
            row = eval_store.active_row(self.db, self.evaluator_model_id())
        except evaluator.TrainingError:
            row = None
        return eval_store.get_prediction(self.db, content_hash, row["id"] if row else None)

    def refresh_predictions(
        self,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> int:
        """Predict images that got vectors since training (call after embedding)."""
        active = eval_store.load_active(self.db, self.evaluator_model_id())
        if active is None:
            return 0
        return eval_store.refresh_predictions(self.db, active, progress=progress, cancel=cancel)

    def refresh_predictions_quietly(
        self,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> int:
        """After embedding: predict the new vectors if an evaluator for this model exists.
        Never raises for a missing or mismatched evaluator (training says what to do)."""
        try:
            return self.refresh_predictions(progress=progress, cancel=cancel)
        except (evaluator.TrainingError, eval_store.EvaluatorError):
            return 0

    def rate_next(self, *, top_k: int = 50) -> list[rate_next.QueueItem]:
        return rate_next.rate_next(self.db, self.evaluator_model_id(), top_k=top_k)

    def explain(self, content_hash: str, *, top_k: int = 5) -> rate_next.Explanation:
        return rate_next.explain(self.db, self.evaluator_model_id(), content_hash, top_k=top_k)

    def export_ratings(self, path: str | os.PathLike[str], fmt: str | None = None) -> int:
        return rating_io.export_file(self.db, Path(path), fmt)

    def import_ratings(
        self, path: str | os.PathLike[str], fmt: str | None = None, *, keep_existing: bool = False
    ) -> rating_io.ImportReport:
        return rating_io.import_file(self.db, Path(path), fmt, keep_existing=keep_existing)

    def export_xmp(
        self,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> rating_io.SidecarReport:
        """Write XMP sidecars beside rated images: only ever on an explicit user command."""
        return rating_io.export_sidecars(self.db, progress=progress, cancel=cancel)

    def import_xmp(
        self,
        *,
        keep_existing: bool = False,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> tuple[rating_io.SidecarReport, rating_io.ImportReport]:
        return rating_io.import_sidecars(
            self.db, keep_existing=keep_existing, progress=progress, cancel=cancel
        )

    # -- filters, groups and duplicate clean-up (issue 4; core/filters.py, groups.py, ...) ---
    def text_vector(self, text: str) -> tuple[str, np.ndarray]:
        """(model id, unit vector) for a search or a text concept, in the search language of
        core/search.py when the embeddings module provides it (issue 3).

        Cached per Library: paging and re-sorting a view never re-encode its text."""
        cache = self.__dict__.setdefault("_text_vectors", {})
        if text not in cache:
            from anagnorisis_tui.core.search import QueryError

            try:  # issue 3: the search language; raises ModelUnavailable with the fix
                cache[text] = (self.model_id, self.query_vector(text))
            except QueryError as exc:
                raise FilterError(str(exc)) from exc
        return cache[text]

    def _score_table(self, text: str) -> str:
        model_id, vector = self.text_vector(text)
        return textscores.score_table(self.db, model_id, vector)

    def compute_phashes(self, *, progress=None, cancel=None) -> phash.PhashSummary:
        """Perceptual hashes for images that lack one (needs no model)."""
        return phash.compute_missing(self.db, progress=progress, cancel=cancel)

    def groups(
        self,
        *,
        threshold: float = groups_mod.DEFAULT_THRESHOLD,
        method: str = "both",
        phash_distance: int = groups_mod.DEFAULT_PHASH_DISTANCE,
        root: str | None = None,
        folder: str | None = None,
        progress=None,
        cancel=None,
    ) -> list[groups_mod.Group]:
        """Near-duplicate groups / clusters, tightest first; computes missing pHashes first."""
        if method in ("both", "phash"):
            self.compute_phashes(progress=progress, cancel=cancel)
        return groups_mod.find_groups(
            self.db,
            threshold=threshold,
            method=method,
            phash_distance=phash_distance,
            model_id=self._vector_model_id(),
            root=root,
            folder=folder,
            workdir=str(self.data_dir),
            progress=progress,
            cancel=cancel,
        )

    def _vector_model_id(self) -> str | None:
        """The configured model (issue 3) when it has vectors; else None (callers then use the
        model with the most vectors, so a library embedded with another model still works)."""
        from anagnorisis_tui.core import vectors
        from anagnorisis_tui.core.models import ModelUnavailable

        try:
            model_id = self.model_id
        except ModelUnavailable:
            return None
        return model_id if vectors.model_spec(self.db, model_id) is not None else None

    def plan_group_action(
        self,
        groups: list[groups_mod.Group],
        *,
        action: str = "trash",
        dest_dir: str | None = None,
        keepers: dict[int, str] | None = None,
    ) -> actions.Plan:
        return actions.plan_group_action(groups, action=action, dest_dir=dest_dir, keepers=keepers)

    def apply_group_action(
        self, plan: actions.Plan, *, dry_run: bool = False
    ) -> actions.ActionReport:
        return actions.apply_group_action(self.db, plan, dry_run=dry_run)

    def undo(self, batch: str) -> actions.UndoReport:
        return actions.undo(self.db, batch)

    def action_batches(self, limit: int = 20) -> list[dict]:
        return actions.batches(self.db, limit)

    # -- embeddings, index and search (issue 3; core/semantic.py and the modules it uses) ----
    @property
    def semantic(self):
        """Model, engine, text encoder and searcher for this library (core/semantic.py)."""
        sem = self.__dict__.get("_semantic")
        if sem is None:
            from anagnorisis_tui.core.semantic import Semantic

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
        from anagnorisis_tui.core import index, pipeline

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
        from anagnorisis_tui.core import index

        return index.build(self.db, self.data_dir, self.model_id, progress=progress, cancel=cancel)

    def vector_counts(self) -> tuple[int, int]:
        """(present images with a vector for the model, present images)."""
        from anagnorisis_tui.core import pipeline

        return pipeline.counts(self.db, self.model_id)

    def embed_errors(self) -> list[tuple[str, str, str]]:
        """(hash, path, reason) of images the model could not decode/embed."""
        from anagnorisis_tui.core import pipeline

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
        from anagnorisis_tui.core import search

        vec = self.query_vector(query)
        return search.hits(self.db, self.semantic.searcher(), vec, top_k=top_k, cutoff=cutoff)

    def similar(self, content_hash: str, *, top_k: int = 100):
        """Images most like the one with this content hash (itself excluded); raises
        search.NoVector when it has no vector yet."""
        from anagnorisis_tui.core import search

        vec = self.semantic.stored_vector(self.db, content_hash)
        searcher = self.semantic.searcher()
        return search.hits(self.db, searcher, vec, top_k=top_k, exclude={content_hash})

    def similar_image(self, path: str, *, top_k: int = 100):
        """Images most like an image file (in the library or not; itself excluded)."""
        from anagnorisis_tui.core import search

        content_hash = search.image_hash_for(self.db, path)
        vec = self.semantic.image_vector(self.db, path)
        searcher = self.semantic.searcher()
        return search.hits(self.db, searcher, vec, top_k=top_k, exclude={content_hash})

    # -- terminal app support (issue 7) -------------------------------------------------------
    def search_preview(self, text: str, *, top_k: int) -> list[query.ImageEntry]:
        """The first `top_k` results of a plain search from the index (tens of ms), as catalogue
        entries with their scores, for a screen to paint while the exact, filterable view of
        the same search (`count`/`page` with ViewSpec.search) is computed."""
        import dataclasses

        from anagnorisis_tui.core import search

        _, vector = self.text_vector(text)  # cached: the exact view reuses the encoding
        out = []
        for hit in search.hits(self.db, self.semantic.searcher(), vector, top_k=top_k):
            found = query.entry(self.db, hit.path)
            if found is not None:
                out.append(dataclasses.replace(found, score=hit.score))
        return out
