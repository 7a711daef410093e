"""Terminal app: time to first paint and memory on a 100,000-image catalogue.

Starts the real app (the same path as `anagnorisis-tui`: CLI import, graphics detection,
make_app) in a fresh process, headless, on a synthetic 100,000-row catalogue, and reports:
  1. time from process start to the first frame with the grid's first page (names) drawn, and
     to every visible thumbnail drawn (warm thumbnail cache);
  2. resident memory (RSS and peak) at that point, and whether torch was imported;
beside the same figures for a bare Textual app (one Static) started the same way: the floor
that Python + Textual alone cost on this machine.

    nice python bench/bench_ui_paint.py [--images 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def _memory() -> tuple[int, int]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) // 1024, int(fields["VmHWM"].split()[0]) // 1024


def child_app(data_dir: str) -> None:
    from ui_catalogue import ROOT

    from anagnorisis_tui.cli import main as _cli_main  # noqa: F401 - the CLI's import cost
    from anagnorisis_tui.core.base.config import load_settings
    from anagnorisis_tui.ui.app import AnagnorisisApp
    from anagnorisis_tui.ui.graphics import image_widget_class
    from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid

    settings = load_settings(data_dir=data_dir, config_file=Path(data_dir) / "config.toml")
    image_class = image_widget_class(settings.graphics)
    marks: dict[str, float] = {}

    class Bench(AnagnorisisApp):
        def on_mount(self) -> None:
            self.set_interval(0.002, self._check)

        def _check(self) -> None:
            grid = (
                self.screen.query(ThumbnailGrid).first()
                if self.screen.query(ThumbnailGrid)
                else None
            )
            if grid is None or not grid.cells:
                return
            if "names" not in marks and grid.cells[0].entry is not None:
                self.call_after_refresh(lambda: marks.setdefault("names", time.time()))
            if "names" in marks and all(c.shown_image is not None for c in grid.cells if c.entry):
                self.call_after_refresh(self._done)

        def _done(self) -> None:
            if "thumbs" in marks:
                return
            marks["thumbs"] = time.time()
            rss, hwm = _memory()
            print(
                json.dumps(
                    {
                        "names": marks["names"],
                        "thumbs": marks["thumbs"],
                        "rss": rss,
                        "hwm": hwm,
                        "torch": "torch" in sys.modules,
                        "open_clip": "open_clip" in sys.modules,
                        "cells": len(self.screen.query(ThumbnailGrid).first().cells),
                    }
                ),
                flush=True,
            )
            self.exit()

    app = Bench(
        settings,
        _library(settings),
        image_class=image_class,
        root=ROOT,
        scan_on_start=False,
        embed_after_scan=False,
    )
    app.run(headless=True, size=(160, 50))


def _library(settings):
    from anagnorisis_tui.core.library import Library

    return Library(settings)


def child_bare() -> None:
    from textual.app import App
    from textual.widgets import Static

    class Bare(App):
        def compose(self):
            yield Static("hello")

        def on_mount(self) -> None:
            self.call_after_refresh(self._done)

        def _done(self) -> None:
            rss, hwm = _memory()
            now = time.time()
            print(
                json.dumps(
                    {
                        "names": now,
                        "thumbs": now,
                        "rss": rss,
                        "hwm": hwm,
                        "torch": "torch" in sys.modules,
                    }
                ),
                flush=True,
            )
            self.exit()

    Bare().run(headless=True, size=(160, 50))


def run_child(args: list[str]) -> dict:
    start = time.time()
    out = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["names"] -= start
    result["thumbs"] -= start
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", choices=["app", "bare"])
    parser.add_argument("--data")
    args = parser.parse_args()
    if args.child == "app":
        child_app(args.data)
        return 0
    if args.child == "bare":
        child_bare()
        return 0

    import ui_catalogue

    data = Path(tempfile.gettempdir()) / f"anagnorisis-bench-ui-{args.images}"
    t = time.perf_counter()
    ui_catalogue.build(data, args.images)
    ui_catalogue.warm_thumbnails(data, 0, 200)
    print(f"catalogue: {args.images:,} rows ready in {time.perf_counter() - t:.1f} s ({data})")

    apps = [run_child(["--child", "app", "--data", str(data)]) for _ in range(args.runs)]
    bares = [run_child(["--child", "bare"]) for _ in range(args.runs)]
    med = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
    print(
        f"\nmedian of {args.runs} fresh processes, headless 160x50 "
        f"({apps[0]['cells']} grid cells on screen)"
    )
    print(f"{'':34}{'app':>10}{'bare Textual':>15}{'ratio':>8}")
    for label, key, unit in (
        ("first paint, grid names drawn", "names", "s"),
        ("first paint, all thumbnails drawn", "thumbs", "s"),
        ("resident memory (RSS)", "rss", "MB"),
        ("peak resident memory", "hwm", "MB"),
    ):
        a, b = med(apps, key), med(bares, key)
        digits = 3 if unit == "s" else 0
        shown_a, shown_b = f"{a:.{digits}f} {unit}", f"{b:.{digits}f} {unit}"
        print(f"{label:34}{shown_a:>10}{shown_b:>15}{a / b:>7.2f}x")
    print(f"torch imported before any model is loaded: {any(r['torch'] for r in apps)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
