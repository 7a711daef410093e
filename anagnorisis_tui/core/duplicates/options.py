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
# An "edited" pair whose edit is a tone change alone, with no capture record on both files: an
# edited copy, or two frames of an exposure bracket stripped of their EXIF; the pixels cannot
# tell which. Found and shown as `edited` (it is most often a copy), never in the default plan:
# dedupe moves such a file only when the tier is named (`--tier edited`) or the file chosen.
TONE_OR_BRACKET = "a tone change or an exposure bracket: no capture time on both tells which"


def planned_by_default(tier: str, why: str) -> bool:
    """Whether dedupe's default plan (and the app's review) marks a member of `tier`, `why`."""
    return tier in DUPLICATE_TIERS and TONE_OR_BRACKET not in why


@dataclass(frozen=True)
class GroupOptions:
    """What a grouping asks for: how candidates are found and how close they must be, and the
    scope (a catalogue root, a folder under it; None: everything present)."""

    threshold: float = DEFAULT_THRESHOLD
    method: str = "both"  # one of METHODS
    phash_distance: int = DEFAULT_PHASH_DISTANCE
    root: str | None = None
    folder: str | None = None
