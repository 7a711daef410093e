"""Bytes the app sends over the link, and how fast keys get an answer on a slow one.

The real app (`python -m anagnorisis_tui`) runs on a pseudo-terminal of 160x48 cells (10x20
pixel cells) on a library of 300 photo-like 640x480 JPEGs with warm thumbnails, behind
tests/support/ptylink.py: a relay with a byte rate, a one-way delay and a 256 kB send buffer.
For each graphics protocol it counts the bytes of the first screen, of each page flip (PageDown)
of each flip back to a page already seen (PageUp) and of each viewer image (Enter, then `l`
three times), and the time from a key leaving the far end to its answer arriving there: to
the first byte ("first byte") and to the first byte that changes a cell ("first change":
printable text or a sixel picture, not an escape sequence such as kitty's picture data; see
tests/support/ptylink.py `Visible`). Baseline in the same run: the same protocol unthrottled,
and `--compare` runs the same flow with pictures at the other quality setting. With `auto`
quality it says after which key the app switched to `low` (its "Slow link" notice).

    nice python bench/bench_link.py [--graphics sixel,kitty,halfcell] [--links none,10:50,2:150]
                                    [--quality auto] [--flips 6]

`--paced S` runs a second flow instead: `--flips` PageDowns typed S seconds apart (faster than
a slow link takes a page of pictures), then nothing until the link is quiet. It prints the
bytes sent from the first flip on and the time from the last flip until the last byte arrived
(the last page complete), beside the same flips each waiting for quiet (pages all seen whole).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.photo_library import library  # noqa: E402
from tests.support.ptylink import Link, PtyApp  # noqa: E402

PAGE_DOWN = b"\x1b[6~"
PAGE_UP = b"\x1b[5~"
NOTICE = b"Slow link"  # the app's notice when auto quality goes low


def keys_of(flips: int) -> list[tuple[bytes, str]]:
    """The flow's keys and what each measures: flips, flips back, viewer images."""
    keys = [(PAGE_DOWN, "flip")] * flips + [(PAGE_UP, "back")] * 2
    return keys + [(b"\r", "view"), (b"l", "view"), (b"l", "view"), (b"l", "view")]


def run_flow(
    root: Path, env: dict[str, str], graphics: str, link: Link, flips: int, quality: str
) -> dict[str, list[float]]:
    app = PtyApp(
        [str(root), "--graphics", graphics],
        {**env, "ANAGNORISIS_PICTURES": quality},
        link=link,
    )
    app.watch(NOTICE)
    app.start()
    out: dict[str, list[float]] = {
        "first": [],
        "flip": [],
        "back": [],
        "view": [],
        "first_byte": [],
        "first_change": [],
        "low_after": [],
    }
    try:
        app.pump_until_quiet(quiet=3.0, timeout=180, seen=b"photo0000", pictures=1)
        out["first"].append(app.produced)
        keys = keys_of(flips)
        for n, (key, kind) in enumerate(keys):
            if not out["low_after"] and app.watched[NOTICE] >= 0:
                out["low_after"].append(n)
            before = app.produced
            response = app.send(key)
            app.pump_until_quiet(quiet=2.5, timeout=60, after=response)
            out[kind].append(app.produced - before)
            if response.first_s is not None:
                out["first_byte"].append(response.first_s)
            if response.changed_s is not None:
                out["first_change"].append(response.changed_s)
                out[f"change_{kind}"] = [*out.get(f"change_{kind}", []), response.changed_s]
        if not out["low_after"] and app.watched[NOTICE] >= 0:
            out["low_after"].append(len(keys))
        out["backlog"] = [app.max_backlog]
        app.send(b"q")
        app.wait_exit(30)
    finally:
        app.kill()
    return out


def run_paced(
    root: Path,
    env: dict[str, str],
    graphics: str,
    link: Link,
    flips: int,
    quality: str,
    pace: float | None,
) -> dict[str, float]:
    """`flips` PageDowns `pace` s apart (None: each once the link is quiet), then quiet."""
    app = PtyApp(
        [str(root), "--graphics", graphics],
        {**env, "ANAGNORISIS_PICTURES": quality},
        link=link,
    )
    app.start()
    try:
        app.pump_until_quiet(quiet=3.0, timeout=180, seen=b"photo0000", pictures=1)
        before = app.produced
        last = None
        for _ in range(flips):
            last = app.send(PAGE_DOWN)
            if pace is None:
                app.pump_until_quiet(quiet=2.5, timeout=120, after=last)
            else:
                app.pump(pace)
        app.pump_until_quiet(quiet=3.0, timeout=180, after=last)
        assert last is not None
        out = {
            "bytes": app.produced - before,
            "settled": app.last_output_at - last.sent_at,
            "first_change": last.changed_s or float("nan"),
        }
        app.send(b"q")
        app.wait_exit(30)
    finally:
        app.kill()
    return out


def parse_link(text: str) -> tuple[str, Link]:
    if text == "none":
        return "unthrottled", Link()
    mbit, delay = text.split(":")
    return f"{mbit} Mbit/s {delay} ms", Link.mbit(float(mbit), float(delay))


def kb(values: list[float]) -> str:
    if not values:
        return "-"
    med = statistics.median(values) / 1000
    return f"{med:8.1f} kB (min {min(values) / 1000:.1f}, max {max(values) / 1000:.1f})"


def ms(values: list[float]) -> str:
    if not values:
        return "-"
    return (
        f"median {statistics.median(values) * 1000:6.0f} ms  max {max(values) * 1000:6.0f} ms"
        f"  ({len(values)} keys)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--graphics", default="sixel,kitty,halfcell")
    parser.add_argument("--links", default="none")
    parser.add_argument("--quality", default="high")
    parser.add_argument("--compare", default="", help="also run with this picture quality")
    parser.add_argument("--flips", type=int, default=6)
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--dir", default="")
    parser.add_argument("--paced", type=float, default=0.0, help="flips this many s apart")
    args = parser.parse_args()
    base = Path(args.dir or tempfile.mkdtemp(prefix="bench-link-"))
    root, env = library(base, args.images)
    print(f"load: {os.getloadavg()[0]:.1f}  library: {args.images} photos at {base}")
    qualities = [args.quality] + ([args.compare] if args.compare else [])
    if args.paced:
        for graphics in args.graphics.split(","):
            for label, link in map(parse_link, args.links.split(",")):
                for quality in qualities:
                    print(f"\n{graphics:8s} {label:18s} quality={quality}, {args.flips} flips")
                    for name, pace in (
                        ("each when quiet", None),
                        (f"{args.paced} s apart", args.paced),
                    ):
                        r = run_paced(root, env, graphics, link, args.flips, quality, pace)
                        print(
                            f"  {name:16s} {r['bytes'] / 1000:8.0f} kB sent, last flip: first "
                            f"change {r['first_change'] * 1000:5.0f} ms, complete "
                            f"{r['settled']:5.2f} s"
                        )
        return
    for graphics in args.graphics.split(","):
        for label, link in map(parse_link, args.links.split(",")):
            for quality in qualities:
                result = run_flow(root, env, graphics, link, args.flips, quality)
                print(f"\n{graphics:8s} {label:18s} quality={quality}")
                print(f"  first screen      {kb(result['first'])}")
                print(f"  page flip         {kb(result['flip'])}")
                print(f"  flip back         {kb(result['back'])}")
                print(f"  viewer image      {kb(result['view'])}")
                print(f"  key->first byte   {ms(result['first_byte'])}")
                print(f"  key->first change {ms(result['first_change'])}")
                print(
                    "    of which medians: "
                    + ", ".join(
                        f"{kind} {statistics.median(result[f'change_{kind}']) * 1000:.0f} ms"
                        for kind in ("flip", "back", "view")
                        if result.get(f"change_{kind}")
                    )
                )
                if quality == "auto":
                    low = result["low_after"]
                    said = "high" if not low else f"low from key {low[0] + 1}" if low[0] else "low"
                    print(f"  auto quality      {said} (of {len(keys_of(args.flips))} keys)")
                print(f"  most queued in the link {result['backlog'][0] / 1000:.0f} kB")


if __name__ == "__main__":
    main()
