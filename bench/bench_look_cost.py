"""The second look's CPU a pair (moments.compare), this tree beside an earlier revision's
moments.py, in the same process, on the planted copies of bench_groups_scale.py's 100k set (its
256-pixel thumbnails), alternating blocks of 50 pairs; and whether the two decide alike.

    python bench/bench_groups_scale.py --n 100000 --methods phash/look  # makes the thumbnails
    python bench/bench_look_cost.py --pairs 400 --baseline 4125105
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from PIL import Image

    from anagnorisis_tui.core.catalogue import thumbnails
    from anagnorisis_tui.core.duplicates import moments as new

    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=400)
    parser.add_argument("--baseline", default="4125105", help="git revision of the baseline")
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    source = subprocess.run(
        ["git", "show", f"{args.baseline}:anagnorisis_tui/core/duplicates/moments.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "baseline_moments.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location("baseline_moments", path)
        assert spec is not None and spec.loader is not None
        old = importlib.util.module_from_spec(spec)
        sys.modules["baseline_moments"] = old
        spec.loader.exec_module(old)
    db = ROOT / "bench" / "out" / f"groups-{args.n}.db"
    cache = db.with_suffix(".thumbs")
    original = np.load(db.with_suffix(".truth.npy"))
    first: dict[int, int] = {}
    pairs = []
    for i, o in enumerate(original.tolist()):
        if o in first and thumbnails.cached(cache, f"h{i:07d}"):
            pairs.append((first[o], i))
        first.setdefault(o, i)
    pairs = pairs[: args.pairs]

    def load(i: int) -> Image.Image:
        with Image.open(thumbnails.cached(cache, f"h{i:07d}")) as image:  # type: ignore[arg-type]
            return image.convert("RGB")

    images = [(load(a), load(b)) for a, b in pairs]
    spent = {"baseline": 0.0, "this tree": 0.0}
    alike = 0
    for k in range(0, len(images), 50):
        block = images[k : k + 50]
        runs = [("baseline", old), ("this tree", new)]
        found = {}
        for name, module in runs if (k // 50) % 2 == 0 else runs[::-1]:
            start = time.process_time()
            found[name] = [module.compare(a, b) for a, b in block]
            spent[name] += time.process_time() - start
        alike += sum(
            (x.copy, x.scene, x.why) == (y.copy, y.scene, y.why)
            for x, y in zip(found["baseline"], found["this tree"], strict=True)
        )
    n = len(images)
    print(
        f"{n} planted pairs, CPU a pair: baseline ({args.baseline}) "
        f"{spent['baseline'] / n * 1000:.2f} ms, this tree {spent['this tree'] / n * 1000:.2f} ms: "
        f"{spent['baseline'] / spent['this tree']:.2f}x less; same decisions {alike}/{n} "
        f"(load {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
