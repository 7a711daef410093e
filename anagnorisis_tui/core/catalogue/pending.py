"""What the scan's later passes have left to do under a root, asked without the decoders.

The dates stage (dates_pass.py) and the ingest pass (ingest_pass.py) start from these queries,
and a process that has walked a library asks them before it loads Pillow or numpy: a scan
that finds nothing new, nothing changed and nothing pending needs neither (the command line
then finishes the scan in its own process, with no child; cli/scan_cmd.py).
"""

from __future__ import annotations

from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.catalogue.scan_types import prefix_range

# The embed_errors keys of content whose perceptual hash or rendition failed: PHASH_MODEL and
# RENDITION_MODEL of core/duplicates (tests/cli/test_scan_process.py holds them equal; the
# layers keep duplicates, and its numpy, out of here).
PHASH_ERRORS = "phash"
RENDITION_ERRORS = "rendition"


def dates_rows(db: Database, root_db: str, *, limit: int | None = None) -> list[tuple[str, str]]:
    """(content hash, a present path) of content under `root_db` whose capture date is unread."""
    lo, hi = prefix_range(root_db)
    # From the unread content (a partial index, empty once every date is read) to its files.
    return db.execute(
        "SELECT hash, path FROM (SELECT i.hash, (SELECT min(f.path) FROM files f "
        "WHERE f.hash = i.hash AND f.present = 1 AND f.path >= ? AND f.path < ?) AS path "
        "FROM images i WHERE i.taken_read = 0) WHERE path IS NOT NULL"
        + (f" LIMIT {int(limit)}" if limit else " ORDER BY hash"),
        [lo, hi],
    ).fetchall()


def ingest_rows(
    db: Database,
    root_db: str | None,
    *,
    phash: bool,
    model_id: str | None,
    limit: int | None = None,
) -> list[tuple[str, str, str, int, int, int, int, int, int]]:
    """(content hash, a present path under root_db (None: anywhere), format, width, height,
    needs pixel identity, needs a perceptual hash, needs a vector for `model_id`, needs a
    verification rendition) of each present content that lacks one of those. The perceptual
    hash and the rendition are wanted with `phash`.

    Built for the usual answer, none: the candidates come from one pass over the images table
    for its own columns and one pass per side table in hash order (the index alone, each probe
    next to the last), and only they are looked up further (flags, a present file).
    tests/integration/test_pending.py holds the answers to those of the one-pass query it replaced."""
    scope, params = "", []
    if root_db is not None:
        lo, hi = prefix_range(root_db)
        scope, params = " AND f.path >= ? AND f.path < ?", [lo, hi]
    ph = rend = vec = "0"
    flags: list[str] = []
    own = "pixel_hash IS NULL"  # the images table's own columns: one pass for all of them
    candidates: list[str] = []
    candidate_params: list[str] = []
    if phash:
        ph = (
            "(i.phash IS NULL AND NOT EXISTS (SELECT 1 FROM embed_errors e "
            "WHERE e.hash = i.hash AND e.model_id = ?))"
        )
        rend = (
            "(NOT EXISTS (SELECT 1 FROM renditions r WHERE r.hash = i.hash) AND "
            "NOT EXISTS (SELECT 1 FROM embed_errors e WHERE e.hash = i.hash AND e.model_id = ?))"
        )
        flags += [PHASH_ERRORS, RENDITION_ERRORS]
        own += " OR phash IS NULL"
        if not _every_content_has_a_rendition(db):
            candidates.append(f"SELECT hash FROM images i WHERE {rend}")
            candidate_params.append(RENDITION_ERRORS)
    if model_id is not None:
        vec = (
            "(NOT EXISTS (SELECT 1 FROM vectors v WHERE v.hash = i.hash AND v.model_id = ?) AND "
            "NOT EXISTS (SELECT 1 FROM embed_errors e WHERE e.hash = i.hash AND e.model_id = ?))"
        )
        flags += [model_id, model_id]
        candidates.append(f"SELECT hash FROM images i WHERE {vec}")
        candidate_params += [model_id, model_id]
    union = " UNION ALL ".join([f"SELECT hash FROM images WHERE {own}", *candidates])
    return db.execute(
        "SELECT hash, path, format, width, height, identify, ph, vec, rend FROM (SELECT i.hash, "
        f"(SELECT min(f.path) FROM files f WHERE f.hash = i.hash AND f.present = 1{scope}) AS path,"
        f" i.format, i.width, i.height, i.pixel_hash IS NULL AS identify, {ph} AS ph, "
        f"{rend} AS rend, {vec} AS vec FROM images i "
        f"WHERE i.hash IN ({union})) "
        "WHERE path IS NOT NULL AND (identify OR ph OR vec OR rend)"
        + (f" LIMIT {int(limit)}" if limit else ""),
        [*params, *flags, *candidate_params],
    ).fetchall()


def _every_content_has_a_rendition(db: Database) -> bool:
    """Two b-tree counts instead of a probe per content (~0.3 us each): renditions are only
    ever stored for content in `images` (core/duplicates/renditions.py, ingest_pass.py), and
    neither table loses rows, so equal counts mean none lacks one. Were that ever not so, a
    missing rendition is still made when grouping needs it (renditions.compute_missing)."""
    row = db.execute("SELECT (SELECT count(*) FROM images) = (SELECT count(*) FROM renditions)")
    return bool(row.fetchone()[0])
