"""Crop-tolerant candidates: perceptual hashes of crop boxes of each stored rendition.

A 10% crop moves the picture's own pHash by 10 to 24 bits, beyond any radius that stays cheap
at library scale, but the pHash of the matching crop box of the original is within a few bits
of the crop's whole-picture hash (0 to 4 bits on bench/hardset.py's photos). So every picture
gets, besides the hash of its whole rendition, the hashes of a few crop boxes (the centre at 5%
and 10%, the four corners at 10%), all from the 32-pixel rendition the verification reads
(nothing is decoded), and a pair is proposed when one's box hash is within PROBE_DISTANCE bits
of the other's whole hash. The search is multi-index hashing over all the codes
(neighbours.phash_pairs), so it stays sub-quadratic; the pairs are only proposals and go
through verify.verify() like every other candidate.
"""

from __future__ import annotations

import threading

import numpy as np

from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.base.progress import check
from anagnorisis_tui.core.duplicates import neighbours, verify

PROBE_DISTANCE = 6
# (cut fraction, vertical position, horizontal position) of each box; (0, 0, 0) is the whole.
BOXES = (
    (0.0, 0.0, 0.0),
    (0.05, 0.5, 0.5),
    (0.1, 0.5, 0.5),
    (0.1, 0.0, 0.0),
    (0.1, 0.0, 1.0),
    (0.1, 1.0, 0.0),
    (0.1, 1.0, 1.0),
)
_HASH = 8
_WEIGHTS = (1 << np.arange(_HASH * _HASH - 1, -1, -1, dtype=np.uint64)).astype(np.uint64)


def _dct(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m[:_HASH].astype(np.float32)  # only the low frequencies are kept


_LOW = _dct(verify.SIDE)


def _box(cut: float, pos: float) -> np.ndarray:
    begin = cut * pos
    return verify.interp(begin, begin + 1 - cut)


_MATS = [(_box(c, y), _box(c, x)) for c, y, x in BOXES]


def box_codes(pixels: np.ndarray) -> np.ndarray:
    """K x len(BOXES) signed 64-bit pHashes of the boxes of K renditions (K x S x S x 4)."""
    grey = pixels[..., 0] * 0.299 + pixels[..., 1] * 0.587 + pixels[..., 2] * 0.114
    out = np.empty((len(grey), len(BOXES)), np.int64)
    for b, (my, mx) in enumerate(_MATS):
        low = (_LOW @ my) @ grey @ (_LOW @ mx).T  # K x 8 x 8
        flat = low.reshape(len(grey), -1)
        median = np.median(flat[:, 1:], axis=1, keepdims=True)
        bits = (flat > median).astype(np.uint64)
        out[:, b] = (bits * _WEIGHTS).sum(axis=1, dtype=np.uint64).view(np.int64)
    return out


def crop_pairs(
    db: Database,
    hashes: list[str],
    *,
    distance: int = PROBE_DISTANCE,
    block: int = 900,
    limit: int = 50,
    cancel: threading.Event | None = None,
    tick: neighbours.Tick | None = None,
) -> set[tuple[int, int]]:
    """Candidate pairs (i < j, positions in `hashes`) where a crop box of one picture hashes
    within `distance` bits of the other whole picture. Renditions are read a block at a time,
    so memory holds only the codes (56 bytes a picture)."""
    position = {h: p for p, h in enumerate(hashes)}
    owners: list[int] = []
    blocks: list[np.ndarray] = []
    for start in range(0, len(hashes), block):
        check(cancel)
        chunk = hashes[start : start + block]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            f"SELECT hash, data FROM renditions WHERE hash IN ({marks})", chunk
        ).fetchall()
        rows = [(h, d) for h, d in rows if len(d) == verify.RENDITION_BYTES]
        if not rows:
            continue
        pixels = np.frombuffer(b"".join(d for _, d in rows), np.uint8)
        pixels = pixels.reshape(-1, verify.SIDE, verify.SIDE, verify.CHANNELS)
        blocks.append(box_codes(pixels.astype(np.float32)))
        owners.extend(position[h] for h, _ in rows)
    if len(owners) < 2:
        return set()
    codes = np.concatenate(blocks).ravel()  # box b of picture n at n * len(BOXES) + b
    owner = np.repeat(np.array(owners, np.int64), len(BOXES))
    whole = np.tile(np.arange(len(BOXES)) == 0, len(owners))
    unique, inverse = np.unique(codes, return_inverse=True)
    ui, uj, _ = neighbours.phash_pairs(unique, distance, cancel=cancel, tick=tick)
    counts = np.bincount(inverse, minlength=len(unique))
    order = np.argsort(inverse, kind="stable")
    starts = np.cumsum(counts) - counts
    # Codes held once (most): their pairs map straight back to one box each.
    single = (counts[ui] == 1) & (counts[uj] == 1)
    x, y = order[starts[ui[single]]], order[starts[uj[single]]]
    out = _keep(owner, whole, x, y)
    # Codes several boxes share (copies, flat pictures): each pair of holders, a bounded few.
    shared = [(int(u), int(u)) for u in np.nonzero(counts > 1)[0]]
    for u, v in [*shared, *zip(ui[~single].tolist(), uj[~single].tolist(), strict=True)]:
        check(cancel)
        xs = order[starts[u] : starts[u] + min(int(counts[u]), limit)]
        ys = order[starts[v] : starts[v] + min(int(counts[v]), limit)]
        gx, gy = np.meshgrid(xs, ys, indexing="ij")
        out |= _keep(owner, whole, gx.ravel(), gy.ravel())
    return out


def _keep(
    owner: np.ndarray, whole: np.ndarray, x: np.ndarray, y: np.ndarray
) -> set[tuple[int, int]]:
    """Pairs of pictures from pairs of boxes: one side's whole picture against the other's
    crop box. A picture's own boxes, and two boxes (what the whole hashes already compare),
    propose nothing."""
    keep = (owner[x] != owner[y]) & (whole[x] != whole[y])
    a, b = owner[x[keep]], owner[y[keep]]
    return set(zip(np.minimum(a, b).tolist(), np.maximum(a, b).tolist(), strict=True))
