"""Library facade, filters part (issue 4): text concepts, similarity groups and the group
actions that lose nothing (plan, apply, undo).

Thin methods mixed into `core.library.Library`; the work is in core/filters.py, textscores.py,
phash.py, groups.py and actions.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from anagnorisis_tui.core.duplicates import actions, phash
from anagnorisis_tui.core.duplicates import groups as groups_mod
from anagnorisis_tui.core.views import text_scores as textscores
from anagnorisis_tui.core.views.filters import FilterError

if TYPE_CHECKING:
    from pathlib import Path

    import sqlite_utils


class FiltersMixin:
    if TYPE_CHECKING:
        db: sqlite_utils.Database
        data_dir: Path
        model_id: str

        def query_vector(self, query: str) -> np.ndarray: ...

        def _vector_model_id(self) -> str | None: ...

    def text_vector(self, text: str) -> tuple[str, np.ndarray]:
        """(model id, unit vector) for a search or a text concept, in the search language of
        core/search.py when the embeddings module provides it (issue 3).

        Cached per Library: paging and re-sorting a view never re-encode its text."""
        cache = self.__dict__.setdefault("_text_vectors", {})
        if text not in cache:
            from anagnorisis_tui.core.semantic.search import QueryError

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
