from __future__ import annotations

from anagnorisis_tui.core.library import Library
from tests.support.imagefiles import jpeg_bytes, tree_snapshot, write


def test_first_scan_then_rescan(settings, tmp_path):
    lib_dir = tmp_path / "lib"
    for i in range(4):
        write(lib_dir / f"d{i % 2}" / f"{i}.jpg", jpeg_bytes(i))
    before = tree_snapshot(lib_dir)
    lib = Library(settings)
    first = lib.catalogue.scan(lib_dir)
    assert (first.files, first.new, first.errors, first.cancelled) == (4, 4, 0, False)
    again = lib.catalogue.scan(lib_dir)
    assert (again.files, again.new, again.unchanged) == (4, 0, 4)
    assert tree_snapshot(lib_dir) == before
    assert lib.catalogue.folders(str(lib_dir)) == [("", 4), ("d0", 2), ("d1", 2)]
    entry = lib.views.entry(str(lib_dir / "d0" / "0.jpg"))
    assert entry is not None and (entry.width, entry.height, entry.format) == (48, 32, "JPEG")
