"""The app over a real SSH connection at 2 and 10 Mbit/s (+40 ms each way), sixel at `auto`.

An sshd on the loopback behind a throttled relay (tests/support/sshlink.py); the ssh client
runs on a pty that answers as xterm (VT340, sixel) would (tests/support/ptylink.py). On a
library of photo-like JPEGs with warm thumbnails, 120x40 cells of 10x20 pixels, it measures:

- the first screen: bytes, and whether `auto` said "Slow link" by its end (flip 0),
- each of `--flips` PageDowns, each once the link is quiet: bytes sent, key to the first
  changed cell, key to the last byte (the last picture drawn), and after which flip `auto`
  switched ("-": never),
- `q` typed once a PageDown's first picture begins to arrive (the rest on their way): time to
  the shell's turn (a marker the remote shell prints after the app exits) and the bytes that
  arrived meanwhile; and the most bytes ever queued in the link (the relay holds up to 256 kB
  before TCP and SSH's 2 MB channel window hold the rest).

Baseline in the same run: the same flow over the same sshd with no throttle (`none`).

    nice python bench/bench_ssh.py [--links none,10:40,2:40] [--flips 4] [--repeat 2]
                                   [--library DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.photo_library import library  # noqa: E402
from tests.support.ptylink import XTERM_SIXEL, Link, PtyApp  # noqa: E402
from tests.support.sshlink import EXIT_MARK, SshLink  # noqa: E402

PAGE_DOWN = b"\x1b[6~"
NOTICE = b"Slow link"


def run_once(
    root: Path, env: dict[str, str], folder: Path, mbit: float | None, delay_ms: float, flips: int
) -> dict[str, object]:
    with SshLink(folder, mbit, delay_ms) as link:
        app = PtyApp(
            [],
            env,
            size=(120, 40),
            link=Link(),
            answers=XTERM_SIXEL,
            command=link.command([str(root), "--graphics", "sixel"], env),
        )
        app.watch(NOTICE)
        app.watch(EXIT_MARK.encode())
        start = time.monotonic()
        app.start()
        try:
            app.pump_until_quiet(quiet=2.5, timeout=120, seen=b"photo0000", pictures=1)
            out: dict[str, object] = {
                "first_bytes": app.produced,
                "first_s": app.last_output_at - start,
                "switched": 0 if app.watched[NOTICE] >= 0 else None,
            }
            flip_bytes, changed, last = [], [], []
            for n in range(1, flips + 1):
                before = app.produced
                flip = app.send(PAGE_DOWN)
                app.pump_until_quiet(quiet=2.5, timeout=60, after=flip)
                flip_bytes.append(app.produced - before)
                if flip.changed_s is not None:
                    changed.append(flip.changed_s)
                last.append(app.last_output_at - flip.sent_at)
                if out["switched"] is None and app.watched[NOTICE] >= 0:
                    out["switched"] = n
            out.update(flip_bytes=flip_bytes, changed=changed, last=last)
            app.send(PAGE_DOWN)
            pictures = app.sixels
            deadline = time.monotonic() + 30
            while app.sixels < pictures + 1 and time.monotonic() < deadline:
                app.pump(0.005)  # until the next page's pictures are arriving
            before = app.delivered
            quit_key = app.send(b"q")
            deadline = time.monotonic() + 30
            while app.watched[EXIT_MARK.encode()] < 0 and time.monotonic() < deadline:
                app.pump(0.005)
            out["quit_s"] = (
                app.last_output_at - quit_key.sent_at
                if app.watched[EXIT_MARK.encode()] >= 0
                else None
            )
            out["quit_bytes"] = app.delivered - before
            assert link.relay is not None
            out["most_held"] = link.relay.most_held  # the link's backlog (its queue: 256 kB)
            app.wait_exit(10)
        finally:
            app.kill()
    return out


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", default="none,10:40,2:40")
    parser.add_argument("--flips", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--images", type=int, default=120)
    parser.add_argument("--library", help="make (or reuse) the photo library here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root, env = library(Path(args.library or Path(tmp) / "lib"), args.images)
        env = {**env, "ANAGNORISIS_PICTURES": "auto"}
        rows = []
        for spec in args.links.split(","):
            mbit, delay = (None, 0.0) if spec == "none" else map(float, spec.split(":"))
            name = "no throttle" if mbit is None else f"{mbit:g} Mbit/s +{delay:g} ms"
            for r in range(args.repeat):
                res = run_once(root, env, Path(tmp) / f"ssh-{spec}-{r}", mbit, delay, args.flips)
                rows.append((name, res))
                print(name, res, flush=True)
        summarise(rows)


def summarise(rows: list[tuple[str, dict[str, object]]]) -> None:
    """Per link, the median over its runs (q: median and worst), and each figure's ratio to
    the unthrottled link's in the same run (the baseline)."""
    links: dict[str, list[dict[str, object]]] = {}
    for name, res in rows:
        links.setdefault(name, []).append(res)

    def figures(runs: list[dict[str, object]]) -> dict[str, float]:
        quits = [r["quit_s"] for r in runs if r["quit_s"] is not None]
        return {
            "first": med([r["first_bytes"] / 1000 for r in runs]),  # type: ignore[operator]
            "flip": med([b / 1000 for r in runs for b in r["flip_bytes"]]),  # type: ignore[attr-defined]
            "cell": med([c * 1000 for r in runs for c in r["changed"]]),  # type: ignore[attr-defined]
            "last": med([c * 1000 for r in runs for c in r["last"]]),  # type: ignore[attr-defined]
            "quit": med([q * 1000 for q in quits]),  # type: ignore[operator]
            "quit_max": max([q * 1000 for q in quits], default=float("nan")),  # type: ignore[operator]
            "after_q": med([r["quit_bytes"] / 1000 for r in runs]),  # type: ignore[operator]
            "held": max(r["most_held"] / 1000 for r in runs),  # type: ignore[operator]
        }

    base = figures(links["no throttle"]) if "no throttle" in links else None
    print(
        f"\n{'link':20} {'1st screen':>10} {'kB/flip':>8} {'1st cell':>9} {'last pic':>9} "
        f"{'q->prompt (max)':>16} {'kB after q':>10} {'backlog':>8}  auto low at (each run)"
    )
    for name, runs in links.items():
        f = figures(runs)
        switched = [r["switched"] for r in runs]
        at = ", ".join(
            "never" if s is None else ("first screen" if s == 0 else f"flip {s}") for s in switched
        )
        print(
            f"{name:20} {f['first']:7.0f} kB {f['flip']:8.0f} {f['cell']:7.0f}ms "
            f"{f['last']:7.0f}ms {f['quit']:7.0f} ({f['quit_max']:4.0f}) ms "
            f"{f['after_q']:10.1f} {f['held']:6.0f}kB  {at}"
        )
        if base is not None and name != "no throttle":
            print(
                f"{'  x no throttle':20} {'':10} {f['flip'] / base['flip']:7.2f}x "
                f"{f['cell'] / base['cell']:7.2f}x  {f['last'] / base['last']:7.2f}x "
                f"{f['quit'] / base['quit']:9.2f}x"
            )


if __name__ == "__main__":
    main()
