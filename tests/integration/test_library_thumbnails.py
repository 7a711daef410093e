"""The library's thumbnails job: every image of a view, walked in batches, cached once."""

from __future__ import annotations

import threading
from pathlib import Path

from PIL import Image

from anagnorisis_tui.core.catalogue import thumbnails
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.views.paging import ViewSpec


def _library(settings, tmp_path: Path, n: int) -> Library:
    root = tmp_path / "photos"
    root.mkdir()
    for i in range(n):
        Image.new("RGB", (64 + i, 48), (10 * i, 200, 30)).save(root / f"img{i:02}.png")
    lib = Library(settings)
    lib.catalogue.set_root(root)
    lib.catalogue.scan()
    return lib


def test_walk_reads_every_entry_in_view_order_across_batches(settings, tmp_path):
    with _library(settings, tmp_path, 7) as lib:
        spec = ViewSpec()
        walked = [e.path for e in lib.views.walk(spec, batch=3)]
        assert walked == [e.path for e in lib.views.page(spec, 0, 100)]
        assert len(walked) == 7


def test_make_thumbnails_caches_each_image_once_and_stops_on_cancel(settings, tmp_path):
    with _library(settings, tmp_path, 5) as lib:
        spec = ViewSpec()
        items = [(e.hash, e.os_path) for e in lib.views.walk(spec, batch=2)]
        cancel = threading.Event()
        cancel.set()
        stopped = lib.catalogue.make_thumbnails(items, total=len(items), cancel=cancel)
        assert stopped.cancelled and stopped.made == 0

        seen = []
        summary = lib.catalogue.make_thumbnails(items, total=len(items), progress=seen.append)
        assert (summary.made, summary.cached, summary.failed) == (5, 0, 0)
        assert seen[-1].done == seen[-1].total == 5
        cache = thumbnails.cache_dir(settings.data_dir)
        for content_hash, _ in items:
            assert thumbnails.thumbnail_path(cache, content_hash, thumbnails.THUMB_SIZE).is_file()
        again = lib.catalogue.make_thumbnails(items)
        assert (again.made, again.cached) == (0, 5)
