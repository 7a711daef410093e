"""The evaluator and ratings services.

`EvaluatorService`: training the personal evaluator on the user's ratings, its predictions and
the rate-next queue. `RatingsService`: the user's ratings themselves, and moving them in and out
(JSON/CSV files, XMP sidecars).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from anagnorisis_tui.core.base import paths, ratings
from anagnorisis_tui.core.base.connections import Connections
from anagnorisis_tui.core.base.progress import ProgressCallback
from anagnorisis_tui.core.base.service import VectorService
from anagnorisis_tui.core.evaluator import rate_next, rating_io, store, training
from anagnorisis_tui.core.evaluator.rate_next import Explanation
from anagnorisis_tui.core.semantic import vectors


class EvaluatorService(VectorService):
    def model_id(self) -> str:
        """The embedding model whose vectors the evaluator reads: the active one, else the
        model with the most stored vectors."""
        active = self._vector_model_id()
        if active is not None:
            return active
        most = vectors.most_stored_model(self._connections.db)
        if most is None:
            raise training.TrainingError(
                "no image has vectors yet: run `anagnorisis-tui embed` first"
            )
        return most

    def train(
        self,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        seed: int = 0,
    ) -> training.TrainReport:
        return training.train(
            self._connections.db,
            self.model_id(),
            paths.models_dir(self._data_dir),
            seed=seed,
            progress=progress,
            cancel=cancel,
        )

    def info(self) -> dict[str, Any] | None:
        """The active evaluator (id, kind, created, and its last training report's metrics)."""
        return store.active_row(self._connections.db, self.model_id())

    def prediction(self, content_hash: str) -> store.Prediction | None:
        db = self._connections.db
        try:
            row = store.active_row(db, self.model_id())
        except training.TrainingError:
            row = None
        return store.get_prediction(db, content_hash, row["id"] if row else None)

    def refresh_predictions(
        self,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> int:
        """Predict images that got vectors since training (call after embedding)."""
        db = self._connections.db
        active = store.load_active(db, self.model_id())
        if active is None:
            return 0
        return store.refresh_predictions(db, active, progress=progress, cancel=cancel)

    def refresh_predictions_quietly(
        self,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> int:
        """After embedding: predict the new vectors if an evaluator for this model exists.
        Never raises for a missing or mismatched evaluator (training says what to do)."""
        try:
            return self.refresh_predictions(progress=progress, cancel=cancel)
        except (training.TrainingError, store.EvaluatorError):
            return 0

    def rate_next(self, *, top_k: int = 50) -> list[rate_next.QueueItem]:
        return rate_next.rate_next(self._connections.db, self.model_id(), top_k=top_k)

    def explain(self, content_hash: str, *, top_k: int = 5) -> Explanation:
        db = self._connections.db
        return rate_next.explain(db, self.model_id(), content_hash, top_k=top_k)


class RatingsService:
    def __init__(self, connections: Connections) -> None:
        self._connections = connections

    def set(self, content_hash: str, value: object, *, source: str = "user") -> float:
        return ratings.set_rating(self._connections.db, content_hash, value, source=source)

    def clear(self, content_hash: str) -> None:
        ratings.clear_rating(self._connections.db, content_hash)

    def get(self, content_hash: str) -> float | None:
        found = ratings.get_rating(self._connections.db, content_hash)
        return found.value if found else None

    def image_hash(self, path: str | os.PathLike[str]) -> str | None:
        return rating_io.hash_for_path(self._connections.db, path)

    def export_ratings(
        self, path: str | os.PathLike[str], fmt: str | None = None, *, private: bool = False
    ) -> int:
        return rating_io.export_file(self._connections.db, Path(path), fmt, private=private)

    def import_ratings(
        self, path: str | os.PathLike[str], fmt: str | None = None, *, keep_existing: bool = False
    ) -> rating_io.ImportReport:
        db = self._connections.db
        return rating_io.import_file(db, Path(path), fmt, keep_existing=keep_existing)

    def export_xmp(
        self,
        *,
        overwrite: bool = False,
        private: bool = False,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> rating_io.SidecarReport:
        """Write XMP sidecars beside rated images: only ever on an explicit user command.
        Stars another app set are kept unless `overwrite`."""
        db = self._connections.db
        return rating_io.export_sidecars(
            db, overwrite=overwrite, private=private, progress=progress, cancel=cancel
        )

    def import_xmp(
        self,
        *,
        keep_existing: bool = False,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> tuple[rating_io.SidecarReport, rating_io.ImportReport]:
        return rating_io.import_sidecars(
            self._connections.db, keep_existing=keep_existing, progress=progress, cancel=cancel
        )
