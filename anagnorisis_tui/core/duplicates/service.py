"""The duplicates service: perceptual hashes, similarity groups, and the group actions that lose
nothing (plan, apply, undo)."""

from __future__ import annotations

import threading
from typing import Any

from anagnorisis_tui.core.base.progress import ProgressCallback
from anagnorisis_tui.core.base.service import VectorService
from anagnorisis_tui.core.catalogue import thumbnails
from anagnorisis_tui.core.duplicates import actions, dismissals, phash, renditions
from anagnorisis_tui.core.duplicates import groups as groups_mod
from anagnorisis_tui.core.duplicates import keepers as keepers_mod
from anagnorisis_tui.core.duplicates.options import GroupOptions


class DuplicatesService(VectorService):
    # The keeper rules and reference folders from the settings (core/library.py sets them).
    rules: keepers_mod.KeeperRules = keepers_mod.KeeperRules()

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

    def groups(
        self,
        options: GroupOptions | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> list[groups_mod.Group]:
        """Verified duplicate groups, strongest tier first (see group_report)."""
        return self.group_report(options, progress=progress, cancel=cancel).groups

    def group_report(
        self,
        options: GroupOptions | None = None,
        *,
        rules: keepers_mod.KeeperRules | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> groups_mod.GroupReport:
        """Verified duplicate groups with what was left out; computes missing renditions and
        pHashes first (one decode gives both)."""
        options = options or GroupOptions()
        self.compute_renditions(progress=progress, cancel=cancel)
        if options.method in ("both", "phash"):
            self.compute_phashes(progress=progress, cancel=cancel)
        return groups_mod.group_report(
            self._connections.db,
            options,
            model_id=self._vector_model_id(),
            workdir=str(self._data_dir),
            thumbnail_cache=str(thumbnails.cache_dir(self._data_dir)),
            rules=rules or self.rules,
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
        rules: keepers_mod.KeeperRules | None = None,
    ) -> actions.Plan:
        """The plan (plan.py); files in the reference folders of `rules` (default: the
        settings') never move."""
        return actions.plan_group_action(
            groups,
            action=action,
            dest_dir=dest_dir,
            keepers=keepers,
            tiers=tiers,
            include=include,
            protected=(rules or self.rules).protected,
        )

    def dismiss(self, group: groups_mod.Group) -> int:
        """Remember that a group's pictures are not duplicates; the decision's id."""
        return dismissals.dismiss(self._connections.db, [m.hash for m in group.members])

    def dismissed(self) -> list[dismissals.Dismissal]:
        return dismissals.listed(self._connections.db)

    def take_back(self, decision: int) -> dismissals.Dismissal:
        return dismissals.take_back(self._connections.db, decision)

    def apply_group_action(
        self, plan: actions.Plan, *, dry_run: bool = False
    ) -> actions.ActionReport:
        return actions.apply_group_action(self._connections.db, plan, dry_run=dry_run)

    def undo(self, batch: str) -> actions.UndoReport:
        return actions.undo(self._connections.db, batch)

    def action_batches(self, limit: int = 20) -> list[dict[str, Any]]:
        return actions.batches(self._connections.db, limit)
