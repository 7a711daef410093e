"""The grid's data side: a source read page by page, and thumbnails loaded (and painted) ahead.

Entries are read page by page from the source in worker threads and kept in a small LRU
(state/page_cache.py);
thumbnails are loaded (or made) in an exclusive worker that is cancelled when the view moves on,
and a result is applied only to a cell that still shows that image (the token guard), so a late
thumbnail never lands on the wrong cell. Where the image class can paint ahead (the half-cell
strips, halfcell.py), the next and previous screens are painted off the event loop too.
ThumbnailGrid builds on this with the cells, the cursor and the keys.

The grid owns its updates: mounted in an app that publishes them (ui/host.py PublishesUpdates),
it follows the rating signal (its pages and its source get the new rating, no reload) and the
library signal (its source forgets what it kept, and the grid reads its count and pages again).
No screen passes these on, so every screen that shows a grid shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from PIL import Image as PILImage
from textual import events, on
from textual.message import Message
from textual.widget import Widget
from textual.worker import get_current_worker

from anagnorisis_tui.core.catalogue.thumbnails import ThumbnailStore
from anagnorisis_tui.core.views.paging import ImageEntry
from anagnorisis_tui.ui.host import PublishesUpdates
from anagnorisis_tui.ui.messages import RatingChanged
from anagnorisis_tui.ui.state.page_cache import PAGE_SIZE, PageCache
from anagnorisis_tui.ui.state.sources import GridSource, KeepsEntries
from anagnorisis_tui.ui.widgets.grid import halfcell
from anagnorisis_tui.ui.widgets.grid.grid_cell import GridCell

if TYPE_CHECKING:
    from anagnorisis_tui.ui.graphics import PictureWidget

__all__ = ["LOADING", "PAGE_SIZE", "GridLoader", "Wanted", "box_of"]

LOADING = "…"  # a cell's placeholder until its thumbnail (or its page) arrives

Wanted = tuple[str, str, tuple[int, int]]  # content hash, path, the cell's picture box


def box_of(cell: GridCell) -> tuple[int, int]:
    """The cells a picture may fill in `cell` (its content box)."""
    size = cell.content_size
    return size.width, size.height


class GridLoader(Widget):
    """Pages of a GridSource and their thumbnails, for a grid of recycled cells (`_cells`)."""

    def __init__(
        self,
        source: GridSource | None,
        *,
        image_class: type[PictureWidget],
        thumbnails: ThumbnailStore,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._source = source
        self._image_class = image_class
        self._paints_ahead = halfcell.paints_ahead(image_class)
        self._store = thumbnails
        self.cursor = 0
        self.count: int | None = None
        self._cells: list[GridCell] = []
        self._paging = PageCache()
        self._paging.clear(source.key if source else 0)
        # Enter pressed while the cursor's page was being (re)read: opened when it arrives.
        self._select_when_loaded: int | None = None
        self._rebind_pending = False
        self._thumb_request = 0  # bumped per view: a deferred read-ahead of an older one is dropped

    class _PageLoaded(Message):
        def __init__(self, key: tuple[int, int], number: int, entries: list[ImageEntry]) -> None:
            super().__init__()
            self.key, self.number, self.entries = key, number, entries

    class _CountLoaded(Message):
        def __init__(self, key: tuple[int, int], count: int) -> None:
            super().__init__()
            self.key, self.count = key, count

    class _ThumbReady(Message):
        def __init__(self, content_hash: str, image: PILImage.Image | None, error: str) -> None:
            super().__init__()
            self.content_hash, self.image, self.error = content_hash, image, error

    @property
    def current_entry(self) -> ImageEntry | None:
        return self.entry_at(self.cursor)

    def entry_at(self, index: int) -> ImageEntry | None:
        return self._paging.entry_at(index)

    def reload(self) -> None:
        """Read the count and the pages on screen again (after a scan, a rating, a filter)."""
        source = self._source
        self._paging.clear(source.key if source else 0)
        if source is None:
            self._set_count(0)
            return
        key = self._paging.key
        self.run_worker(
            partial(self._read_count, source, key),
            thread=True,
            group="grid-count",
            exclusive=True,
            exit_on_error=False,
            name="grid: count",
        )
        # The cursor's page is read alongside the count, not after it: one round trip less.
        self._request_page(self.cursor // PAGE_SIZE)

    def update_entry(self, content_hash: str, *, rating: float | None) -> None:
        """Give cached entries for `content_hash` their new rating without a reload."""
        self._paging.update(content_hash, rating=rating)
        self._bind()

    # -- app-wide changes, followed by the grid itself ------------------------------------------
    @on(events.Mount)
    def _follow_the_app(self) -> None:
        app = self.app
        if isinstance(app, PublishesUpdates):
            app.rating_signal.subscribe(self, self._rated)
            app.library_signal.subscribe(self, self._library_changed)

    def _rated(self, message: RatingChanged) -> None:
        source = self._source
        if isinstance(source, KeepsEntries):
            source.rated(message.content_hash, message.value)
        self.update_entry(message.content_hash, rating=message.value)

    def _library_changed(self, _: None) -> None:
        source = self._source
        if isinstance(source, KeepsEntries):
            source.library_changed()
        self.reload()

    def _read_count(self, source: GridSource, key: tuple[int, int]) -> None:
        count = source.count()
        self.post_message(self._CountLoaded(key, count))

    def _read_page(self, source: GridSource, key: tuple[int, int], number: int) -> None:
        entries = list(source.page(number * PAGE_SIZE, PAGE_SIZE))
        self.post_message(self._PageLoaded(key, number, entries))

    def _read_thumbnails(self, wanted: list[Wanted], nearby: Sequence[Wanted] = ()) -> None:
        """Thumbnails on screen (each posted as it is ready), then nearby ones into memory.

        Where the image class can paint ahead (`prerender`, the half-cell strips), each picture
        is also rendered here for the cell it will land in, so a page flip only paints.
        """
        store = self._store
        prerender = halfcell.prerender if self._paints_ahead else None
        worker = get_current_worker()
        boxes = {content_hash: box for content_hash, _, box in [*nearby, *wanted]}
        stop = lambda: worker.is_cancelled  # noqa: E731

        def paint_ahead(content_hash: str, image: PILImage.Image | None) -> None:
            box = boxes.get(content_hash, (0, 0))
            if image is not None and prerender is not None and box[0] > 0 and box[1] > 0:
                prerender(image, box)

        shown = {content_hash for content_hash, _, _ in wanted}

        def ready(content_hash: str, image: PILImage.Image | None, error: str) -> None:
            paint_ahead(content_hash, image)
            if content_hash in shown:
                self.post_message(self._ThumbReady(content_hash, image, error))

        # On screen first; those the cache lacks are made together (in a child process, in
        # the app), so one process start serves the whole view.
        items = {h: path for h, path, _ in [*wanted, *nearby]}
        store.get_many(list(items.items()), ready, stop)

    # -- what the grid built on this (ThumbnailGrid) does with what arrives --------------------
    def _set_count(self, count: int) -> None:
        raise NotImplementedError

    def _bind(self) -> None:
        """Point the cells at the entries they show now; ask for what is missing."""
        raise NotImplementedError

    def _cursor_page_loaded(self) -> None:
        """The page under the cursor arrived."""
        raise NotImplementedError

    @on(_CountLoaded)
    def _count_loaded(self, message: _CountLoaded) -> None:
        if message.key != self._paging.key:
            return
        self._set_count(message.count)

    @on(_PageLoaded)
    def _page_loaded(self, message: _PageLoaded) -> None:
        if not self._paging.store(message.key, message.number, message.entries):
            return  # a page of an older source or an older read: dropped
        self._bind()
        if message.number == self.cursor // PAGE_SIZE:
            self._cursor_page_loaded()

    @on(_ThumbReady)
    def _thumb_ready(self, message: _ThumbReady) -> None:
        for cell in self._cells:
            # The token guard: only a cell still showing this image takes the result.
            if cell.entry is not None and cell.entry.hash == message.content_hash:
                cell.set_image(message.image, "unreadable" if message.error else "")

    def _rebind(self) -> None:
        self._rebind_pending = False
        self._bind()

    def _start_thumbnails(
        self, request: int, wanted: list[Wanted], nearby: Sequence[Wanted]
    ) -> None:
        if request != self._thumb_request:
            return  # a newer view asked since; its own request covers what is needed
        self.run_worker(
            partial(self._read_thumbnails, wanted, nearby),
            thread=True,
            group="grid-thumbnails",
            exclusive=True,  # a newer view cancels the older request
            exit_on_error=False,
            name="grid: thumbnails",
        )

    def _request_page(self, number: int) -> None:
        if self._source is None or not self._paging.request(number):
            return
        self.run_worker(
            partial(self._read_page, self._source, self._paging.key, number),
            thread=True,
            group="grid-pages",
            exit_on_error=False,
            name=f"grid: page {number}",
        )

    def _load_thumbnails(self, first: int, wanted: list[Wanted]) -> None:
        """Load what the cells from `first` on miss, then read (and paint) ahead."""
        count = self.count or 0
        store = self._store
        # Then the next and previous screens' thumbnails, into memory (and painted ahead where
        # the image class can): a page flip then finds them ready, with no placeholder flash.
        screen = len(self._cells)
        prerender = self._paints_ahead
        if prerender and not self._cells[-1].content_size.area and not self._rebind_pending:
            # Cells not laid out yet: painting ahead needs their size, so look again after.
            self._rebind_pending = True
            self.call_after_refresh(self._rebind)
        nearby: list[Wanted] = []
        for index in [*range(first + screen, first + 2 * screen), *range(first - screen, first)]:
            entry = self.entry_at(index) if 0 <= index < count else None
            if entry is None or store.failure(entry.hash):
                continue
            box = box_of(self._cells[(index - first) % screen])
            image = store.peek(entry.hash)
            if image is None or (prerender and not halfcell.prerendered(image, box)):
                nearby.append((entry.hash, entry.os_path, box))
        self._thumb_request += 1
        if wanted:
            self._start_thumbnails(self._thumb_request, wanted, nearby)
        elif nearby:
            # Nothing on screen is missing: read ahead once this view is painted, so the worker
            # does not take the GIL from the frame the user is waiting for.
            self.call_after_refresh(self._start_thumbnails, self._thumb_request, [], nearby)
