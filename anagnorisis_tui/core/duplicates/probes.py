"""Crop-tolerant candidates: perceptual hashes of crop boxes of each stored rendition.

A 10% crop moves the picture's own pHash by 10 to 24 bits, beyond any radius that stays cheap
at library scale, but the pHash of the matching crop box of the original is within a few bits
of the crop's whole-picture hash (0 to 4 bits on bench/hardset.py's photos). So every picture
gets, besides the hash of its whole rendition, the hashes of a few crop boxes (the centre at 5%
and 10%, the four corners at 10%), all from the 32-pixel rendition the verification reads
(nothing is decoded), and a pair is proposed when one's box hash is within PROBE_DISTANCE bits
of the other's whole hash. The search is multi-index hashing of the box codes against the whole
codes, so it stays sub-quadratic; the pairs are only proposals and go through verify.verify()
like every other candidate.
"""

from __future__ import annotations

import threading

import numpy as np

from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.base.progress import check
from anagnorisis_tui.core.duplicates import neighbours, verify
from anagnorisis_tui.core.duplicates.phash import BITS, popcount64

PROBE_DISTANCE = 5
STEP = 200_000  # probed buckets expanded at once, bounding memory
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
    return np.asarray(m[:_HASH].astype(np.float32))  # only the low frequencies are kept


_LOW = _dct(verify.SIDE)


def _box(cut: float, pos: float) -> np.ndarray:
    begin = cut * pos
    return verify.interp(begin, begin + 1 - cut)


_MATS = [(_box(c, y), _box(c, x)) for c, y, x in BOXES]
# A copy mirrored or rotated in its pixels: the whole rendition turned each of these ways is
# hashed too and looked up among the whole pictures like a crop box (verify_turned checks it).
# The seven non-trivial symmetries of a rectangle: three rotations, four reflections (left-right,
# upside down, and the two diagonals).
TURNS = (
    "mirrored",
    "rotated 90°",
    "rotated 180°",
    "rotated 270°",
    "mirrored, rotated 90°",
    "mirrored, rotated 180°",
    "mirrored, rotated 270°",
)
QUARTER = ("rotated 90°", "rotated 270°", "mirrored, rotated 90°", "mirrored, rotated 270°")


def turn(grey_or_pixels: np.ndarray, name: str, *, axes: tuple[int, int] = (1, 2)) -> np.ndarray:
    """K renditions (or one, with axes=(0, 1)) turned: mirrored left-right, or rotated
    counter-clockwise by 90, 180 or 270 degrees as PIL's ROTATE_90... do."""
    if name.startswith("mirrored"):
        grey_or_pixels = np.flip(grey_or_pixels, axis=axes[1])
        name = name.removeprefix("mirrored").removeprefix(", ")
        if not name:
            return grey_or_pixels
    quarter = {"rotated 90°": 1, "rotated 180°": 2, "rotated 270°": 3}[name]
    return np.rot90(grey_or_pixels, k=quarter, axes=axes)


def box_codes(pixels: np.ndarray) -> np.ndarray:
    """K x (len(BOXES) + len(TURNS)) signed 64-bit pHashes of the boxes and the turned whole
    pictures of K renditions (K x S x S x 4)."""
    grey = pixels[..., 0] * 0.299 + pixels[..., 1] * 0.587 + pixels[..., 2] * 0.114
    out = np.empty((len(grey), len(BOXES) + len(TURNS)), np.int64)
    views = [(grey, my, mx) for my, mx in _MATS]
    views += [(np.ascontiguousarray(turn(grey, name)), *_MATS[0]) for name in TURNS]
    for b, (view, my, mx) in enumerate(views):
        low = (_LOW @ my) @ view @ (_LOW @ mx).T  # K x 8 x 8
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
    smooth: dict[int, np.ndarray] | None = None,
    turned: set[tuple[int, int]] | None = None,
) -> set[tuple[int, int]]:
    """Candidate pairs (i < j, positions in `hashes`) where a crop box of one picture hashes
    within `distance` bits of the other whole picture. Renditions are read a block at a time,
    so memory holds only the codes (56 bytes a picture). With `smooth`, the layouts of smooth
    pictures (gradients, flat colours: their pHash is noise) are collected into it from the
    same read, by position (see smooth.py). With `turned`, the pairs proposed by a turned
    picture are added to it too (they are verified turned, verify_turned)."""
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
        if smooth is not None:
            from anagnorisis_tui.core.duplicates import smooth as smooth_mod

            for (h, _), layout in zip(rows, smooth_mod.layouts(pixels), strict=True):
                if layout is not None:
                    smooth[position[h]] = layout
    if len(owners) < 2:
        return set()
    codes = np.concatenate(blocks)  # N x (len(BOXES) + len(TURNS))
    owner = np.array(owners, np.int64)
    # The index: each distinct whole-picture code, with the pictures that have it.
    whole, inverse = np.unique(codes[:, 0], return_inverse=True)
    holders = np.argsort(inverse, kind="stable")
    held = np.bincount(inverse, minlength=len(whole))
    first = np.cumsum(held) - held
    boxes = codes[:, 1:].ravel()
    q, u = _cross(boxes.view(np.uint64), whole.view(np.uint64), distance, cancel)
    columns = codes.shape[1] - 1
    picture = q // columns
    from_turn = np.repeat((q % columns) >= len(BOXES) - 1, np.minimum(held[u], limit))
    # A code many pictures share (copies, flat pictures) proposes a bounded few of them.
    take = np.minimum(held[u], limit)
    a = np.repeat(picture, take)
    b = holders[
        np.repeat(first[u], take)
        + (np.arange(int(take.sum())) - np.repeat(np.cumsum(take) - take, take))
    ]
    a, b = owner[a], owner[b]
    keep = a != b
    a, b, from_turn = a[keep], b[keep], from_turn[keep]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    if turned is not None:
        turned.update(zip(lo[from_turn].tolist(), hi[from_turn].tolist(), strict=True))
    return set(zip(lo.tolist(), hi.tolist(), strict=True))


def _cross(
    queries: np.ndarray, index: np.ndarray, distance: int, cancel: threading.Event | None
) -> tuple[np.ndarray, np.ndarray]:
    """(query, index) positions of every pair within `distance` bits, by multi-index hashing:
    the 64 bits in m chunks, each index chunk in a bucket table, each query probing its chunk
    XOR every mask of at most r bits, with m (r + 1) > distance (pigeonhole: a close pair
    agrees on some chunk to within r bits). Only pairs sharing a bucket are compared."""
    m = 3 if distance < 6 else 4  # chunks of 21-22 or 16 bits: tables of 4 M or 64 K starts
    radius = -(-(distance + 1) // m) - 1
    found_q, found_i = [], []
    shift = 0
    for c in range(m):
        width = BITS // m + (1 if c < BITS % m else 0)
        low = np.uint64((1 << width) - 1)
        keys = ((index >> np.uint64(shift)) & low).astype(np.int64)
        probe_keys = ((queries >> np.uint64(shift)) & low).astype(np.int64)
        shift += width
        order = np.argsort(keys, kind="stable")
        counts = np.bincount(keys, minlength=1 << width)
        starts = np.cumsum(counts) - counts
        for mask in neighbours.masks(width, radius):
            check(cancel)
            probe = probe_keys ^ mask
            cnt = counts[probe]
            has = np.nonzero(cnt)[0]
            for begin in range(0, len(has), STEP):
                part = has[begin : begin + STEP]
                n = cnt[part]
                qa = np.repeat(part, n)
                offsets = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
                ib = order[np.repeat(starts[probe[part]], n) + offsets]
                close = popcount64(queries[qa] ^ index[ib]) <= distance
                found_q.append(qa[close])
                found_i.append(ib[close])
    if not found_q:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    # A pair close in several chunks is found once per chunk: one of each.
    keys = np.unique(np.concatenate(found_q) * len(index) + np.concatenate(found_i))
    return keys // len(index), keys % len(index)
