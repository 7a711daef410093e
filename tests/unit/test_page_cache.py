"""The grid's pages in memory: reads requested once, older reads dropped, a bounded LRU."""

from __future__ import annotations

from anagnorisis_tui.core.views.paging import ImageEntry
from anagnorisis_tui.ui.state.page_cache import PageCache


def _entries(start: int, n: int) -> list[ImageEntry]:
    return [
        ImageEntry(f"/lib/{i}.png", f"h{i}", f"{i}.png", "", "/lib", i, 8, 8, "PNG", 0)
        for i in range(start, start + n)
    ]


def test_a_page_is_requested_once_until_stored_and_read_by_index():
    cache = PageCache(page_size=10)
    cache.clear(source_key=7)
    assert cache.request(1) and not cache.request(1)
    assert cache.entry_at(12) is None
    assert cache.store(cache.key, 1, _entries(10, 10))
    assert cache.entry_at(12).name == "12.png"
    assert cache.entry_at(9) is None and not cache.request(1)


def test_pages_of_an_older_read_or_source_are_dropped():
    cache = PageCache(page_size=10)
    cache.clear(source_key=1)
    old = cache.key
    cache.request(0)
    cache.clear(source_key=1)  # read again (after a scan, a filter)
    assert not cache.store(old, 0, _entries(0, 10))
    assert cache.entry_at(0) is None
    assert cache.request(0)  # the new read asks again
    cache.clear(source_key=2)
    assert cache.key[0] == 2


def test_at_most_max_pages_are_kept_oldest_dropped_first():
    cache = PageCache(page_size=10, max_pages=2)
    cache.clear(source_key=1)
    for number in range(3):
        cache.store(cache.key, number, _entries(number * 10, 10))
    assert cache.entry_at(0) is None
    assert cache.entry_at(15).name == "15.png" and cache.entry_at(25).name == "25.png"


def test_a_short_last_page_and_updates_in_place():
    cache = PageCache(page_size=10)
    cache.clear(source_key=1)
    cache.store(cache.key, 0, _entries(0, 3))
    assert cache.entry_at(3) is None
    cache.update("h1", rating=7.0)
    assert cache.entry_at(1).rating == 7.0 and cache.entry_at(0).rating is None
