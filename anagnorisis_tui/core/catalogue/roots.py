"""Which library folders a catalogue belongs to: saved in the catalogue, not the settings.

A data dir (its catalogue) remembers its own libraries, so `--data-dir X embed` with no folder
works on X's library and two data dirs never see each other's folders. The user-wide settings
file keeps preferences only.

Installs from before kept `[library] roots` in the settings file. A catalogue that has never
saved roots adopts, once, those of them it holds files under; failing that, the folder it last
scanned (the demo library aside). An adopted list is removed from the settings file, the rest
of the file left exactly as it was.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from anagnorisis_tui.core.base import fsnames, paths
from anagnorisis_tui.core.base.config import Settings
from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.catalogue.scan_types import prefix_range

KEY = "library_roots"


def stored(db: Database) -> list[str] | None:
    """The roots saved in this catalogue, the current one first; None if it never saved any."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", [KEY]).fetchone()
    if row is None:
        return None
    try:
        value = json.loads(row[0])
    except (TypeError, ValueError):
        return []
    return [str(r) for r in value] if isinstance(value, list) else []


def save(db: Database, roots: list[str]) -> None:
    with db.transaction():
        db.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [KEY, json.dumps(list(dict.fromkeys(roots)))],
        )


def current(db: Database, settings: Settings, session: Sequence[str] = ()) -> list[str]:
    """This session's roots: a session override (`session`), else the catalogue's."""
    if session:
        return list(session)
    saved = stored(db)
    if saved is None:
        saved = migrate(db, settings)
    return saved


def remember(db: Database, root: str) -> None:
    """Make `root` (absolute) the current library of this catalogue, keeping the others."""
    saved = stored(db) or []
    save(db, [root] + [r for r in saved if r != root])


def note_scanned(db: Database, settings: Settings, root: str, session: Sequence[str] = ()) -> None:
    """A folder scanned into this catalogue becomes one of its libraries (the demo aside);
    the current one stays current."""
    if os.path.abspath(root) == os.path.abspath(paths.demo_library_dir(settings.data_dir)):
        return
    saved = current(db, settings) if not session else (stored(db) or [])
    if root not in saved:
        save(db, saved + [root])


def migrate(db: Database, settings: Settings) -> list[str]:
    """Adopt the roots an older settings file listed (see the module docstring); saves them."""
    legacy = list(settings.legacy_roots)
    adopted = [r for r in legacy if _holds(db, r)]
    if not adopted:
        demo = str(paths.demo_library_dir(settings.data_dir))
        row = db.execute(
            "SELECT root FROM scans WHERE root != ? ORDER BY id DESC LIMIT 1",
            [fsnames.to_db(demo)],
        ).fetchone()
        if row is not None and os.path.isdir(fsnames.to_os(row[0])):
            adopted = [fsnames.to_os(row[0])]
    save(db, adopted)
    if adopted and legacy:
        # The catalogue holds them now; the settings (immutable) keep the older file's list,
        # which is never read again: a catalogue that saved its roots does not migrate.
        drop_roots_from(settings.config_file)
    return adopted


def _holds(db: Database, root: str) -> bool:
    lo, hi = prefix_range(fsnames.to_db(root))
    return (
        db.execute("SELECT 1 FROM files WHERE path >= ? AND path < ? LIMIT 1", [lo, hi]).fetchone()
        is not None
    )


def drop_roots_from(config_file: Path) -> None:
    """Remove `[library] roots` from a settings file; every other key stays as written."""
    import tomllib

    import tomli_w

    try:
        doc = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    library = doc.get("library")
    if not isinstance(library, dict) or "roots" not in library:
        return
    del library["roots"]
    if not library:
        del doc["library"]
    tmp = config_file.with_suffix(".toml.tmp")
    tmp.write_text(tomli_w.dumps(doc), encoding="utf-8")
    os.replace(tmp, config_file)
