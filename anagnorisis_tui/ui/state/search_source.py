"""The Search/Filter screen's grid source: a SearchState applied through the facade, paged;
and `read_search`, what the screen's search worker runs (no Textual here).

A search scores every vector into a TEMP table that lives on the reading thread's own SQLite
connection (core/views/text_scores.py caches a few per connection). Reading from whichever worker thread
asks would recompute those scores per thread, so every core read for this screen goes through one
long-lived reader thread (`CoreReader`): paging, re-sorting and filtering reuse its warm tables
and the loaded text encoder. `prepare()` keeps the count and first page, so the grid paints the
first page without asking the core a second time.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from anagnorisis_tui.core.views.filters import Concept, Filters
from anagnorisis_tui.core.views.paging import ImageEntry, ViewSpec
from anagnorisis_tui.ui.state.search_state import SearchState
from anagnorisis_tui.ui.state.sources import rated_entries

_keys = itertools.count(1_000_000)  # apart from other sources' keys, for readable logs
T = TypeVar("T")


class CoreReader:
    """One thread that runs every core read of a screen, in order."""

    def __init__(self, name: str = "search-reader") -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        return self._pool.submit(fn, *args, **kwargs)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        return self._pool.submit(fn, *args).result()

    def close(self) -> None:
        # Queued reads are dropped; one already running finishes on its own (it holds no lock
        # the app needs) and the thread ends with it.
        self._pool.shutdown(wait=False, cancel_futures=True)


def to_view_spec(state: SearchState) -> ViewSpec:
    """The core's ViewSpec for what the screen shows (search + filters + scope + sort).

    Raises the core's FilterError (a ValueError) for values the core refuses.
    """
    concept = None
    if state.concept.strip():
        concept = Concept(state.concept.strip(), state.concept_threshold, state.concept_exclude)
    min_taken, max_taken = state.taken_bounds()
    filters = Filters(
        min_megapixels=state.min_megapixels,
        max_megapixels=state.max_megapixels,
        min_ratio=state.min_ratio,
        max_ratio=state.max_ratio,
        shape=state.shape,
        min_bytes=state.min_bytes,
        max_bytes=state.max_bytes,
        min_rating=state.min_rating,
        max_rating=state.max_rating,
        concept=concept,
        min_taken=min_taken,
        max_taken=max_taken,
    )
    return ViewSpec(
        root=state.root,
        folder=state.folder,
        sort=state.effective_sort,
        descending=state.effective_descending,
        filters=filters,
        search=state.query.strip() or None,
        search_cutoff=state.min_score if state.query.strip() else None,
        seed=state.seed,
    )


class SearchSource:
    def __init__(
        self, library: Any, state: SearchState, reader: CoreReader, title: str = ""
    ) -> None:
        self.library = library
        self.reader = reader
        self.state = state
        self.spec = to_view_spec(state)
        self.title = title or " · ".join(state.chips())
        self.key = next(_keys)
        self._lock = threading.Lock()
        self._count: int | None = None
        self._first: list[ImageEntry] = []

    def _prepare(self, first_page: int) -> None:
        count = self.library.views.count(self.spec)
        first = list(self.library.views.page(self.spec, 0, first_page)) if count else []
        with self._lock:
            self._count, self._first = count, first

    def prepare(self, first_page: int) -> Future[None]:
        """Count and read the first page on the reader thread; the caller waits on the future."""
        return self.reader.submit(self._prepare, first_page)

    def count(self) -> int:
        with self._lock:
            if self._count is not None:
                return self._count
        return int(self.reader.call(self.library.views.count, self.spec))

    def page(self, offset: int, limit: int) -> Sequence[ImageEntry]:
        with self._lock:
            complete = self._count is not None and len(self._first) >= self._count
            if complete or offset + limit <= len(self._first):
                return self._first[offset : offset + limit]
        return self.reader.call(self.library.views.page, self.spec, offset, limit)

    def rated(self, content_hash: str, value: float | None) -> None:
        with self._lock:
            self._first = rated_entries(self._first, content_hash, value)

    def library_changed(self) -> None:
        """Files were added, moved or trashed: the next count and pages are read again."""
        with self._lock:
            self._count, self._first = None, []

    def __repr__(self) -> str:
        return f"SearchSource({self.spec!r})"


POLL_S = 0.05  # how often a search waiting on the reader looks whether it was superseded


def read_search(
    library: Any,
    state: SearchState,
    reader: CoreReader,
    first_page: int,
    *,
    cancelled: Callable[[], bool],
    preview: Callable[[list[ImageEntry]], None],
) -> SearchSource | None:
    """Read `state`'s results on `reader`: the source with its count and first page read.

    A plain query (no filter, best first) first gets the index's top page (tens of ms), given
    to `preview`, then the exact ranking of everything. Returns None once `cancelled()` (a
    newer search superseded this one; what was still queued on the reader never runs). Raises
    UserError for what the user must change (empty query, only negative terms, a missing path,
    no model), to be shown beside the query.
    """

    def wait(future: Future[T]) -> T | None:  # None when this search was superseded meanwhile
        while True:
            try:
                return future.result(timeout=POLL_S)
            except FutureTimeout:
                if cancelled():
                    future.cancel()  # still queued behind a newer one: never runs
                    return None

    if state.is_plain_search:
        try:
            found = wait(
                reader.submit(library.views.search_preview, state.query.strip(), top_k=first_page)
            )
        except Exception:  # noqa: BLE001 - the exact search below reports any real problem
            found = None
        if cancelled():
            return None
        if found:
            preview(list(found))
    source = SearchSource(library, state, reader)
    wait(source.prepare(first_page))
    return None if cancelled() else source


def warm_text_model(library: Any) -> None:
    """Load the text encoder while the user types, so the first Enter does not wait for it:
    the text tower only (numpy, memory-mapped), the image engine stays unloaded."""
    try:
        if library.semantic.vector_counts()[0]:
            library.semantic.text_encoder()
    except Exception:  # noqa: BLE001 - a failed warm-up is reported by the search itself
        pass


def pre_encode(library: Any, text: str) -> None:
    """Encode a query being typed (on the reader thread), so Enter finds its vector ready.

    A bad or unfinished query is reported when the user presses Enter, not while typing."""
    with contextlib.suppress(Exception):
        library.views.text_vector(text)
