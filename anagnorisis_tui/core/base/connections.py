"""One SQLite connection per thread for one catalogue file.

SQLite connections must not be shared across threads, so each thread that touches the catalogue
gets its own, opened (and the schema migrated) on first use; `close()` closes them all.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path

from anagnorisis_tui.core.base import db as dbmod
from anagnorisis_tui.core.base.db import Database


class Connections:
    """`upgrade(db)`, if given, runs once, on the first connection opened, before any other
    thread gets one: data moves that need more than SQL (core/library.py names them)."""

    def __init__(self, database: Path, upgrade: Callable[[Database], None] | None = None) -> None:
        self.database = database
        self._local = threading.local()
        self._opened: list[Database] = []
        self._lock = threading.Lock()
        self._upgrade = upgrade
        self._upgrading = threading.Lock()

    @property
    def db(self) -> Database:
        """This thread's connection."""
        conn = getattr(self._local, "db", None)
        if conn is None:
            conn = dbmod.connect(self.database)
            self._local.db = conn
            with self._lock:
                self._opened.append(conn)
            with self._upgrading:  # a thread opening meanwhile waits for the upgrade
                upgrade, self._upgrade = self._upgrade, None
                if upgrade is not None:
                    upgrade(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._opened:
                # Closing a connection made on another thread may be refused; it dies with it.
                with contextlib.suppress(Exception):
                    conn.conn.close()
            self._opened.clear()
        self._local = threading.local()
