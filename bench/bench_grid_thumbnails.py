#!/usr/bin/env python
"""A view's missing grid thumbnails: made in the app's process (as before) vs by one child
process per view (as the app does now, so it never decodes an original), same files, same run.

For --images 12 MP JPEGs with no cached thumbnail (content the ingest pass has not reached),
`ThumbnailStore.get_many` delivers every thumbnail of one view; timed to the first delivered
and to the last. The child is started as the app starts it (core/work/runner.py, task
`thumbnails`); rounds alternate the two, each on an empty cache. Also the app process's peak
RSS growth over the in-process rounds, which the child keeps out of it.

    python bench/bench_grid_thumbnails.py --photos /tmp/bench-12mp --images 20 --rounds 3
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from anagnorisis_tui.core.base.config import load_settings  # noqa: E402
from anagnorisis_tui.core.catalogue import thumbnails  # noqa: E402
from anagnorisis_tui.core.work.runner import ChildTask, TaskFailed  # noqa: E402


def child_maker(settings):
    def make(items, size, made) -> None:
        try:
            ChildTask("thumbnails", settings, {"items": items, "size": size}).run(
                on_event=lambda m: made(m["hash"], m["error"])
            )
        except TaskFailed as exc:
            raise thumbnails.ThumbnailError(str(exc)) from None

    return make


def one_view(cache: Path, items, maker) -> tuple[float, float, int]:
    shutil.rmtree(cache, ignore_errors=True)
    store = thumbnails.ThumbnailStore(cache, maker=maker)
    times: list[float] = []
    start = time.perf_counter()
    store.get_many(items, lambda h, image, error: times.append(time.perf_counter() - start))
    assert len(times) == len(items)
    return times[0], times[-1], len(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, default=Path(tempfile.gettempdir()) / "bench-12mp")
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    paths = sorted(args.photos.glob("IMG_*.jpg"))[: args.images]
    if len(paths) < args.images:
        raise SystemExit(f"{args.photos}: make the photos first (bench/bench_ingest.py)")
    for p in paths:
        p.read_bytes()
    items = [(f"{i:032x}", str(p)) for i, p in enumerate(paths)]
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    with tempfile.TemporaryDirectory(prefix="bench-grid-thumbs-") as tmp:
        settings = load_settings(data_dir=Path(tmp) / "data", config_file=Path(tmp) / "c.toml")
        cache = thumbnails.cache_dir(settings.data_dir)
        here, child = [], []
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for _ in range(args.rounds):
            here.append(one_view(cache, items, None))
            child.append(one_view(cache, items, child_maker(settings)))
        rss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    print(f"{len(items)} 12 MP JPEGs without a cached thumbnail, one view, median of {args.rounds}")
    print(f"{'':34}{'first':>8}{'all':>8}")
    for name, got in (("in the app process (before)", here), ("one child process (now)", child)):
        first = statistics.median(g[0] for g in got)
        last = statistics.median(g[1] for g in got)
        print(f"{name:34}{first:>7.2f}s{last:>7.2f}s")
    print(f"app process peak RSS growth over the rounds: {rss_growth:.0f} MB")
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
