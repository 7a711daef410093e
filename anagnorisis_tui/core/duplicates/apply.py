"""Group actions, applying and undoing a plan (see core/duplicates/actions.py for the guarantees).

Every action is logged in `file_actions` before the file is touched, so an interrupted run can
still be undone; undo checks content hashes before moving anything back.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from anagnorisis_tui.core.base import fsnames, hashing, ratings
from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.duplicates import sidecars, trash
from anagnorisis_tui.core.duplicates.plan import ActionError, Plan, PlannedAction, is_inside


@dataclass
class ActionReport:
    batch: str | None
    dry_run: bool
    done: list[tuple[str, str | None]] = field(default_factory=list)  # (path, where it went)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    carried: list[tuple[str, str]] = field(default_factory=list)  # (from hash, keeper hash)
    sidecars: list[tuple[str, str]] = field(default_factory=list)  # (from, to): XMP sidecars

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class UndoReport:
    batch: str
    restored: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    ratings_reverted: int = 0


def file_hash(path: str) -> str:
    """xxh3-128 of the bytes, hex: the catalogue's content hash (the same function scans use)."""
    return hashing.content_hash_file(path)[0]


def _unchanged(path: str, size: int, mtime_ns: int) -> str | None:
    """None when the file is as listed, else why not."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "no longer there (moved or deleted by another program)"
    except OSError as exc:
        return f"cannot read it: {exc.strerror}"
    if st.st_size != size or st.st_mtime_ns != mtime_ns:
        return "changed since the listing"
    return None


def _content_differs(path: str, expected: str) -> str | None:
    try:
        return None if file_hash(path) == expected else "its content changed since the listing"
    except OSError as exc:
        return f"cannot read it: {exc.strerror or exc}"


def new_batch() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def apply_group_action(
    db: Database, plan: Plan, *, dry_run: bool = False, verify: bool = True
) -> ActionReport:
    """Carry out (or with dry_run, only check and list) a plan. See the module docstring."""
    report = ActionReport(None if dry_run else new_batch(), dry_run)
    by_group: dict[int, list[PlannedAction]] = {}
    for item in plan.items:
        by_group.setdefault(item.group, []).append(item)
    for group_items in by_group.values():
        first = group_items[0]
        keeper_os = fsnames.to_os(first.keeper)
        problem = _unchanged(keeper_os, first.keeper_size, first.keeper_mtime_ns)
        if problem is None and verify and not dry_run:
            problem = _content_differs(keeper_os, first.keeper_hash)
        if problem:
            untouched = f"keeper {first.keeper} is {problem}; nothing in this group was touched"
            report.skipped += [(item.path, untouched) for item in group_items]
            continue
        removed: list[str] = []
        for item in group_items:
            source = fsnames.to_os(item.path)
            why = _unchanged(source, item.size, item.mtime_ns)
            if why is None and verify and not dry_run:
                why = _content_differs(source, item.hash)
            if why:
                report.skipped.append((item.path, why))
                continue
            if dry_run:
                report.done.append((item.path, item.dest if item.action == "move" else "trash"))
                continue
            assert report.batch is not None  # made for every run but a dry one
            where = _act(db, report.batch, item, report)
            if where is not None:
                removed.append(item.hash)
        if removed and not dry_run:
            _carry(db, report, removed, first.keeper_hash)
    return report


def _act(db: Database, batch: str, item: PlannedAction, report: ActionReport) -> str | None:
    at = time.time()
    source = fsnames.to_os(item.path)
    # The exact target is chosen and logged before the file moves: if we are killed mid-move,
    # undo knows where to look (and checks the content hash before moving anything back).
    target = None
    if item.action == "move":
        assert item.dest is not None  # a move is planned with its destination
        target = _free_name(fsnames.to_os(item.dest))
    logged = fsnames.to_db(target) if target is not None else None
    with db.transaction():
        row_id = db.execute(
            "INSERT INTO file_actions(batch, action, source, dest, hash, at) VALUES (?, ?, ?, ?, ?, ?)",
            [batch, item.action, item.path, logged, item.hash, at],
        ).lastrowid
    try:
        if target is None:
            where_os = trash.send(source)
        else:
            where_os = target
            os.makedirs(os.path.dirname(where_os), exist_ok=True)
            shutil.move(source, where_os)
    except OSError as exc:
        with db.transaction():
            db.execute("DELETE FROM file_actions WHERE id = ?", [row_id])
        report.skipped.append((item.path, f"could not {item.action} it: {exc}"))
        return None
    where = fsnames.to_db(where_os) if where_os is not None else None
    with db.transaction():
        db.execute("UPDATE file_actions SET dest = ? WHERE id = ?", [where, row_id])
        _moved_row(db, item.path, where if item.action == "move" else None, at)
    report.done.append((item.path, where if where is not None else "trash"))
    report.sidecars += sidecars.follow(
        db, batch, source, fsnames.to_os(item.keeper), item.action, where_os
    )
    return where or "trash"


def _free_name(path: str) -> str:
    if not os.path.lexists(path):
        return path
    base, ext = os.path.splitext(path)
    n = 1
    while os.path.lexists(f"{base} ({n}){ext}"):
        n += 1
    return f"{base} ({n}){ext}"


def _root_of(db: Database, path: str) -> str | None:
    roots = [r[0] for r in db.execute("SELECT DISTINCT root FROM files").fetchall()]
    inside = [r for r in roots if is_inside(path, r)]
    return max(inside, key=len) if inside else None


def _moved_row(db: Database, source: str, dest: str | None, at: float) -> None:
    """Keep the views right: a trashed file is absent; a moved one follows its new path when
    that is inside a library root, else it is absent too."""
    root = _root_of(db, dest) if dest is not None else None
    if dest is None or root is None:
        db.execute("UPDATE files SET present = 0, updated = ? WHERE path = ?", [at, source])
        return
    rel = os.path.relpath(dest, root)
    folder = os.path.dirname(rel)
    db.execute("DELETE FROM files WHERE path = ? AND present = 0", [dest])
    db.execute(
        "UPDATE files SET path = ?, root = ?, folder = ?, name = ?, updated = ? WHERE path = ?",
        [dest, root, folder, os.path.basename(dest), at, source],
    )


def _carry(db: Database, report: ActionReport, removed: list[str], keeper: str) -> None:
    candidates = [h for h in dict.fromkeys(removed) if h != keeper]
    rated = [r for r in (ratings.get_rating(db, h) for h in candidates) if r is not None]
    if not rated or ratings.get_rating(db, keeper) is not None:
        return
    latest = max(rated, key=lambda r: r.updated)
    if ratings.carry_rating(db, latest.hash, keeper, reason="keeper"):
        with db.transaction():
            db.execute(
                "INSERT INTO file_actions(batch, action, source, dest, hash, at) "
                "VALUES (?, 'carry', ?, ?, ?, ?)",
                [report.batch, latest.hash, keeper, keeper, time.time()],
            )
        report.carried.append((latest.hash, keeper))


def batches(db: Database, limit: int = 20) -> list[dict[str, Any]]:
    """Recent batches, newest first: batch, at, files (images acted on: not the sidecars that
    went along, not carried ratings), actions, still (of those, how many are not put back),
    undone (every row of the batch undone) and partly (some undone, some not)."""
    image = "action != 'carry' AND lower(source) NOT LIKE '%.xmp'"
    rows = db.execute(
        f"SELECT batch, min(at), sum({image}), sum({image} AND undone IS NULL), "
        "group_concat(DISTINCT action), sum(undone IS NULL), sum(undone IS NOT NULL) "
        "FROM file_actions GROUP BY batch ORDER BY min(at) DESC LIMIT ?",
        [limit],
    ).fetchall()
    return [
        {
            "batch": b,
            "at": at,
            "files": n,
            "still": still,
            "actions": (acts or "").split(","),
            "undone": not left,
            "partly": bool(left and done),
        }
        for b, at, n, still, acts, left, done in rows
    ]


def batch_state(batch: dict[str, Any]) -> str:
    """How `undo` lists a batch: can undo, undone, or partly undone (with what is left)."""
    if batch["undone"]:
        return "undone"
    if batch["partly"]:
        return f"partly undone ({batch['still']} of {batch['files']} files still moved)"
    return "can undo"


def undo(db: Database, batch: str) -> UndoReport:
    """Put a batch's files back where they were (newest first) and take back carried ratings."""
    rows = db.execute(
        "SELECT id, action, source, dest, hash FROM file_actions WHERE batch = ? "
        "AND undone IS NULL ORDER BY id DESC",
        [batch],
    ).fetchall()
    if (
        not rows
        and not db.execute("SELECT 1 FROM file_actions WHERE batch = ?", [batch]).fetchone()
    ):
        raise ActionError(f"no batch {batch!r} in the action log")
    report = UndoReport(batch)
    for row_id, action, source, dest, content_hash in rows:
        if action == "carry":
            report.ratings_reverted += _uncarry(db, source, dest)
            _mark_undone(db, row_id)
            continue
        source_os = fsnames.to_os(source)
        dest_os = fsnames.to_os(dest) if dest is not None else None
        if action == "trash" and dest_os is None and not os.path.lexists(source_os):
            # Killed between trashing and logging where it went: look it up now.
            dest_os = trash.locate(source_os) if trash.freedesktop() else None
        try:
            if dest_os is None or not os.path.lexists(dest_os):
                if os.path.lexists(source_os) and _content_differs(source_os, content_hash) is None:
                    pass  # never moved (interrupted before the move): nothing to put back
                elif action == "move":
                    raise FileNotFoundError(f"the moved file is no longer at {dest}")
                else:
                    raise FileNotFoundError(
                        "where the system trash put it is unknown here: restore it from the "
                        "Trash / Recycle Bin"
                    )
            else:
                if os.path.lexists(source_os):
                    raise FileExistsError(f"something is already at {source}")
                if _content_differs(dest_os, content_hash) is not None:
                    raise FileExistsError(
                        f"the file at {fsnames.to_db(dest_os)} is not the one moved there"
                    )
                if action == "move":
                    os.makedirs(os.path.dirname(source_os), exist_ok=True)
                    shutil.move(dest_os, source_os)
                else:
                    trash.restore(dest_os, source_os)
        except OSError as exc:
            report.failed.append((source, str(exc)))
            continue
        with db.transaction():
            _restored_row(db, source, dest if action == "move" else None)
        _mark_undone(db, row_id)
        report.restored.append(source)
    return report


def _restored_row(db: Database, source: str, moved_to: str | None) -> None:
    at = time.time()
    if (
        moved_to is not None
        and db.execute("SELECT 1 FROM files WHERE path = ?", [moved_to]).fetchone()
    ):
        root = _root_of(db, source)
        if root is not None:
            db.execute("DELETE FROM files WHERE path = ? AND present = 0", [source])
            rel = os.path.relpath(source, root)
            db.execute(
                "UPDATE files SET path = ?, root = ?, folder = ?, name = ?, present = 1, "
                "updated = ? WHERE path = ?",
                [source, root, os.path.dirname(rel), os.path.basename(source), at, moved_to],
            )
            return
    db.execute("UPDATE files SET present = 1, updated = ? WHERE path = ?", [at, source])


def _uncarry(db: Database, from_hash: str, keeper: str) -> int:
    """Clear the keeper's rating if it is still exactly the one carried (never a newer one)."""
    last = db.execute(
        "SELECT source FROM rating_history WHERE hash = ? ORDER BY id DESC LIMIT 1", [keeper]
    ).fetchone()
    if last and last[0] == f"keeper:{from_hash}":
        ratings.clear_rating(db, keeper, source="undo")
        return 1
    return 0


def _mark_undone(db: Database, row_id: int) -> None:
    with db.transaction():
        db.execute("UPDATE file_actions SET undone = ? WHERE id = ?", [time.time(), row_id])
