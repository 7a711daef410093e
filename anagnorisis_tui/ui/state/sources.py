"""Data sources for the thumbnail grid and the viewer: anything with a count and pages.

A source is read from worker threads (the Library facade gives each thread its own SQLite
connection), so implementations must not touch widgets and must be safe to call off the main
thread. `key` identifies what the source shows, so a page that arrives for an older source is
dropped.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol, cast, runtime_checkable

from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.views.paging import ImageEntry, ViewSpec

_keys = itertools.count(1)


@runtime_checkable
class GridSource(Protocol):
    key: int
    title: str

    def count(self) -> int: ...

    def page(self, offset: int, limit: int) -> Sequence[ImageEntry]: ...


@runtime_checkable
class KeepsEntries(Protocol):
    """A source that keeps entries in memory (a list, a search's first page, a prefetch).

    Its owner tells it what changed, so a page read again shows the change: `rated` when the
    user rates or clears an image, `library_changed` when the catalogue changed under it (what
    it kept from the catalogue is read again). The owner is the grid that shows it (it follows
    the app's rating and library signals, grid_loading.py) or, for the rate-next queue, the
    Train screen; the viewer only walks a source and never patches it.
    """

    def rated(self, content_hash: str, value: float | None) -> None: ...

    def library_changed(self) -> None: ...


def rated_entries(
    entries: Sequence[ImageEntry], content_hash: str, value: float | None
) -> list[ImageEntry]:
    """`entries` with the rating of `content_hash` set to `value` (the others unchanged)."""
    return [replace(e, rating=value) if e.hash == content_hash else e for e in entries]


class ViewSource:
    """A paged SQL view of the catalogue (folder scope, sort, filters) via the facade."""

    def __init__(self, library: Library, spec: ViewSpec | None = None, title: str = "") -> None:
        self.library = library
        self.spec = spec or ViewSpec()
        self.title = title
        self.key = next(_keys)
        self._prefetched: dict[str, object] = {}
        self._prefetch_done: threading.Event | None = None

    def prefetch(self, limit: int) -> None:
        """Read the count and the first page now, in a thread, for the first paint.

        The app starts this before Textual is running, so the SQL overlaps with imports and
        screen setup; the grid's first reads then take the results (once) instead of querying.
        The catalogue must already be open (migrated) on the calling thread.
        """
        done = self._prefetch_done = threading.Event()

        def run() -> None:
            try:
                self._prefetched["count"] = self.library.views.count(self.spec)
                self._prefetched["page"] = (
                    limit,
                    list(self.library.views.page(self.spec, 0, limit)),
                )
            except Exception:  # noqa: BLE001 - the grid reads again and reports any error
                pass
            finally:
                done.set()

        threading.Thread(target=run, name="prefetch first page", daemon=True).start()

    def _take(self, key: str) -> object | None:
        if self._prefetch_done is None:
            return None
        self._prefetch_done.wait()
        return self._prefetched.pop(key, None)

    def count(self) -> int:
        count = self._take("count")
        return count if isinstance(count, int) else self.library.views.count(self.spec)

    def page(self, offset: int, limit: int) -> Sequence[ImageEntry]:
        if offset == 0:
            found = self._take("page")
            if isinstance(found, tuple) and found[0] == limit:
                return cast(Sequence[ImageEntry], found[1])
        return self.library.views.page(self.spec, offset, limit)

    def rated(self, content_hash: str, value: float | None) -> None:
        found = self._prefetched.get("page")
        if isinstance(found, tuple):
            self._prefetched["page"] = (found[0], rated_entries(found[1], content_hash, value))

    def library_changed(self) -> None:
        # What the prefetch read (or is reading) is of the catalogue before the change.
        self._prefetch_done = None
        self._prefetched.clear()

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

    def rated(self, content_hash: str, value: float | None) -> None:
        self.entries = rated_entries(self.entries, content_hash, value)

    def library_changed(self) -> None:
        """A fixed list stays as it is (its entries were chosen, not read from a view)."""

    def __repr__(self) -> str:
        return f"ListSource({len(self.entries)} entries)"


class QueueSource(ListSource):
    """The rate-next queue as the viewer walks it, kept fresh while the user rates.

    `replace_ahead` swaps a newer queue in for everything past the furthest image the viewer
    has read, so what the user has seen, and where they are, stays put; only what is ahead
    of them changes. Pages are read from worker threads, hence the lock.
    """

    def __init__(
        self, entries: Sequence[ImageEntry], reasons: dict[str, str], title: str = "rate next"
    ) -> None:
        super().__init__(entries, title)
        self.reasons = dict(reasons)
        self.furthest = -1
        self._lock = threading.Lock()

    def page(self, offset: int, limit: int) -> Sequence[ImageEntry]:
        with self._lock:
            found = self.entries[offset : offset + limit]
            if found:
                self.furthest = max(self.furthest, offset + len(found) - 1)
            return found

    def replace_ahead(self, entries: Sequence[ImageEntry], reasons: dict[str, str]) -> None:
        with self._lock:
            kept = self.entries[: self.furthest + 1]
            seen = {e.hash for e in kept}
            self.entries = kept + [e for e in entries if e.hash not in seen]
            self.reasons.update(reasons)

    def rated(self, content_hash: str, value: float | None) -> None:
        with self._lock:
            self.entries = rated_entries(self.entries, content_hash, value)

    def reason(self, content_hash: str) -> str | None:
        return self.reasons.get(content_hash)
