"""Quit latency: `q` at random moments of background work, to the terminal back and to exit.

The real app on a pty (tests/support/ptylink.py, unthrottled) opens a library of 300 photo-like
JPEGs with an empty catalogue, so it is scanning, reading and making thumbnails when `q` comes,
at a random moment 0.5-12 s after the first screen (seeded). Two times per quit: until the
terminal is given back (Textual's leave-alternate-screen sequence has arrived) and until the
process has exited. Baseline in the same run: `q` on the same library once its work is done.

    nice python bench/bench_quit.py [--runs 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.photo_library import photo  # noqa: E402
from tests.support.ptylink import PtyApp  # noqa: E402

LEAVE_ALT_SCREEN = b"\x1b[?1049l"


def one_quit(root: Path, data: Path, wait: float) -> tuple[float, float | None]:
    env = {
        "ANAGNORISIS_DATA_DIR": str(data),
        "ANAGNORISIS_CONFIG": str(data / "config.toml"),
        "ANAGNORISIS_PRETRAINED": str(data / "no-such-weights.safetensors"),
    }
    app = PtyApp([str(root), "--graphics", "halfcell"], env, size=(160, 48))
    app.start()
    try:
        app.pump_until_quiet(quiet=0.0, timeout=120, seen=b"Library")
        app.pump(wait)
        app.tail = b""
        sent = time.monotonic()
        app.send(b"q")
        restored = None
        while time.monotonic() - sent < 120:
            app.pump(0.005)
            if restored is None and LEAVE_ALT_SCREEN in app.tail:
                restored = time.monotonic() - sent
            if not app.alive():
                break
        exited = time.monotonic() - sent if not app.alive() else None
        return restored if restored is not None else float("nan"), exited
    finally:
        app.kill()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-quit-"))
    root = base / "Pictures"
    for i in range(args.images):
        photo(root / f"{i // 100:02d}" / f"photo{i:04d}.jpg", i)
    rng = random.Random(args.seed)
    print(f"load: {os.getloadavg()[0]:.1f}  {args.images} photos, empty catalogue each run")
    busy: list[tuple[float, float, float | None]] = []
    for run in range(args.runs):
        data = base / f"data-{run}"
        wait = rng.uniform(0.5, 12.0)
        restored, exited = one_quit(root, data, wait)
        busy.append((wait, restored, exited))
        shown = "did not exit" if exited is None else f"exit {exited * 1000:6.0f} ms"
        print(f"  q at {wait:5.1f} s: terminal back {restored * 1000:6.0f} ms, {shown}")
        shutil.rmtree(data, ignore_errors=True)
    # Baseline: the same library with its work finished (warm catalogue and thumbnails).
    warm = base / "data-warm"
    one_quit(root, warm, 60.0)
    idle = [one_quit(root, warm, 2.0) for _ in range(3)]
    backs = [r for _, r, _ in busy]
    exits = [e for _, _, e in busy if e is not None]
    print(f"load: {os.getloadavg()[0]:.1f}")
    print(
        f"busy ({len(busy)} quits): terminal back median {statistics.median(backs) * 1000:.0f} ms"
        f" max {max(backs) * 1000:.0f} ms; exit median {statistics.median(exits) * 1000:.0f} ms"
        f" max {max(exits) * 1000:.0f} ms; {len(busy) - len(exits)} did not exit in 120 s"
    )
    print(
        f"idle baseline ({len(idle)} quits): terminal back "
        f"{statistics.median(r for r, _ in idle) * 1000:.0f} ms, exit "
        f"{statistics.median(e for _, e in idle if e is not None) * 1000:.0f} ms"
    )
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
