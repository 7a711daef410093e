"""Group actions that lose nothing: plan, dry run, apply, undo.

A plan lists, per group, the keeper and what happens to each other member: to the system trash
or moved to a chosen folder (keeping its path relative to its library root). Nothing is ever
deleted permanently. Applying a plan re-checks every file first: a file moved, changed or
deleted by another program since the listing is reported and skipped, and a group whose keeper
is gone or changed is skipped whole, so the last copy can never be thrown away.

Every action is written to `file_actions` (one batch id per apply) before the file is touched,
so an interrupted run can still be undone. Ratings go to the keeper (the most recent rating in
the group, when the keeper has none), recorded as 'carry' rows so undo can take them back.

Planning lives in actions_plan.py, applying and undo in actions_apply.py; this module is the
one place callers import from.
"""

from __future__ import annotations

from anagnorisis_tui.core.duplicates.apply import (
    ActionReport,
    UndoReport,
    apply_group_action,
    batches,
    file_hash,
    new_batch,
    undo,
)
from anagnorisis_tui.core.duplicates.plan import (
    ACTIONS,
    ActionError,
    Plan,
    PlannedAction,
    plan_group_action,
    plan_to_json,
)

__all__ = [
    "ACTIONS",
    "ActionError",
    "ActionReport",
    "Plan",
    "PlannedAction",
    "UndoReport",
    "apply_group_action",
    "batches",
    "file_hash",
    "new_batch",
    "plan_group_action",
    "plan_to_json",
    "undo",
]
