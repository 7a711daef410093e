"""Terminal app: Enter to a painted first page of search results, and a filter change to repaint.

Builds a catalogue of N images (default 100,000) whose vectors come from the shipped tiny CLIP:
a few hundred generated shape images are really embedded, and every catalogue row takes one of
those vectors plus a little noise (structured data, as real libraries are). The text encoder is
the real tiny CLIP, loaded before timing ("model warm"). Then, in the real app (make_app,
headless, unicode images, 160x50):

- search: the query is typed key by key, then Enter after a 0.3 s pause (the app encodes the
  query during pauses in typing); the clock starts at Enter and stops when the first frame
  showing the new first page is sent to the terminal. Each query is new to the app (its scores
  are computed after Enter), like a user's next search.
- filter: a resolution filter typed into the panel (Enter), then changed again, with the search
  in force; the clock stops when the grid has repainted with the new results.

Baselines, in the same run: the bare core calls the screen makes, what no UI could beat: for a
search, the index's top page (`Library.search_preview`, painted first) for a new query on a
fresh thread, and the exact ranking behind it (`Library.count` + the first `Library.page` on a
fresh connection); for a filter change, count + first page on a connection whose score table
is warm.

    nice python bench/bench_search_ui.py              # 100,000 images
    python bench/bench_search_ui.py --n 20000 --reps 5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anagnorisis_tui.core.base.config import load_settings  # noqa: E402
from anagnorisis_tui.core.library import Library  # noqa: E402
from anagnorisis_tui.core.views.filters import Filters  # noqa: E402
from anagnorisis_tui.core.views.paging import ViewSpec  # noqa: E402

REAL = 480  # really embedded shape images
COLOURS = ["red", "green", "blue", "yellow", "purple", "orange", "white", "black"]
SHAPES = ["circle", "square", "triangle", "star"]
FIRST_PAGE = 200  # the grid's page size
DEBUG = False
PAUSE_BEFORE_ENTER = 0.3  # between the last key and Enter; the app encodes the query meanwhile


def build(state: Path, n: int, seed: int = 0) -> Library:
    from anagnorisis_tui.core.demo import shapes
    from anagnorisis_tui.core.semantic import vectors

    settings = load_settings(
        data_dir=state / "data",
        config_file=state / "config.toml",
        overrides={"model": "tiny-clip", "pretrained": "", "device": "cpu"},
    )
    library = Library(settings)
    real_root = state / "real"
    shapes.write_library(real_root, REAL, size=64, seed=seed)
    library.catalogue.set_root(real_root)
    library.catalogue.scan(real_root)
    library.semantic.embed(build_index=False)
    model = library.semantic.model_id
    hashes, base = vectors.load_vectors(library.db, model)
    rng = np.random.default_rng(seed)
    db = library.db
    now = time.time()
    widths = rng.choice([640, 1024, 1920, 3000, 4000], n)
    heights = (widths * rng.choice([0.5, 0.75, 1.0, 1.33, 1.5], n)).astype(int)
    with db.conn:
        db.execute("DELETE FROM files")  # the real images only lent their vectors
        db.conn.executemany(
            "INSERT INTO images(hash, size, width, height, format, first_seen) "
            "VALUES (?, ?, ?, ?, 'JPEG', ?)",
            (
                (f"b{i:07d}", int(rng.integers(50_000, 8_000_000)), int(w), int(h), now)
                for i, (w, h) in enumerate(zip(widths, heights, strict=True))
            ),
        )
        db.execute(
            "INSERT INTO files(path, root, folder, name, hash, size, mtime_ns, added, updated) "
            "SELECT '/lib/f' || (rowid % 100) || '/' || hash || '.jpg', '/lib', "
            "'f' || (rowid % 100), hash || '.jpg', hash, size, 0, ?, ? FROM images "
            "WHERE hash LIKE 'b%'",
            [now, now],
        )
    block = 20_000
    for start in range(0, n, block):
        ids = np.arange(start, min(n, start + block))
        picks = base[rng.integers(0, len(base), len(ids))]
        noisy = picks + rng.normal(0, 0.02, picks.shape).astype(np.float32)
        vectors.put_vectors(db, model, [f"b{i:07d}" for i in ids], noisy)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    library.semantic.build_index()  # as `embed` leaves it: the Annoy index over every vector
    return library


def queries(reps: int) -> list[str]:
    out = [f"a {c} {s}" for c in COLOURS for s in SHAPES]
    return out[:reps]


def core_search(library: Library, query: str) -> float:
    """Count + first page for a new query, on a fresh thread (fresh connection, cold table)."""
    took: list[float] = []

    def run() -> None:
        start = time.perf_counter()
        spec = ViewSpec(search=query, sort="score", descending=True)
        library.views.count(spec)
        library.views.page(spec, 0, FIRST_PAGE)
        took.append(time.perf_counter() - start)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return took[0]


def core_preview(library: Library, query: str) -> float:
    """The index's top page for a new query on a fresh thread (what the app paints first),
    its text encoded beforehand as the app does while the user types."""
    took: list[float] = []

    def run() -> None:
        library.views.text_vector(query)  # encoded while typing, as the app does
        start = time.perf_counter()
        library.views.search_preview(query, top_k=FIRST_PAGE)
        took.append(time.perf_counter() - start)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return took[0]


def core_filter(library: Library, query: str, min_mp: float) -> float:
    """Count + first page with one more filter, on this thread (its score table warm)."""
    base = ViewSpec(search=query, sort="score", descending=True)
    library.views.count(base)
    start = time.perf_counter()
    spec = ViewSpec(
        search=query, sort="score", descending=True, filters=Filters(min_megapixels=min_mp)
    )
    library.views.count(spec)
    library.views.page(spec, 0, FIRST_PAGE)
    return time.perf_counter() - start


async def ui_timings(library: Library, settings, reps: int) -> tuple[list[float], list[float]]:
    from anagnorisis_tui.ui.app import make_app
    from anagnorisis_tui.ui.screens.search import SearchScreen
    from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid

    app = make_app(settings, library=library, graphics="unicode", scan_on_start=False)
    search_times: list[float] = []
    filter_times: list[float] = []
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("f2")
        for _ in range(50):
            await pilot.pause(0.05)
            if isinstance(app.screen, SearchScreen) and app.screen.painted_token:
                break
        screen = app.screen
        grid = screen.query_one("#results", ThumbnailGrid)

        # Every frame the app sends to the terminal, timed (the headless driver still renders).
        frames: list[float] = []
        send = app._display

        def display(screen_, update) -> None:
            send(screen_, update)
            frames.append(time.perf_counter())

        app._display = display

        # When the grid bound which entry to its first cell.
        binds: list[tuple[float, object]] = []
        bind = grid._bind

        def timed_bind() -> None:
            bind()
            if grid.cells:
                binds.append((time.perf_counter(), grid.cells[0].entry))

        grid._bind = timed_bind

        async def painted(token: int) -> float:
            """When the first frame showing the newest results left for the terminal."""
            while True:
                source = grid.source
                if screen.painted_token == token and grid.count is not None:
                    # By path: the index preview and the exact ranking carry the same first
                    # image (their scores may differ in the last bits).
                    first = source.page(0, 1)[0].path if grid.count else None
                    shown = [
                        t
                        for t, entry in binds
                        if t >= start and (entry.path if entry else None) == first
                    ]
                    if shown:
                        bound = shown[0]
                        break
                await asyncio.sleep(0.001)
            while not frames or frames[-1] < bound:
                await asyncio.sleep(0.001)
            return next(f for f in frames if f >= bound)

        box = screen.query_one("#query")
        for query in queries(reps):
            box.focus()
            box.value = ""
            await pilot.press(*query)  # typed key by key, as a user types
            await asyncio.sleep(PAUSE_BEFORE_ENTER)
            start = time.perf_counter()
            await pilot.press("enter")
            search_times.append(await painted(screen._token) - start)
            await pilot.pause()  # let the focus move to the results before the next query
            if DEBUG:
                print(
                    f"  search {query!r}: ready {screen.last_seconds * 1000:.0f} ms, "
                    f"painted {search_times[-1] * 1000:.0f} ms"
                )
        mp = screen.query_one("#min_mp")
        for i in range(reps):
            mp.focus()
            mp.value = str(0.5 + (i % 5))
            await pilot.pause()
            start = time.perf_counter()
            await pilot.press("enter")
            filter_times.append(await painted(screen._token) - start)
            await pilot.pause()
    return search_times, filter_times


def summary(label: str, samples: list[float], baseline: list[float]) -> str:
    p50 = statistics.median(samples) * 1000
    worst = max(samples) * 1000
    b50 = statistics.median(baseline) * 1000
    return (
        f"{label:<34} p50 {p50:7.1f} ms  max {worst:7.1f} ms   "
        f"bare core p50 {b50:7.1f} ms   ratio {p50 / b50:4.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--debug", action="store_true", help="print each search's split")
    args = parser.parse_args()
    global DEBUG
    DEBUG = args.debug
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        t0 = time.perf_counter()
        library = build(state, args.n)
        print(f"catalogue: {args.n:,} images, tiny-clip vectors ({time.perf_counter() - t0:.0f} s)")
        library.semantic.embedder()  # the model warm, as in a running app
        library.views.text_vector("warm up")
        core_s = [core_search(library, q + " ") for q in queries(args.reps)]
        core_p = [core_preview(library, q + "  ") for q in queries(args.reps)]
        core_f = [
            core_filter(library, queries(args.reps)[0], 0.5 + (i % 5)) for i in range(args.reps)
        ]
        search, filtered = asyncio.run(ui_timings(library, library.settings, args.reps))
        print(summary("Enter -> painted first page", search, core_p))
        print(
            f"{'':34} (bare core, exact count + first page: p50 "
            f"{statistics.median(core_s) * 1000:.1f} ms)"
        )
        print(summary("filter change -> repainted grid", filtered, core_f))
        library.close()


if __name__ == "__main__":
    main()
