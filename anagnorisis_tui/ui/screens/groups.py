"""Similarity groups, one after another: check the suggested keeper, trash the rest, or move on.

Grouping and every file action run in thread workers through the facade; moving files always
asks first (ConfirmScreen), goes to the system trash (never a permanent delete), is logged as a
batch the user can undo, and is summarised on screen: what moved, from where, to where.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from anagnorisis_tui.core.base.progress import Cancelled, Progress
from anagnorisis_tui.core.duplicates.options import DEFAULT_THRESHOLD, METHODS, GroupOptions
from anagnorisis_tui.core.errors import UserError
from anagnorisis_tui.ui.messages import LibraryChanged
from anagnorisis_tui.ui.screens.base import AppScreen
from anagnorisis_tui.ui.screens.confirm import ConfirmScreen
from anagnorisis_tui.ui.state.group_review import GroupReview, TrashRequest
from anagnorisis_tui.ui.state.group_view import (
    Decision,
    GroupRow,
    confirm_text,
    entry_for,
    head_text,
    left_out_text,
    members_of,
    progress_text,
    summary_text,
)
from anagnorisis_tui.ui.state.sources import ListSource
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid
from anagnorisis_tui.ui.widgets.group_members import GroupMembers

if TYPE_CHECKING:
    from anagnorisis_tui.core.duplicates.groups import Group

GROUPS_GROUP = "groups"
ACTION_GROUP = "group-action"
THRESHOLD_STEP = 0.02


class GroupsScreen(AppScreen):
    """Pushed from Search (D) or the command palette."""

    DEFAULT_CSS = """
    GroupsScreen #groups-head {
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    GroupsScreen #groups-body {
        height: 1fr;
    }
    GroupsScreen #members {
        width: 1fr;
        height: 1fr;
    }
    """

    BINDINGS = [
        Binding(
            "s",
            "swap_keeper",
            "Keeper",
            id="groups.swap_keeper",
            tooltip="Make the highlighted image the keeper",
        ),
        Binding(
            "b",
            "keep_best",
            "Keep best",
            id="groups.keep_best",
            tooltip="Keep the member you rated highest (else the model's best guess) and mark "
            "the others for the trash; t sends them, after asking",
        ),
        Binding(
            "t,delete",
            "trash_rest",
            "Trash rest",
            id="groups.trash_rest",
            tooltip="Send every image but the keeper to the trash (asks first)",
        ),
        Binding(
            "a",
            "keep_all",
            "Not dupes",
            id="groups.keep_all",
            tooltip="These are not duplicates: keep every image, remember it (the group never "
            "comes back; `groups --dismissed` lists it) and go on",
        ),
        Binding(
            "i",
            "toggle_member",
            "In/out",
            id="groups.toggle_member",
            tooltip="Put the highlighted image in or out of what 't' sends to the trash",
        ),
        Binding(
            "T",
            "cycle_tier",
            "Tier",
            id="groups.tier",
            tooltip="Show only groups with a member of one tier (all, bytes, … similar)",
        ),
        Binding("n", "skip", "Skip", id="groups.skip", tooltip="Decide later; next group"),
        Binding("p", "previous", "Previous", id="groups.previous", show=False),
        Binding("u", "undo", "Undo", id="groups.undo", tooltip="Undo the last move to the trash"),
        Binding("plus,equals_sign", "threshold(1)", "Stricter", id="groups.stricter", show=False),
        Binding("minus", "threshold(-1)", "Looser", id="groups.looser", show=False),
        Binding("m", "cycle_method", "Method", id="groups.method", show=False),
        Binding("escape,q", "close", "Back", id="groups.close"),
    ]

    @dataclass
    class Grouping(Message):
        progress: Progress

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, GroupsScreen.Grouping)

    @dataclass
    class GroupsLoaded(Message):
        groups: list[GroupRow]
        left_out: str = ""  # what grouping left out and why, for the summary

    @dataclass
    class ActionDone(Message):
        index: int
        decision: Decision

    @dataclass
    class Undone(Message):
        index: int
        restored: list[str]

    def __init__(
        self,
        *,
        threshold: float | None = None,
        method: str = "both",
        root: str | None = None,
        folder: str | None = None,
    ) -> None:
        super().__init__()
        self.threshold = threshold
        self.method = method
        self.root, self.folder = root, folder
        self.review = GroupReview()  # keepers, marks, decisions (ui/state/group_review.py)
        self._busy = False
        self._cancel_load: threading.Event | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("finding similar images…", id="groups-head")
        with Horizontal(id="groups-body"):
            yield ThumbnailGrid(
                image_class=self.app.image_class,
                thumbnails=self.app.thumbnails,
                typeahead=self.app.typeahead,
                empty_text="No similar images found.",
                id="members",
            )
            yield GroupMembers(id="groups-side")

    def on_mount(self) -> None:
        self._load()
        self.query_one("#members", ThumbnailGrid).focus()

    # -- loading --------------------------------------------------------------------------
    def _load(self) -> None:
        """(Re)group with the current threshold and method, stopping any grouping under way."""
        if self._cancel_load is not None:
            self._cancel_load.set()
        self._cancel_load = threading.Event()
        self._group(self._cancel_load)

    @work(thread=True, group=GROUPS_GROUP, exclusive=True, exit_on_error=False)
    def _group(self, cancel: threading.Event) -> None:
        options = GroupOptions(method=self.method, root=self.root, folder=self.folder)
        if self.threshold is not None:
            options = dataclasses.replace(options, threshold=self.threshold)

        def progress(p: Progress) -> None:
            self.post_message(self.Grouping(p))

        try:
            report = self.library.duplicates.group_report(options, progress=progress, cancel=cancel)
        except Cancelled:
            return
        except UserError as exc:  # parameters or data that cannot be grouped
            self.app.call_from_thread(
                self.query_one("#groups-head", Static).update, Text(f"cannot group: {exc}")
            )
            return
        if cancel.is_set():
            return
        rows = [GroupRow(g, [entry_for(self.library, m) for m in g.members]) for g in report.groups]
        self.post_message(self.GroupsLoaded(rows, left_out_text(report)))

    @on(Grouping)
    def _grouping(self, message: Grouping) -> None:
        self.query_one("#groups-head", Static).update(progress_text(message.progress))

    def on_unmount(self) -> None:
        if self._cancel_load is not None:
            self._cancel_load.set()

    @on(GroupsLoaded)
    def _groups_loaded(self, message: GroupsLoaded) -> None:
        self.review.load(message.groups, message.left_out)
        self._show()

    def action_cycle_tier(self) -> None:
        self.review.cycle_tier()
        self._show()

    def action_toggle_member(self) -> None:
        entry = self.query_one("#members", ThumbnailGrid).current_entry
        if entry is not None and self.review.toggle(entry.path):
            self._show()

    # The review's state, as the tests and the summary read it.
    @property
    def groups(self) -> list[GroupRow]:
        return self.review.groups

    @property
    def index(self) -> int:
        return self.review.index

    @property
    def decisions(self) -> dict[int, Decision]:
        return self.review.decisions

    @property
    def tier_filter(self) -> str | None:
        return self.review.tier_filter

    @property
    def group(self) -> GroupRow | None:
        return self.review.group

    def keeper_of(self, index: int) -> str:
        return self.review.keeper_of(index)

    def to_trash(self, index: int) -> list[str]:
        return self.review.to_trash(index)

    # -- showing one group ----------------------------------------------------------------
    def _show(self) -> None:
        head = head_text(
            method=self.method,
            threshold=self.threshold,
            tier_filter=self.review.tier_filter,
            index=self.index,
            groups=self.groups,
            decisions=self.decisions,
        )
        self.query_one("#groups-head", Static).update(head)
        grid = self.query_one("#members", ThumbnailGrid)
        side = self.query_one("#groups-side", GroupMembers)
        group = self.group
        if group is None:
            side.show_members([], keeper="", suggested="", trash=set(), why={})
            grid.set_source(None)
            self._show_summary()
            return
        members = members_of(group)
        grid.set_source(ListSource(members, title=f"group {self.index + 1}"))
        side.show_members(
            members,
            keeper=self.keeper_of(self.index),
            suggested=group.keeper,
            trash=set(self.to_trash(self.index)),
            why={m.path: m.why or m.tier for m in group.group.members},
        )
        self._show_summary()

    def _show_summary(self) -> None:
        log = summary_text(self.decisions)
        if self.review.left_out:
            log.append(f"\n{self.review.left_out}", style="dim")
        self.query_one("#groups-side", GroupMembers).show_log(log)

    @on(ThumbnailGrid.Highlighted, "#members")
    def _member_highlighted(self, message: ThumbnailGrid.Highlighted) -> None:
        if message.entry is not None:
            self.query_one("#groups-side", GroupMembers).highlight(message.index)

    @on(ThumbnailGrid.Selected, "#members")
    def _member_selected(self, message: ThumbnailGrid.Selected) -> None:
        self.app.open_viewer(message.grid.source, message.index)

    # -- actions --------------------------------------------------------------------------
    def _go(self, index: int) -> None:
        self.review.go(index)
        self._show()

    def action_swap_keeper(self) -> None:
        entry = self.query_one("#members", ThumbnailGrid).current_entry
        if self.review.swap_keeper(entry.path if entry is not None else None):
            self._show()

    def action_keep_best(self) -> None:
        if self.review.group is None:
            return
        if not self.review.keep_best():
            self.notify("No member is rated or predicted yet: s picks the keeper by hand.")
            return
        self._show()

    def action_skip(self) -> None:
        self.review.skip()
        self._show()

    def action_previous(self) -> None:
        self._go(self.index - 1)

    def action_keep_all(self) -> None:
        group = self.review.keep_all()
        if group is not None:
            self._remember(group)
            self._show()

    @work(thread=True, group=ACTION_GROUP, exit_on_error=False)
    def _remember(self, group: Group) -> None:
        """Store "not duplicates" for the group's contents (core/duplicates/dismissals.py)."""
        self.library.duplicates.dismiss(group)

    def action_trash_rest(self) -> None:
        if self._busy:
            return
        request = self.review.trash_request()
        if not isinstance(request, TrashRequest):
            if request:
                self.notify(request)
            return
        count = len(request.paths)

        def answered(yes: bool | None) -> None:
            if yes:
                self._busy = True
                self._trash(request.index, request.keeper, request.paths)

        self.app.push_screen(
            ConfirmScreen(
                f"Send {count} file{'s' if count != 1 else ''} to the trash?",
                confirm_text(request.keeper, request.paths),
                confirm_label="Trash",
            ),
            answered,
        )

    @work(thread=True, group=ACTION_GROUP, exit_on_error=False)
    def _trash(self, index: int, keeper: str, paths: list[str]) -> None:
        group = self.groups[index].group
        # Exactly what the user confirmed: the marked members, whatever their tier.
        plan = self.library.duplicates.plan_group_action(
            [group],
            action="trash",
            keepers={group.id: keeper},
            tiers=(),
            include={group.id: set(paths)},
        )
        report = self.library.duplicates.apply_group_action(plan, dry_run=False)
        decision = Decision(
            "trashed",
            keeper=keeper,
            moved=[(path, where or "the system trash") for path, where in report.done],
            failed=list(report.skipped),
            batch=report.batch,
        )
        self.post_message(self.ActionDone(index, decision))

    @on(ActionDone)
    def _action_done(self, message: ActionDone) -> None:
        self._busy = False
        self.review.done(message.index, message.decision)
        moved = len(message.decision.moved)
        self.notify(f"Moved {moved} file{'s' if moved != 1 else ''} to the trash (u undoes).")
        # Other views still list the trashed files until they reload.
        self.app.post_message(LibraryChanged())
        self._show()

    def action_undo(self) -> None:
        target = self.review.undo_target()
        if target is None or self._busy:
            self.notify("Nothing to undo in this session.")
            return
        self._busy = True
        self._undo(*target)

    @work(thread=True, group=ACTION_GROUP, exit_on_error=False)
    def _undo(self, index: int, batch: str) -> None:
        report = self.library.duplicates.undo(batch)
        for path, reason in report.failed:
            self.app.call_from_thread(
                self.notify, f"{path}: {reason}", title="Not restored", severity="warning"
            )
        self.post_message(self.Undone(index, list(report.restored)))

    @on(Undone)
    def _undone(self, message: Undone) -> None:
        self._busy = False
        self.review.undone(message.index)
        names = ", ".join(os.path.basename(p) for p in message.restored)
        self.notify(f"Restored {len(message.restored)}: {names}" if names else "Restored.")
        self.app.post_message(LibraryChanged())
        self._show()

    def action_threshold(self, direction: int) -> None:
        base = self.threshold if self.threshold is not None else DEFAULT_THRESHOLD
        self.threshold = round(min(1.0, max(0.5, base + direction * THRESHOLD_STEP)), 3)
        self.query_one("#groups-head", Static).update(f"regrouping at {self.threshold:g}…")
        self._load()

    def action_cycle_method(self) -> None:
        self.method = METHODS[(METHODS.index(self.method) + 1) % len(METHODS)]
        self._load()

    def action_close(self) -> None:
        self.dismiss()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        if event.worker.group in (GROUPS_GROUP, ACTION_GROUP):
            self._busy = False  # the app's one handler reports the error itself
