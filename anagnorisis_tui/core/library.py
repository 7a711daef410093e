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
        active = getattr(type(self), "model_id", None)
        if active is not None:
            return self.model_id  # type: ignore[attr-defined]
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
        """(model id, normalised text vector) for a search or a text concept.

        Cached per Library: paging and re-sorting a view never re-encode its text."""
        cache = self.__dict__.setdefault("_text_vectors", {})
        if text not in cache:
            if not hasattr(self, "embedder"):
                raise FilterError("semantic search and text concepts need the embedding model")
            embedder = self.embedder()  # issue 3; raises ModelUnavailable with the fix
            cache[text] = (embedder.model_id, np.asarray(embedder.encode_text([text]))[0])
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
        model_id = getattr(self, "model_id", None)
        return model_id if isinstance(model_id, str) else None

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
