#!/usr/bin/env python
"""Peak memory and time of the one-time ONNX export (a model's first use on a CPU), for the code
at --baseline beside this tree, same run, same weights file, alternating.

    nice python bench/bench_export_memory.py                      # ViT-B-32, baseline main
    python bench/bench_export_memory.py --model ViT-B-32-256 --runs 2 --baseline 3dac362

Each row is one new process that loads the model from a local weights file and makes the CPU
engine (`onnx_engine.load_engine`: torch load, export, checks, int8), into a fresh data dir.
`torch load only` is the floor: the same process with the engine forced to torch (the model
loaded, nothing exported). Peak memory is the process's maximum RSS; the stage lines this
tree reports (`prepare`) are counted to show the export tells the user where it is.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_embed_cold import baseline_tree  # noqa: E402
from bench.bench_engine import random_checkpoint  # noqa: E402

CHILD = """
import json, sys, time
from anagnorisis_tui.core.semantic import model_choice, onnx_engine
start = time.perf_counter()
stages = []
choice = model_choice.resolve(sys.argv[1], sys.argv[2], "cpu")
emb = onnx_engine.load_engine(choice, sys.argv[3], engine=sys.argv[4],
                              progress=lambda p: stages.append(p.stage))
print(json.dumps({"engine": emb.engine, "seconds": time.perf_counter() - start,
                  "prepare_reports": stages.count("prepare")}))
"""


def run_once(tree: Path, model: str, weights: Path, data: Path, engine: str) -> dict:
    cmd = [sys.executable, "-c", CHILD, model, str(weights), str(data), engine]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    proc = subprocess.Popen(cmd, env=env, cwd=tree, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read() if proc.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the export failed ({status}) in {tree}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_mb"] = usage.ru_maxrss / 1024
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="ViT-B-32")
    parser.add_argument("--runs", type=int, default=1, help="runs per row (median reported)")
    parser.add_argument("--baseline", default="main", help="git revision of `before`")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp_name:
        tmp = Path(tmp_name)
        before = baseline_tree(args.baseline, tmp / "before")
        weights = tmp / f"{args.model}-random" / "open_clip_model.safetensors"
        weights.parent.mkdir()
        random_checkpoint(args.model, weights)
        cases = {
            "torch load only": (ROOT, "torch"),
            f"before ({args.baseline})": (before, "auto"),
            "after (this tree)": (ROOT, "auto"),
        }
        rows: dict[str, list[dict]] = {case: [] for case in cases}
        n = 0
        for _ in range(args.runs):  # rounds alternate: the load drifts
            for case, (tree, engine) in cases.items():
                n += 1
                data = tmp / f"data-{n}"
                rows[case].append(run_once(tree, args.model, weights, data, engine))
        print(
            f"{args.model}, random weights, a fresh data dir per run; median of {args.runs}; "
            f"load {os.getloadavg()[0]:.1f} at the end ({time.strftime('%H:%M UTC', time.gmtime())})"
        )
        print(f"{'case':<22} {'engine':<10} {'seconds':>8} {'peak RSS':>9} {'stage reports':>14}")
        floor = None
        for case, results in rows.items():
            results.sort(key=lambda r: r["peak_mb"])
            r = results[len(results) // 2]
            floor = floor or r["peak_mb"]
            print(
                f"{case:<22} {r['engine']:<10} {r['seconds']:>7.1f}s {r['peak_mb']:>6.0f} MB "
                f"{r['prepare_reports']:>14}   (+{r['peak_mb'] - floor:,.0f} MB over the load)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
