"""The grouping options and their defaults, importable without numpy: the command line's help
and the app's controls show them before anything is grouped."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_THRESHOLD = 0.95  # cosine similarity of two CLIP vectors that joins them
DEFAULT_PHASH_DISTANCE = 12  # perceptual-hash bits (of 64) that may differ to propose a pair
MAX_PHASH_DISTANCE = 20  # beyond this a 64-bit pHash says little and candidate work explodes
METHODS = ("both", "phash", "vectors")
# Evidence tiers, strongest first (core/duplicates/verify.py, evidence.py); dedupe acts on the
# first four. "raw-pair" (a RAW file and a JPEG of one shot) only when named; "series" (another
# moment of one scene) and "similar" are for browsing.
TIERS = ("bytes", "pixels", "same", "edited", "raw-pair", "series", "similar")
DUPLICATE_TIERS = ("bytes", "pixels", "same", "edited")


@dataclass(frozen=True)
class GroupOptions:
    """What a grouping asks for: how candidates are found and how close they must be, and the
    scope (a catalogue root, a folder under it; None: everything present)."""

    threshold: float = DEFAULT_THRESHOLD
    method: str = "both"  # one of METHODS
    phash_distance: int = DEFAULT_PHASH_DISTANCE
    root: str | None = None
    folder: str | None = None
