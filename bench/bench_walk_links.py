#!/usr/bin/env python
"""What keeping the walk inside the library costs: the walk with its link check (links whose
target is outside every root are resolved and skipped) beside the same walk told to follow
every link (no check), same tree, same run, best of several.

The tree: FILES small files in 100 folders, one file link in every tenth folder pointing to a
file inside the library, and 20 links (files and folders) pointing outside it. A plain file
costs the check nothing (scandir's d_type says it is not a link); only links are resolved.

    python bench/bench_walk_links.py                 # 50,000 files
    python bench/bench_walk_links.py --files 200000 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anagnorisis_tui.core.catalogue.walk import OUTSIDE, walk  # noqa: E402


def build(top: Path, files: int) -> Path:
    root, outside = top / "library", top / "elsewhere"
    outside.mkdir(parents=True)
    (outside / "secret.jpg").write_bytes(b"x")
    for f in range(100):
        folder = root / f"f{f:03d}"
        folder.mkdir(parents=True)
        for i in range(files // 100):
            (folder / f"p{i:05d}.jpg").write_bytes(b"x")
        if f % 10 == 0:
            os.symlink(root / "f000" / "p00000.jpg", folder / "alias.jpg")
        if f < 10:
            os.symlink(outside / "secret.jpg", folder / "out.jpg")
            os.symlink(outside, folder / "out-folder")
    return root


def timed(root: Path, follow: bool, repeat: int) -> tuple[float, int, int]:
    best, found, skipped = float("inf"), 0, 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        items = list(walk(str(root), follow_outside=follow))
        best = min(best, time.perf_counter() - t0)
        found = sum(1 for x in items if len(x) == 5)
        skipped = sum(1 for x in items if len(x) == 2 and x[1] == OUTSIDE)
    return best, found, skipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = build(Path(tmp), args.files)
        timed(root, True, 1)  # warm the dentry cache
        base = ours = float("inf")
        for _ in range(args.repeat):  # interleaved, so load changes hit both alike
            b, base_found, _ = timed(root, True, 1)
            o, found, skipped = timed(root, False, 1)
            base, ours = min(base, b), min(ours, o)
    print(f"tree: {args.files:,} files, 10 links inside, 20 links outside; best of {args.repeat}")
    print(
        f"walk following every link (no check), baseline: {base * 1000:8.1f} ms, {base_found:,} files"
    )
    print(
        f"walk kept inside the library (ours):            {ours * 1000:8.1f} ms, {found:,} files,"
        f" {skipped} links skipped"
    )
    print(f"ratio ours / baseline: {ours / base:.3f}")


if __name__ == "__main__":
    main()
