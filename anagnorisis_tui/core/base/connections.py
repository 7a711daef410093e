"""One SQLite connection per thread for one catalogue file.

SQLite connections must not be shared across threads, so each thread that touches the catalogue
gets its own, opened (and the schema migrated) on first use; `close()` closes them all.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from anagnorisis_tui.core.base import db as dbmod
from anagnorisis_tui.core.base.db import Database


class Connections:
    def __init__(self, database: Path) -> None:
        self.database = database
        self._local = threading.local()
        self._opened: list[Database] = []
        self._lock = threading.Lock()

    @property
    def db(self) -> Database:
        """This thread's connection."""
        conn = getattr(self._local, "db", None)
        if conn is None:
            conn = dbmod.connect(self.database)
            self._local.db = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._opened:
                # Closing a connection made on another thread may be refused; it dies with it.
                with contextlib.suppress(Exception):
                    conn.conn.close()
            self._opened.clear()
        self._local = threading.local()
