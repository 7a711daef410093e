"""Library facade, catalogue part (issue 2): saved roots, scanning, folders, scan errors.

Thin methods mixed into `core.library.Library`; the work is in core/scan.py and core/query.py.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.core.base.progress import ProgressCallback
from anagnorisis_tui.core.views import paging as query

if TYPE_CHECKING:
    import sqlite_utils

    from anagnorisis_tui.core.base.config import Settings
    from anagnorisis_tui.core.catalogue.scan import ScanSummary


class CatalogueMixin:
    if TYPE_CHECKING:
        settings: Settings
        db: sqlite_utils.Database

    def roots(self) -> list[str]:
        """Saved library folders (absolute paths), the current one first."""
        return list(self.settings.library_roots)

    def set_root(self, path: str | os.PathLike[str]) -> str:
        """Make `path` the library folder (saved to settings); returns its absolute path.

        Raises scan.ScanError if it does not exist or is not a folder.
        """
        from anagnorisis_tui.core.catalogue import scan as scanmod

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
        from anagnorisis_tui.core.catalogue import scan as scanmod

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
        from anagnorisis_tui.core.catalogue import scan as scanmod

        root = root if root is not None else (self.roots() or [None])[0]
        if root is None:
            return []
        return scanmod.folder_counts(self.db, fsnames.to_db(os.path.abspath(root)))

    def entry(self, path: str) -> query.ImageEntry | None:
        """The catalogue entry of a present file by its catalogue path text, or None."""
        return query.entry(self.db, path)

    def errors(self, root: str | None = None) -> list[tuple[str, str]]:
        """(path, reason) of every bad file recorded by scans (under root, if given)."""
        from anagnorisis_tui.core.catalogue import scan as scanmod

        return scanmod.scan_errors(self.db, fsnames.to_db(os.path.abspath(root)) if root else None)
