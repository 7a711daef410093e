"""The one facade the UI (and the CLI) calls. UI-free: no Textual, no Rich, no torch at import.

A Library owns the settings and hands each thread its own SQLite connection. Long-running
methods take `progress` and `cancel` (a threading.Event) and return plain data.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import sqlite_utils

from anagnorisis_tui.core import db as dbmod
from anagnorisis_tui.core import fsnames, query, ratings
from anagnorisis_tui.core.config import Settings
from anagnorisis_tui.core.progress import ProgressCallback

if TYPE_CHECKING:
    from anagnorisis_tui.core.scan import ScanSummary


class Library:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._local = threading.local()
        self._connections: list[sqlite_utils.Database] = []
        self._lock = threading.Lock()

    # -- connections ---------------------------------------------------------------------
    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection (created, and the schema migrated, on first use)."""
        conn = getattr(self._local, "db", None)
        if conn is None:
            conn = dbmod.connect(self.settings.database)
            self._local.db = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                # Closing a connection made on another thread may be refused; it dies with it.
                with contextlib.suppress(Exception):
                    conn.conn.close()
            self._connections.clear()
        self._local = threading.local()

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    # -- ratings -------------------------------------------------------------------------
    def set_rating(self, content_hash: str, value: object, *, source: str = "user") -> float:
        return ratings.set_rating(self.db, content_hash, value, source=source)

    def clear_rating(self, content_hash: str) -> None:
        ratings.clear_rating(self.db, content_hash)

    def rating(self, content_hash: str) -> float | None:
        found = ratings.get_rating(self.db, content_hash)
        return found.value if found else None

    # -- views ---------------------------------------------------------------------------
    def count(self, spec: query.ViewSpec) -> int:
        return query.count(self.db, spec)

    def page(self, spec: query.ViewSpec, offset: int, limit: int) -> list[query.ImageEntry]:
        return query.page(self.db, spec, offset, limit)

    # -- library roots and scanning (issue 2; core/scan.py) --------------------------------
    def roots(self) -> list[str]:
        """Saved library folders (absolute paths), the current one first."""
        return list(self.settings.library_roots)

    def set_root(self, path: str | os.PathLike[str]) -> str:
        """Make `path` the library folder (saved to settings); returns its absolute path.

        Raises scan.ScanError if it does not exist or is not a folder.
        """
        from anagnorisis_tui.core import scan as scanmod

        root = scanmod.normalise_root(path)
        self.settings.library_roots = [root]
        self.settings.save()
        return root

    def scan(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        on_file: Callable[..., None] | None = None,
    ) -> ScanSummary:
        """Scan `root` (default: the saved library) into the catalogue from this thread."""
        from anagnorisis_tui.core import scan as scanmod

        if root is None:
            if not self.settings.library_roots:
                raise scanmod.ScanError("no library folder saved: choose one first")
            root = self.settings.library_roots[0]
        return scanmod.scan(
            self.db,
            root,
            excludes=self.settings.all_excludes(),
            progress=progress,
            cancel=cancel,
            on_file=on_file,
        )

    def folders(self, root: str | None = None) -> list[tuple[str, int]]:
        """(folder relative to root, images in it and below) for a folder tree, '' first."""
        from anagnorisis_tui.core import scan as scanmod

        root = root if root is not None else (self.roots() or [None])[0]
        if root is None:
            return []
        return scanmod.folder_counts(self.db, fsnames.to_db(os.path.abspath(root)))

    def entry(self, path: str) -> query.ImageEntry | None:
        """The catalogue entry of a present file by its catalogue path text, or None."""
        return query.entry(self.db, path)

    def errors(self, root: str | None = None) -> list[tuple[str, str]]:
        """(path, reason) of every bad file recorded by scans (under root, if given)."""
        from anagnorisis_tui.core import scan as scanmod

        return scanmod.scan_errors(self.db, fsnames.to_db(os.path.abspath(root)) if root else None)
