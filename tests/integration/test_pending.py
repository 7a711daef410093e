"""The queries the scan's later passes start from (core/catalogue/pending.py) give the same
answers as the plain one-pass queries they replaced, on a real catalogue in every state."""

from __future__ import annotations

import pytest

from anagnorisis_tui.core.catalogue import ingest_pass, pending
from anagnorisis_tui.core.catalogue.scan_types import ScanOptions, prefix_range
from anagnorisis_tui.core.library import Library
from tests.support.imagefiles import jpeg_bytes, write


def reference_ingest_rows(db, root_db, phash, model_id):
    """Every content row with its flags, then the wanted ones (the query before)."""
    scope, params = "", []
    if root_db is not None:
        lo, hi = prefix_range(root_db)
        scope, params = " AND f.path >= ? AND f.path < ?", [lo, hi]
    want = "1" if phash else "0"
    vector = "0"
    if model_id is not None:
        vector = (
            "NOT EXISTS (SELECT 1 FROM vectors v WHERE v.hash = i.hash AND v.model_id = ?) AND "
            "NOT EXISTS (SELECT 1 FROM embed_errors e WHERE e.hash = i.hash AND e.model_id = ?)"
        )
    return db.execute(
        "SELECT hash, path, format, width, height, identify, ph, vec, rend FROM (SELECT i.hash, "
        f"(SELECT min(f.path) FROM files f WHERE f.hash = i.hash AND f.present = 1{scope}) AS path,"
        " i.format, i.width, i.height, i.pixel_hash IS NULL AS identify, "
        f"{want} AND i.phash IS NULL AND NOT EXISTS (SELECT 1 FROM embed_errors e "
        "WHERE e.hash = i.hash AND e.model_id = 'phash') AS ph, "
        f"{want} AND NOT EXISTS (SELECT 1 FROM renditions r WHERE r.hash = i.hash) AND "
        "NOT EXISTS (SELECT 1 FROM embed_errors e WHERE e.hash = i.hash AND "
        f"e.model_id = 'rendition') AS rend, {vector} AS vec FROM images i) "
        "WHERE path IS NOT NULL AND (identify OR ph OR vec OR rend)",
        [*params, *([model_id, model_id] if model_id else [])],
    ).fetchall()


def reference_dates_rows(db, root_db):
    lo, hi = prefix_range(root_db)
    return db.execute(
        "SELECT i.hash, min(f.path) FROM images i JOIN files f ON f.hash = i.hash "
        "WHERE i.taken_read = 0 AND f.present = 1 AND f.path >= ? AND f.path < ? "
        "GROUP BY i.hash",
        [lo, hi],
    ).fetchall()


@pytest.fixture
def catalogued(settings, tmp_path):
    root = tmp_path / "lib"
    for i in range(12):
        write(root / f"f{i % 3}" / f"p{i}.jpg", jpeg_bytes(i, (24, 16)))
    write(root / "f0" / "copy.jpg", jpeg_bytes(0, (24, 16)))  # one content, two files
    with Library(settings) as lib:
        lib.catalogue.scan(root, ScanOptions(products=ingest_pass.Products(phash=True)))
        yield lib, str(root)


def _mutations(db):
    hashes = [h for (h,) in db.execute("SELECT hash FROM images ORDER BY hash")]
    marks = ",".join("?" * 3)
    yield "as scanned"
    db.execute(f"UPDATE images SET phash = NULL WHERE hash IN ({marks})", hashes[0:3])
    db.execute(f"UPDATE images SET pixel_hash = NULL WHERE hash IN ({marks})", hashes[2:5])
    db.execute(f"DELETE FROM renditions WHERE hash IN ({marks})", hashes[4:7])
    db.execute(f"UPDATE images SET taken_read = 0 WHERE hash IN ({marks})", hashes[0:3])
    yield "missing derived values"
    db.execute(
        "INSERT INTO embed_errors(hash, model_id, reason, at) VALUES (?, 'phash', 'x', 0), "
        "(?, 'rendition', 'x', 0), (?, 'm1', 'x', 0)",
        [hashes[0], hashes[4], hashes[8]],
    )
    db.execute(
        "INSERT INTO vectors(hash, model_id, vector, at) VALUES (?, 'm1', x'00', 0)", [hashes[9]]
    )
    yield "recorded failures and a vector"
    db.execute(f"UPDATE files SET present = 0 WHERE hash IN ({marks})", [*hashes[1:3], hashes[5]])
    yield "files gone"


def test_pending_rows_match_the_plain_queries(catalogued):
    lib, root = catalogued
    db = lib.db
    seen = []
    for state in _mutations(db):
        for root_db in (root, None, root + "-elsewhere"):
            for phash in (True, False):
                for model_id in (None, "m1"):
                    want = sorted(reference_ingest_rows(db, root_db, phash, model_id))
                    got = pending.ingest_rows(db, root_db, phash=phash, model_id=model_id)
                    assert sorted(got) == want, (state, root_db, phash, model_id)
                    one = pending.ingest_rows(db, root_db, phash=phash, model_id=model_id, limit=1)
                    assert len(one) == min(1, len(want))
        assert pending.dates_rows(db, root) == reference_dates_rows(db, root), state
        assert len(pending.dates_rows(db, root, limit=1)) == min(
            1, len(pending.dates_rows(db, root))
        )
        seen.append(len(reference_ingest_rows(db, root, True, None)))
    assert seen[0] == 0 and seen[1] > 0  # the states do differ
