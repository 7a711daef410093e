"""Data sources for the thumbnail grid and the viewer: anything with a count and pages.

A source is read from worker threads (the Library facade gives each thread its own SQLite
connection), so implementations must not touch widgets and must be safe to call off the main
thread. `key` identifies what the source shows, so a page that arrives for an older source is
dropped.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.query import ImageEntry, ViewSpec

_keys = itertools.count(1)


@runtime_checkable
class GridSource(Protocol):
    key: int
    title: str

    def count(self) -> int: ...

    def page(self, offset: int, limit: int) -> Sequence[ImageEntry]: ...


class ViewSource:
    """A paged SQL view of the catalogue (folder scope, sort, filters) via the facade."""

    def __init__(self, library: Library, spec: ViewSpec | None = None, title: str = "") -> None:
        self.library = library
        self.spec = spec or ViewSpec()
        self.title = title
        self.key = next(_keys)

    def count(self) -> int:
        return self.library.count(self.spec)

    def page(self, offset: int, limit: int) -> Sequence[ImageEntry]:
        return self.library.page(self.spec, offset, limit)

    def __repr__(self) -> str:
        return f"ViewSource({self.spec!r})"


class ListSource:
    """A fixed list of entries (search results, similar images), scores kept on the entries."""

    def __init__(self, entries: Sequence[ImageEntry], title: str = "") -> None:
        self.entries = list(entries)
        self.title = title
        self.key = next(_keys)

    def count(self) -> int:
        return len(self.entries)

    def page(self, offset: int, limit: int) -> Sequence[ImageEntry]:
        return self.entries[offset : offset + limit]

    def __repr__(self) -> str:
        return f"ListSource({len(self.entries)} entries)"
