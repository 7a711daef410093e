"""The pages of a grid's source held in memory: what was read, what is being read, and which
read they belong to. UI-free, so the grid's paging is unit-tested without Textual.

A page is `page_size` entries starting at `number * page_size`. `key` names the source and the
read (`clear` starts a new one), so a page that arrives for an older source or an older read is
dropped. At most `max_pages` pages are kept, the least recently stored dropped first.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace

from anagnorisis_tui.core.views.paging import ImageEntry

PAGE_SIZE = 200  # entries read from the source at once
MAX_PAGES = 12  # pages kept in memory (LRU)


class PageCache:
    def __init__(self, page_size: int = PAGE_SIZE, max_pages: int = MAX_PAGES) -> None:
        self.page_size = page_size
        self.max_pages = max_pages
        self.source_key = 0  # the source's key (0: none)
        self._pages: OrderedDict[int, list[ImageEntry]] = OrderedDict()
        self._pending: set[int] = set()
        self._generation = 0  # bumped by clear so pages of an older read are dropped

    @property
    def key(self) -> tuple[int, int]:
        """The source and the read a page must belong to."""
        return (self.source_key, self._generation)

    def page_of(self, index: int) -> int:
        return index // self.page_size

    def entry_at(self, index: int) -> ImageEntry | None:
        page = self._pages.get(index // self.page_size)
        if page is None:
            return None
        offset = index % self.page_size
        return page[offset] if offset < len(page) else None

    def clear(self, source_key: int) -> None:
        """Forget every page and start a new read of the source `source_key`."""
        self.source_key = source_key
        self._generation += 1
        self._pages.clear()
        self._pending.clear()

    def request(self, number: int) -> bool:
        """Whether page `number` must be read (then it counts as being read until stored)."""
        if number in self._pages or number in self._pending:
            return False
        self._pending.add(number)
        return True

    def store(self, key: tuple[int, int], number: int, entries: list[ImageEntry]) -> bool:
        """Keep a page that was read; False (and nothing kept) if it is of an older read."""
        if key != self.key:
            return False
        self._pending.discard(number)
        self._pages[number] = entries
        while len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)
        return True

    def update(self, content_hash: str, *, rating: float | None) -> None:
        """Give the kept entries of `content_hash` their new rating without a new read."""
        for number, page in self._pages.items():
            if any(e.hash == content_hash for e in page):
                self._pages[number] = [
                    replace(e, rating=rating) if e.hash == content_hash else e for e in page
                ]
