"""The catalogue service: saved library folders, scanning, the folder tree, scan errors, and the
grid thumbnails cached on disk."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.core.base.config import Settings
from anagnorisis_tui.core.base.connections import Connections
from anagnorisis_tui.core.base.progress import ProgressCallback
from anagnorisis_tui.core.catalogue import roots
from anagnorisis_tui.core.catalogue import scan as scanmod
from anagnorisis_tui.core.catalogue.scan_types import FileCallback, ScanOptions, ScanSummary

if TYPE_CHECKING:
    from anagnorisis_tui.core.catalogue.thumbnails import ThumbnailSummary


class CatalogueService:
    """The one owner of the library's roots: what the catalogue saved, or this session's
    override (ANAGNORISIS_LIBRARY, read into the settings), until a folder is chosen."""

    def __init__(self, settings: Settings, connections: Connections) -> None:
        self._settings = settings
        self._connections = connections
        self._session_roots: tuple[str, ...] = tuple(settings.library_roots)

    def roots(self) -> list[str]:
        """This catalogue's library folders (absolute paths), the current one first."""
        return roots.current(self._connections.db, self._settings, self._session_roots)

    def current_root(self) -> str | None:
        """The library shown: the current one of `roots()` (None: none saved yet)."""
        found = self.roots()
        return found[0] if found else None

    def set_root(self, path: str | os.PathLike[str]) -> str:
        """Make `path` the library folder (saved in the catalogue); returns its absolute path.

        Raises ScanError if it does not exist or is not a folder.
        """
        root = scanmod.normalise_root(path)
        roots.remember(self._connections.db, root)
        self._session_roots = ()  # a session override gives way to the chosen folder
        return root

    def scan(
        self,
        root: str | os.PathLike[str] | None = None,
        options: ScanOptions | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> ScanSummary:
        """Scan `root` (default: the saved library) into the catalogue from this thread;
        new content gets its pixel identity and `options.products`
        (core/catalogue/ingest_pass.py), summed up in the result's `ingest`. A folder scanned
        here becomes one of this catalogue's libraries."""
        on_file = options.on_file if options is not None else None
        walked = self.start_scan(root, progress=progress, cancel=cancel, on_file=on_file)
        return self.carry_on(walked, options, progress=progress, cancel=cancel)

    def start_scan(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        on_file: FileCallback | None = None,
    ) -> scanmod.Walked:
        """The first part of `scan`: record it, walk `root` and compare (no decoder loads).
        Then `carry_on` (here or in another process), or `finish` when not `has_work`."""
        if root is None:
            saved = self.roots()
            if not saved:
                raise scanmod.ScanError("no library folder saved: choose one first")
            root = saved[0]
        else:
            roots.note_scanned(
                self._connections.db,
                self._settings,
                scanmod.normalise_root(root),
                self._session_roots,
            )
        return scanmod.start(
            self._connections.db,
            root,
            excludes=self._settings.all_excludes(),
            progress=progress,
            cancel=cancel,
            on_file=on_file,
            links_into=self.roots(),
            follow_links_outside=self._settings.follow_links_outside,
        )

    def has_work(self, walked: scanmod.Walked, *, phash: bool = True) -> bool:
        """Whether the rest of the scan would read or derive anything (see scan.has_work)."""
        return scanmod.has_work(self._connections.db, walked, phash=phash)

    def carry_on(
        self,
        walked: scanmod.Walked,
        options: ScanOptions | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> ScanSummary:
        """The rest of a scan `start_scan` began (here or in another process)."""
        db = self._connections.db
        return scanmod.carry_on(db, walked, options, progress=progress, cancel=cancel)

    def finish_scan(
        self, walked: scanmod.Walked, *, on_file: FileCallback | None = None
    ) -> ScanSummary:
        """Close a scan that has nothing left to do (not `has_work`)."""
        return scanmod.finish(self._connections.db, walked, on_file=on_file)

    def make_thumbnails(
        self,
        items: Iterable[tuple[str, str]],
        *,
        total: int | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> ThumbnailSummary:
        """Cache the grid thumbnail of each (content hash, path) that has none yet.

        Returns what was done, with cancelled=True when `cancel` stopped it.
        """
        from anagnorisis_tui.core.catalogue import thumbnails  # Pillow: only when making them

        cache = thumbnails.cache_dir(self._settings.data_dir)
        return thumbnails.generate(cache, items, total=total, progress=progress, cancel=cancel)

    def folders(self, root: str | None = None) -> list[tuple[str, int]]:
        """(folder relative to root, images in it and below) for a folder tree, '' first."""
        root = root if root is not None else self.current_root()
        if root is None:
            saved = self.roots()
            if not saved:
                return []
            root = saved[0]
        return scanmod.folder_counts(self._connections.db, fsnames.to_db(os.path.abspath(root)))

    def errors(self, root: str | None = None) -> list[tuple[str, str]]:
        """(path, reason) of every bad file recorded by scans (under root, if given)."""
        where = fsnames.to_db(os.path.abspath(root)) if root else None
        return scanmod.scan_errors(self._connections.db, where)
