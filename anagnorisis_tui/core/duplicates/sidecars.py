"""XMP sidecars of a file that a group action moves away: they go to the keeper.

A sidecar (digiKam/darktable `photo.jpg.xmp`, Lightroom `photo.xmp`) holds the rating, tags
and edits other programs made. When the keeper has none, the moved file's sidecar is renamed
to sit beside the keeper (the same naming style), so what it says now describes the copy that
stays. When the keeper has its own, the moved file's sidecar goes with the file (to the trash,
or beside it in the destination folder), so nothing is left orphaned. Each step is logged in
`file_actions` as a move or trash of its own (with the sidecar's content hash), so undo puts
it back with the same checks as any file.
"""

from __future__ import annotations

import os
import shutil
import time

from anagnorisis_tui.core.base import fsnames, hashing
from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.duplicates import trash
from anagnorisis_tui.core.duplicates.metadata import sidecars


def keeper_target(sidecar: str, member: str, keeper: str) -> str:
    """Where a member's sidecar goes beside the keeper, in the member sidecar's naming style."""
    if sidecar == member + ".xmp":
        return keeper + ".xmp"
    return os.path.splitext(keeper)[0] + ".xmp"


def follow(
    db: Database,
    batch: str,
    member: str,
    keeper: str,
    action: str,
    moved_to: str | None,
) -> list[tuple[str, str]]:
    """Move the sidecars of `member` (OS path, already moved to `moved_to` or the trash) to the
    keeper or along with it; (from, to) pairs in catalogue text."""
    out: list[tuple[str, str]] = []
    keeper_has = bool(sidecars(keeper))
    for sidecar in sidecars(member):
        if not keeper_has:
            target: str | None = keeper_target(sidecar, member, keeper)
            if target is not None and os.path.lexists(target):
                target = None
            kind = "move"
            keeper_has = target is not None
        else:
            target = None
        if target is None:
            if action == "move" and moved_to is not None:
                target = (
                    moved_to + sidecar[len(member) :]
                    if sidecar.startswith(member)
                    else (os.path.splitext(moved_to)[0] + ".xmp")
                )
                kind = "move"
            else:
                kind = "trash"
        try:
            content = hashing.content_hash_file(sidecar)[0]
            with db.transaction():
                row_id = db.execute(
                    "INSERT INTO file_actions(batch, action, source, dest, hash, at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        batch,
                        kind,
                        fsnames.to_db(sidecar),
                        fsnames.to_db(target) if target else None,
                        content,
                        time.time(),
                    ],
                ).lastrowid
            if kind == "trash":
                where = trash.send(sidecar)
            else:
                assert target is not None
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.move(sidecar, target)
                where = target
        except OSError:
            continue  # the sidecar stays where it was: nothing lost
        shown = fsnames.to_db(where) if where else "trash"
        with db.transaction():
            db.execute("UPDATE file_actions SET dest = ? WHERE id = ?", [where and shown, row_id])
        out.append((fsnames.to_db(sidecar), shown))
    return out
