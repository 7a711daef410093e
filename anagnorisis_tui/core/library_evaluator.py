"""Library facade, personal evaluator part (issue 5): ratings I/O, training, predictions and
the rate-next queue.

Thin methods mixed into `core.library.Library`; the work is in core/evaluator.py,
eval_store.py, rate_next.py and rating_io.py.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from anagnorisis_tui.core.base import paths
from anagnorisis_tui.core.base.progress import ProgressCallback
from anagnorisis_tui.core.evaluator import rate_next, rating_io
from anagnorisis_tui.core.evaluator import store as eval_store
from anagnorisis_tui.core.evaluator import training as evaluator

if TYPE_CHECKING:
    import sqlite_utils


class EvaluatorMixin:
    if TYPE_CHECKING:
        db: sqlite_utils.Database
        data_dir: Path

        def _vector_model_id(self) -> str | None: ...

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
