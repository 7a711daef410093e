"""The second look: a pair the renditions verified is a copy only if nothing says it is another
moment.

The 32-pixel renditions (verify.py) propose the tier; here each pair they called "same" or
"edited" (and each low-detail pair they found equal without any fit, `flat_copy`) is checked
twice more:
- the shots (shots.py): a different capture time, exposure or burst, where both files record
  one, makes it a `series` (another moment), however alike the pixels;
- the 256-pixel thumbnails (moments.py): a residual with structure (a moved subject, a changed
  region, new content at one side) makes it a `series`; a thumbnail that cannot be read leaves
  it `similar` (unchecked is never a copy).
A copy of which one file is a camera RAW and the other not is a `raw-pair`: the RAW file and
the camera's JPEG of one shot (or a JPEG developed from it). Not "same": the RAW holds what the
JPEG lost, and which one to keep is the user's choice (keeper rules, `prefer_formats`).
A "similar" pair the thumbnails register as one scene is a `series` too (a burst whose subject
moved further than the renditions forgive). A series is for browsing: no trash plan takes it
unless the user names the tier.
A tone change alone (brightness or contrast, no crop, no turn) is what an exposure bracket looks
like too: two shots ±0.3-1 EV apart differ by a tone curve. Unless both files record one capture
(the same time, or the same exposure where no time is recorded), nothing tells an edit from a
bracket, and such a pair is a `series` with the why saying so: never in a default trash plan.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PIL import Image

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.core.base.db import Database
from anagnorisis_tui.core.base.progress import check
from anagnorisis_tui.core.catalogue import thumbnails
from anagnorisis_tui.core.duplicates import looks, moments, shots
from anagnorisis_tui.core.duplicates.options import TONE_OR_BRACKET
from anagnorisis_tui.core.duplicates.tiers import Edge

Thumbnail = Callable[[int], "Image.Image | None"]  # node -> its thumbnail, None: unreadable
ShotOf = Callable[[int], shots.Shot]
COPY_TIERS = ("same", "edited")
_TRANSPOSE = {
    "mirrored": Image.Transpose.FLIP_LEFT_RIGHT,
    "rotated 90°": Image.Transpose.ROTATE_90,
    "rotated 180°": Image.Transpose.ROTATE_180,
    "rotated 270°": Image.Transpose.ROTATE_270,
    "mirrored, rotated 90°": Image.Transpose.TRANSPOSE,
    "mirrored, rotated 180°": Image.Transpose.FLIP_TOP_BOTTOM,
    "mirrored, rotated 270°": Image.Transpose.TRANSVERSE,
}
RAW_PAIR = "raw-pair"  # a RAW file and the camera's (or a developed) JPEG of one shot
TONE_GAIN = 0.03  # a shared gain further than this from 1: a tone change, not compression
KEEP = 256  # thumbnails held at once (pairs are visited in node order, so few are reread)


class Cached:
    """A node -> thumbnail function with a small LRU in front."""

    def __init__(self, load: Thumbnail, size: int = KEEP) -> None:
        self._load = load
        self._size = size
        self._held: OrderedDict[int, Image.Image | None] = OrderedDict()

    def __call__(self, node: int) -> Image.Image | None:
        if node in self._held:
            self._held.move_to_end(node)
            return self._held[node]
        image = self._load(node)
        self._held[node] = image
        if len(self._held) > self._size:
            self._held.popitem(last=False)
        return image


def refine(
    edges: dict[tuple[int, int], Edge],
    thumbnail: Thumbnail,
    shot: ShotOf,
    *,
    raw: set[int] | frozenset[int] = frozenset(),
    remembered: Remembered | None = None,
    cancel: threading.Event | None = None,
    tick: Callable[[int, int], None] | None = None,
) -> dict[tuple[int, int], Edge]:
    """The edges with each verified pair's tier confirmed, or turned into a series.

    With `remembered` (looks.py), a pair whose look is remembered and whose two thumbnails are
    in the cache is decided without reading them; each new look is remembered."""
    look = Cached(thumbnail)
    out = dict(edges)
    todo = sorted(pair for pair, edge in edges.items() if _needs_look(edge))
    known: dict[looks.Key, moments.Moment] = {}
    if remembered is not None:
        known = remembered.memory.recall(remembered.key(pair, edges[pair]) for pair in todo)
    try:
        for n, (i, j) in enumerate(todo):
            if n % 32 == 0:
                check(cancel)
                if tick:
                    tick(n, len(todo))
            edge = edges[(i, j)]
            one_raw = (i in raw) != (j in raw)
            if remembered is not None:
                key = remembered.key((i, j), edge)
                cached = remembered.ready(i) and remembered.ready(j)
                moment = known.get(key) if cached else None
                if cached and (moment is not None or _another_moment(edge, shot(i), shot(j))):
                    out[(i, j)] = judge(edge, moment, shot(i), shot(j), raw_pair=one_raw)
                    continue
                seen = partial(remembered.memory.keep, key)
            out[(i, j)] = second_look(
                edge,
                look(i),
                look(j),
                shot(i),
                shot(j),
                raw_pair=one_raw,
                seen=seen if remembered is not None else None,
            )
    finally:
        if remembered is not None:
            remembered.memory.flush()
    if tick:
        tick(len(todo), len(todo))
    return out


class Remembered:
    """What refine needs to use remembered looks: the memory, each pair's key, and whether a
    node's thumbnail is in the cache (then it can be read: a remembered look stands for it)."""

    def __init__(
        self, memory: looks.Memory, hashes: list[str], path_of: dict[int, str], cache: str
    ) -> None:
        self.memory = memory
        self._hashes = hashes
        self._path_of = path_of
        self._cache = Path(cache)

    def key(self, pair: tuple[int, int], edge: Edge) -> looks.Key:
        verdict = edge.verdict
        flat = verdict.low_detail if verdict is not None else False
        return (self._hashes[pair[0]], self._hashes[pair[1]], edge.turn, flat)

    def ready(self, node: int) -> bool:
        """As thumbnail_loader would read it: a present file, its thumbnail in the cache."""
        return (
            node in self._path_of and thumbnails.cached(self._cache, self._hashes[node]) is not None
        )


def _needs_look(edge: Edge) -> bool:
    verdict = edge.verdict
    if verdict is None:  # identical bytes or pixels: nothing to look at
        return False
    return edge.tier in COPY_TIERS or edge.tier == "similar"


def second_look(
    edge: Edge,
    first: Image.Image | None,
    second: Image.Image | None,
    shot_a: shots.Shot,
    shot_b: shots.Shot,
    *,
    raw_pair: bool = False,
    seen: Callable[[moments.Moment], None] | None = None,
) -> Edge:
    """The tier a pair keeps after its shots and thumbnails are read (see the module).
    `raw_pair`: one of the two is a RAW file, the other not; `seen` is given the thumbnails'
    look when they were compared."""
    verdict = edge.verdict
    assert verdict is not None
    if second is not None and edge.turn:
        second = second.transpose(_TRANSPOSE[edge.turn])
    if first is None or second is None:
        if edge.tier in COPY_TIERS or verdict.flat_copy:
            return Edge("similar", verdict, "not checked on its thumbnail")
        return edge
    if _another_moment(edge, shot_a, shot_b):
        return judge(edge, None, shot_a, shot_b, raw_pair=raw_pair)
    moment = moments.compare(first, second, flat=verdict.low_detail)
    if seen is not None:
        seen(moment)
    return judge(edge, moment, shot_a, shot_b, raw_pair=raw_pair)


def _another_moment(edge: Edge, shot_a: shots.Shot, shot_b: shots.Shot) -> bool:
    """A copy-like pair whose shots say another moment: a series without a look."""
    verdict = edge.verdict
    assert verdict is not None
    copyish = edge.tier in COPY_TIERS or verdict.flat_copy
    return copyish and bool(shots.other_moment(shot_a, shot_b))


def judge(
    edge: Edge,
    moment: moments.Moment | None,
    shot_a: shots.Shot,
    shot_b: shots.Shot,
    *,
    raw_pair: bool = False,
) -> Edge:
    """The tier of a pair whose two thumbnails were read: `moment` is their look (None only
    when the shots already say another moment, see _another_moment)."""
    verdict = edge.verdict
    assert verdict is not None
    copyish = edge.tier in COPY_TIERS or verdict.flat_copy
    other = shots.other_moment(shot_a, shot_b)
    if copyish and other:
        return Edge("series", verdict, other)
    assert moment is not None
    if copyish and moment.copy and raw_pair:
        same_time = shot_a.taken is not None and shot_a.taken == shot_b.taken
        why = "a RAW file and a developed copy" + (", one capture time" if same_time else "")
        return Edge(RAW_PAIR, verdict, why)
    if copyish and moment.copy and _tone_only(edge) and not _one_capture(shot_a, shot_b):
        return Edge("edited", verdict, TONE_OR_BRACKET)  # never in the default plan
    if copyish and moment.copy:
        return Edge("same", verdict) if verdict.flat_copy else edge
    if moment.scene and (other or not moment.copy):  # one scene, another shot
        return Edge("series", verdict, other or moment.why)
    return Edge("similar", verdict, edge.why) if copyish else edge


def _tone_only(edge: Edge) -> bool:
    """An "edited" pair whose edit is a tone change alone (what a bracket looks like)."""
    verdict = edge.verdict
    if edge.tier != "edited" or edge.turn or verdict is None or verdict.crop > 0:
        return False
    return abs(verdict.gain - 1.0) > TONE_GAIN


def _one_capture(a: shots.Shot, b: shots.Shot) -> bool:
    """Both files record one capture: the same time, or (no time) the same exposure."""
    if a.taken is not None and b.taken is not None:
        return abs(a.taken - b.taken) <= shots.SAME_TIME
    return a.exposure is not None and a.exposure == b.exposure


def paths(
    db: Database, hashes: list[str], nodes: set[int], where: str, params: list[object]
) -> dict[int, str]:
    """A present file (OS path) of each node, in the scope."""
    position = {hashes[p]: p for p in nodes}
    wanted = sorted(position)
    out: dict[int, str] = {}
    for start in range(0, len(wanted), 900):
        chunk = wanted[start : start + 900]
        marks = ",".join("?" * len(chunk))
        for h, path in db.execute(
            f"SELECT f.hash, min(f.path) FROM files f WHERE {where} AND f.hash IN ({marks}) "
            "GROUP BY f.hash",
            [*params, *chunk],
        ).fetchall():
            out[position[h]] = fsnames.to_os(path)
    return out


def thumbnail_loader(hashes: list[str], path_of: dict[int, str], cache: str | None) -> Thumbnail:
    """Each node's 256-pixel thumbnail: the cached one (the scan writes it), made into the cache
    when missing; without a cache, made in memory."""

    def load(node: int) -> Image.Image | None:
        path = path_of.get(node)
        if path is None:
            return None
        try:
            if cache is None:
                return thumbnails.make_thumbnail(path)
            made = thumbnails.ensure_thumbnail(Path(cache), path, hashes[node])
            with Image.open(made) as image:
                return image.convert("RGB")
        except (thumbnails.ThumbnailError, OSError):
            return None

    return load


def shot_loader(path_of: dict[int, str]) -> Callable[[int], shots.Shot]:
    known: dict[int, shots.Shot] = {}

    def shot(node: int) -> shots.Shot:
        if node not in known:
            path = path_of.get(node)
            known[node] = shots.read(path) if path is not None else shots.Shot()
        return known[node]

    return shot
