"""The duplicates service: perceptual hashes, similarity groups, and the group actions that lose
nothing (plan, apply, undo)."""

from __future__ import annotations

import threading

from anagnorisis_tui.core.base.progress import ProgressCallback
from anagnorisis_tui.core.base.service import VectorService
from anagnorisis_tui.core.catalogue import thumbnails
from anagnorisis_tui.core.duplicates import actions, phash, renditions
from anagnorisis_tui.core.duplicates import groups as groups_mod


class DuplicatesService(VectorService):
    def compute_phashes(
        self,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> phash.PhashSummary:
        """Perceptual hashes for images that lack one (needs no model)."""
        return phash.compute_missing(self._connections.db, progress=progress, cancel=cancel)

    def compute_renditions(
        self,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> renditions.RenditionSummary:
        """Verification renditions (and missing pHashes, from the same decode) for images that
        lack one."""
        return renditions.compute_missing(self._connections.db, progress=progress, cancel=cancel)

    def groups(self, **kwargs: object) -> list[groups_mod.Group]:
        """Verified duplicate groups, strongest tier first (see group_report)."""
        return self.group_report(**kwargs).groups  # type: ignore[arg-type]

    def group_report(
        self,
        *,
        threshold: float = groups_mod.DEFAULT_THRESHOLD,
        method: str = "both",
        phash_distance: int = groups_mod.DEFAULT_PHASH_DISTANCE,
        root: str | None = None,
        folder: str | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> groups_mod.GroupReport:
        """Verified duplicate groups with what was left out; computes missing renditions and
        pHashes first (one decode gives both)."""
        self.compute_renditions(progress=progress, cancel=cancel)
        if method in ("both", "phash"):
            self.compute_phashes(progress=progress, cancel=cancel)
        return groups_mod.group_report(
            self._connections.db,
            threshold=threshold,
            method=method,
            phash_distance=phash_distance,
            model_id=self._vector_model_id(),
            root=root,
            folder=folder,
            workdir=str(self._data_dir),
            thumbnail_cache=str(thumbnails.cache_dir(self._data_dir)),
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
        tiers: tuple[str, ...] | None = None,
        include: dict[int, set[str]] | None = None,
    ) -> actions.Plan:
        return actions.plan_group_action(
            groups, action=action, dest_dir=dest_dir, keepers=keepers, tiers=tiers, include=include
        )

    def apply_group_action(
        self, plan: actions.Plan, *, dry_run: bool = False
    ) -> actions.ActionReport:
        return actions.apply_group_action(self._connections.db, plan, dry_run=dry_run)

    def undo(self, batch: str) -> actions.UndoReport:
        return actions.undo(self._connections.db, batch)

    def action_batches(self, limit: int = 20) -> list[dict]:
        return actions.batches(self._connections.db, limit)
