"""The one facade the UI (and the CLI) calls. UI-free: no Textual, no Rich, no torch at import.

A Library owns the settings and hands each thread its own SQLite connection. Long-running
methods take `progress` and `cancel` (a threading.Event) and return plain data.

Each area's thin methods live in their own mixin module, so this class stays one import:
- library_catalogue.py: roots, scanning, folders, scan errors (issue 2)
- library_semantic.py: model, embedding, index, search, similar images (issue 3)
- library_filters.py: text concepts, similarity groups, group actions and undo (issue 4)
- library_evaluator.py: ratings I/O, training, predictions, rate-next queue (issue 5)
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import sqlite_utils

from anagnorisis_tui.core.base import db as dbmod
from anagnorisis_tui.core.base import ratings
from anagnorisis_tui.core.base.config import Settings
from anagnorisis_tui.core.library_catalogue import CatalogueMixin
from anagnorisis_tui.core.library_evaluator import EvaluatorMixin
from anagnorisis_tui.core.library_filters import FiltersMixin
from anagnorisis_tui.core.library_semantic import SemanticMixin
from anagnorisis_tui.core.views import paging as query


class Library(CatalogueMixin, SemanticMixin, FiltersMixin, EvaluatorMixin):
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

    # -- views (search + filters + folder scope, paged from SQLite) -----------------------
    def count(self, spec: query.ViewSpec) -> int:
        return query.count(self.db, spec, scores=self._score_table)

    def page(self, spec: query.ViewSpec, offset: int, limit: int) -> list[query.ImageEntry]:
        return query.page(self.db, spec, offset, limit, scores=self._score_table)
