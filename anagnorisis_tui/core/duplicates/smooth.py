"""Candidates for smooth pictures: gradients, flat colours, plain backgrounds.

Their perceptual hash is noise (a DCT of a ramp has a few strong coefficients and a median of
near-zeros), so a JPEG re-encode or a resize of one lands 20 bits away and is never proposed.
Smooth renditions are few in a photo library; each gets a layout (8 x 8 mean colours of its
rendition), the layouts are sorted by mean brightness, and each is compared with its neighbours
in that order: a pair whose layouts agree within LAYOUT_MEAN is proposed. Proposals only: the
renditions and then the thumbnails (with no tone fit, moments.py) still decide.
"""

from __future__ import annotations

import numpy as np

from anagnorisis_tui.core.duplicates import verify

SMOOTH_HF = 2.0  # mean |Laplacian| of the grey rendition below which it is smooth (a ramp: 0)
LAYOUT_MEAN = 8.0  # mean absolute difference of two layouts (0..255) that proposes a pair
WINDOW = 64  # neighbours in brightness order each smooth picture is compared with
GREY_GAP = 12.0  # ... and never further apart than this in mean brightness


def layouts(pixels: np.ndarray) -> list[np.ndarray | None]:
    """Per rendition (K x S x S x 4 uint8), its 8 x 8 x 3 layout when it is smooth, else None."""
    side = verify.SIDE
    colour = pixels[..., :3].astype(np.float32)
    coarse = colour.reshape(len(colour), 8, side // 8, 8, side // 8, 3).mean(axis=(2, 4))
    grey = colour @ np.array([0.299, 0.587, 0.114], np.float32)
    laplacian = (
        4 * grey[:, 1:-1, 1:-1]
        - grey[:, :-2, 1:-1]
        - grey[:, 2:, 1:-1]
        - grey[:, 1:-1, :-2]
        - grey[:, 1:-1, 2:]
    )
    detail = np.abs(laplacian).mean(axis=(1, 2))
    return [coarse[k] if detail[k] < SMOOTH_HF else None for k in range(len(colour))]


def pairs(found: dict[int, np.ndarray]) -> set[tuple[int, int]]:
    """Candidate pairs (i < j) among smooth pictures whose layouts agree."""
    if len(found) < 2:
        return set()
    owners = np.array(list(found), np.int64)
    stack = np.stack([found[int(o)] for o in owners]).reshape(len(owners), -1)
    bright = stack.mean(axis=1)
    order = np.argsort(bright, kind="stable")
    owners, stack, bright = owners[order], stack[order], bright[order]
    out: set[tuple[int, int]] = set()
    for step in range(1, min(WINDOW, len(owners) - 1) + 1):
        a, b = np.arange(len(owners) - step), np.arange(step, len(owners))
        close = (np.abs(stack[a] - stack[b]).mean(axis=1) <= LAYOUT_MEAN) & (
            bright[b] - bright[a] <= GREY_GAP
        )
        for i, j in zip(owners[a[close]].tolist(), owners[b[close]].tolist(), strict=True):
            out.add((min(i, j), max(i, j)))
    return out
