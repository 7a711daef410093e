"""One SQLite connection per thread for one catalogue file.

SQLite connections must not be shared across threads, so each thread that touches the catalogue
gets its own, opened (and the schema migrated) on first use; `close()` closes them all, but
never one that another thread may be using at that moment.
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
        # Each connection with the thread that opened it (the only one that uses it).
        self._opened: list[tuple[Database, threading.Thread]] = []
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
                self._opened.append((conn, threading.current_thread()))
            with self._upgrading:  # a thread opening meanwhile waits for the upgrade
                upgrade, self._upgrade = self._upgrade, None
                if upgrade is not None:
                    upgrade(conn)
        return conn

    def close(self) -> None:
        """Close this thread's connection and those of threads that have ended.

        A connection of a thread still running is not closed here: that thread may be inside a
        statement, with the GIL released, and sqlite3 closed under it dereferences a freed
        handle (a segfault: the app's first-page prefetch still counting when a short-lived
        app's library was closed killed a test worker). Its reference is dropped instead, so it
        closes when that thread lets go of it (its thread-local slot, its frames), never while
        it is in use.
        """
        me = threading.current_thread()
        with self._lock:
            for conn, owner in self._opened:
                if owner is me or not owner.is_alive():
                    with contextlib.suppress(Exception):
                        conn.conn.close()
            self._opened.clear()
        self._local = threading.local()
