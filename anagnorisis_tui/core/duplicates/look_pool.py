"""The second look on every core, for a grouping with many pairs to look at.

Each pair's look (evidence.second_look: two 256-pixel thumbnails read and decoded, then a few
milliseconds of numpy in moments.py) holds the interpreter between numpy's small operations, so
threads do not share it out (tried: slower on a loaded 2-core machine). Worker processes do:
the pairs go in chunks, in node order, each worker reading the thumbnails and the shots of its
chunk itself (the parent sends paths and content hashes, never pixels) and deciding each pair
with the same second_look as one core would. Workers are started with "spawn" (never a fork of
a process that runs threads: the app's UI, SQLite) and only for POOL_MIN pairs or more: each
one's start costs about a second of imports.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from PIL import Image

from anagnorisis_tui.core.base.progress import check
from anagnorisis_tui.core.duplicates import evidence, shots
from anagnorisis_tui.core.duplicates.tiers import Edge

POOL_MIN = 400  # pairs: fewer are looked at on one core
CHUNK = 48  # pairs a worker is given at once
MAX_WORKERS = 4  # a NAS's memory: each worker holds numpy, Pillow and a chunk's thumbnails

Pair = tuple[int, int]
Job = tuple[Pair, Edge, bool]  # a pair, its edge, whether one of the two is a RAW file
End = tuple[str | None, str]  # a node's present file and content hash
Sent = tuple[Pair, Edge, End, End, bool]


def workers() -> int:
    """The worker processes a look may use: the cores this process may run on (at most
    MAX_WORKERS)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores))


def look_all(
    jobs: list[Job],
    source: evidence.Thumbnails,
    *,
    cancel: threading.Event | None = None,
    tick: Callable[[int, int], None] | None = None,
) -> dict[Pair, Edge]:
    """Each job's pair with the edge its second look gives, looked at by worker processes."""
    sent = [
        (pair, edge, source.end(pair[0]), source.end(pair[1]), one_raw)
        for pair, edge, one_raw in jobs
    ]
    chunks = [sent[k : k + CHUNK] for k in range(0, len(sent), CHUNK)]
    out: dict[Pair, Edge] = {}
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=min(workers(), len(chunks)), mp_context=context)
    try:
        pending: set[Future[list[tuple[Pair, Edge]]]] = {
            pool.submit(look_chunk, source.cache, chunk) for chunk in chunks
        }
        while pending:
            done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            check(cancel)
            for future in done:
                out.update(future.result())
            if tick and done:
                tick(len(out), len(jobs))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return out


def look_chunk(cache: str | None, chunk: list[Sent]) -> list[tuple[Pair, Edge]]:
    """In a worker: each pair of the chunk with the edge its second look gives (each thumbnail
    and shot read once in the chunk)."""
    images: dict[str, Image.Image | None] = {}
    taken: dict[str, shots.Shot] = {}
    out = []
    for pair, edge, first, second, one_raw in chunk:
        for path, content_hash in (first, second):
            if content_hash not in images:
                images[content_hash] = evidence.load_thumbnail(path, content_hash, cache)
                taken[content_hash] = evidence.read_shot(path)
        a, b = first[1], second[1]
        look = evidence.second_look(
            edge, images[a], images[b], taken[a], taken[b], raw_pair=one_raw
        )
        out.append((pair, look))
    return out
