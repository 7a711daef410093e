"""Terminal app: a page flip of a full thumbnail grid, warm thumbnail cache, 100k rows.

Drives the real app headless (App.run_test, 160x50, halfcell renderer so images are really
rendered to cells) on a synthetic 100,000-row catalogue whose on-screen thumbnails are cached
on disk, and times PageDown until every cell shows its new image, at the top of the catalogue
and at the bottom (deep OFFSET). Baseline in the same run: the same flips done the way a grid
with one widget per image works, removing the screenful of cells and mounting new ones.

Two clocks per flip: "painted" stops when Textual composes the first frame that shows every new
picture (what the user waits for); "idle" stops when Pilot next finds the app idle, which also
counts Pilot's own 20 ms sleeps and any read-ahead the grid starts after painting.

    nice python bench/bench_ui_pageflip.py [--images 100000] [--flips 8]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import ui_catalogue  # noqa: E402


class FrameProbe:
    """Notes when the first frame composed after `arm(done)` finds `done()` true."""

    def __init__(self) -> None:
        from textual._compositor import Compositor

        self.done = None
        self.at: float | None = None
        original = Compositor.render_update
        probe = self

        def render_update(compositor, *args, **kwargs):
            update = original(compositor, *args, **kwargs)
            if probe.done is not None and probe.done():
                probe.at, probe.done = time.perf_counter(), None
            return update

        Compositor.render_update = render_update

    def arm(self, done) -> None:
        self.done, self.at = done, None


async def _until(pilot, done) -> None:
    while not done():
        await pilot.pause()


def _all_drawn(grid, first_index: int):
    def done() -> bool:
        cells = [c for c in grid.cells if c.index is not None]
        return (
            bool(cells)
            and cells[0].index == first_index
            and all(c.entry is not None and c.shown_image is not None for c in cells)
        )

    return done


async def run(data: Path, flips: int) -> dict[str, list[float]]:
    from anagnorisis_tui.core.base.config import load_settings
    from anagnorisis_tui.core.library import Library
    from anagnorisis_tui.ui.app import make_app
    from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import GridCell, ThumbnailGrid

    settings = load_settings(data_dir=data, config_file=data / "config.toml")
    library = Library(settings)
    app = make_app(
        settings,
        library=library,
        graphics="halfcell",
        root=ui_catalogue.ROOT,
        scan_on_start=False,
        embed_after_scan=False,
    )
    times: dict[str, list[float]] = {
        "top": [],
        "bottom": [],
        "top_painted": [],
        "bottom_painted": [],
        "remount": [],
        "remount_painted": [],
        "move": [],
    }
    probe = FrameProbe()
    async with app.run_test(size=(160, 50)) as pilot:
        grid = app.screen.query_one(ThumbnailGrid)
        await _until(pilot, _all_drawn(grid, 0))
        per_page = grid.columns * grid.visible_rows
        for label, start in (("top", 0), ("bottom", grid.count - per_page * (flips + 2))):
            grid.go_to(start)
            first = grid.top_index
            await _until(pilot, _all_drawn(grid, first))
            for _ in range(flips):
                first += per_page
                probe.arm(_all_drawn(grid, first))
                t = time.perf_counter()
                await pilot.press("pagedown")
                await _until(pilot, _all_drawn(grid, first))
                times[label].append(time.perf_counter() - t)
                if probe.at is not None:
                    times[f"{label}_painted"].append(probe.at - t)
        # Floor: one repaint of the same screen (cursor moves one cell, no new images).
        for step in range(flips):
            t = time.perf_counter()
            await pilot.press("right" if step % 2 == 0 else "left")
            cursor = grid.cursor
            await _until(
                pilot,
                lambda c=cursor: any(x.index == c and x.has_class("-cursor") for x in grid.cells),
            )
            times["move"].append(time.perf_counter() - t)
        # Baseline: a new widget per image for every page (what recycling avoids).
        container = grid.query_one("#cells")
        store = app.thumbnails
        offset = 0
        for _ in range(flips):
            cells = []
            probe.arm(
                lambda cells=cells: len(cells) == per_page and all(c.is_mounted for c in cells)
            )
            t = time.perf_counter()
            entries = library.views.page(grid.source.spec, offset, per_page)
            await container.remove_children()
            for slot, entry in enumerate(entries):
                cell = GridCell(app.image_class, slot)
                cell.bind(offset + slot, entry, store.get(entry.hash, entry.os_path))
                cells.append(cell)
            await container.mount_all(cells)
            await pilot.pause()
            times["remount"].append(time.perf_counter() - t)
            if probe.at is not None:
                times["remount_painted"].append(probe.at - t)
            offset += per_page
        times["cells"] = [per_page]
    library.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--flips", type=int, default=8)
    args = parser.parse_args()
    data = Path(tempfile.gettempdir()) / f"anagnorisis-bench-ui-{args.images}"
    ui_catalogue.build(data, args.images)
    span = 60 * (args.flips + 4)
    ui_catalogue.warm_thumbnails(data, 0, span)
    ui_catalogue.warm_thumbnails(data, args.images - span, span)
    times = asyncio.run(run(data, args.flips))
    cells = times.pop("cells")[0]
    print(
        f"{args.images:,}-row catalogue, {cells} cells on screen (160x50, halfcell), "
        f"{args.flips} flips each, warm thumbnail cache on disk"
    )
    print(f"{'':50}{'median':>9}{'max':>9}")
    rows = (
        ("PageDown to painted frame, top of catalogue", "top_painted"),
        ("PageDown to painted frame, last pages", "bottom_painted"),
        ("PageDown to idle, recycled cells, top of catalogue", "top"),
        ("PageDown to idle, recycled cells, last pages", "bottom"),
        ("baseline: new widgets per page, painted frame", "remount_painted"),
        ("baseline: new widgets per page, to idle", "remount"),
        ("floor: cursor moves one cell (one repaint)", "move"),
    )
    for label, key in rows:
        values = times[key]
        if not values:
            print(f"{label:50}{'n/a':>9}")
            continue
        print(f"{label:50}{statistics.median(values) * 1000:>7.0f}ms{max(values) * 1000:>7.0f}ms")
    ratio = statistics.median(times["remount"]) / statistics.median(times["top"])
    print(f"to idle: recycling is {ratio:.1f}x faster than remounting per page (median)")
    if times["remount_painted"] and times["top_painted"]:
        ratio = statistics.median(times["remount_painted"]) / statistics.median(
            times["top_painted"]
        )
        print(f"painted: recycling is {ratio:.1f}x faster than remounting per page (median)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
