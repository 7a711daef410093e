#!/usr/bin/env python
"""What one stored duplicate-verification rendition costs in the catalogue, beside its payload.

A rendition is 32 x 32 premultiplied RGBa, 4,096 bytes (README said "4 KiB"). Stored as a BLOB
in a table row of the catalogue's 8 KiB pages, a row that large does not fit a leaf page's local
payload limit, so SQLite spills it to an overflow page of its own: the figure on disk is what a
user pays. Renditions are made from real pictures (noise images through verify.rendition), the
catalogue is made by the app's own connect() and renditions.store(), checkpointed, and measured
by file size and by SQLite's dbstat (pages per table) where the build has it.

    python bench/bench_rendition_size.py             # 20,000 renditions
    python bench/bench_rendition_size.py --count 100000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anagnorisis_tui.core.base import db as dbmod  # noqa: E402
from anagnorisis_tui.core.duplicates import renditions, verify  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    pictures = [
        verify.rendition(Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)))
        for _ in range(64)
    ]
    payload = len(pictures[0])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "library.db"
        db = dbmod.connect(path)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        empty = path.stat().st_size
        rows = [(f"{i:032x}", pictures[i % len(pictures)], 64, 48) for i in range(args.count)]
        for start in range(0, len(rows), 5000):
            renditions.store(db, rows[start : start + 5000])
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        grown = path.stat().st_size - empty
        page = db.execute("PRAGMA page_size").fetchone()[0]
        try:
            table = db.execute(
                "SELECT count(*), sum(pgsize) FROM dbstat WHERE name = 'renditions'"
            ).fetchone()
            index = db.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'sqlite_autoindex_renditions%'"
            ).fetchone()[0]
        except Exception:  # a SQLite built without dbstat
            table, index = None, None
        db.conn.close()
    per_file = grown / args.count
    print(f"renditions: {args.count:,}, payload {payload:,} bytes each, page size {page:,}")
    print(f"catalogue growth per rendition: {per_file:,.0f} bytes ({per_file / 1024:.1f} KiB)")
    print(f"baseline, the payload alone:    {payload:,} bytes; ratio {per_file / payload:.2f}x")
    if table is not None:
        per_table = table[1] / args.count
        per_index = (index or 0) / args.count
        print(
            f"dbstat: table {per_table:,.0f} bytes/rendition ({table[0]:,} pages), "
            f"its primary-key index {per_index:,.0f} bytes/rendition"
        )
    print(f"at 100,000 images: {per_file * 100_000 / 1e6:,.0f} MB")


if __name__ == "__main__":
    main()
