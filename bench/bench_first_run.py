#!/usr/bin/env python
"""First-run peak memory and time of the default model on a CPU: this app vs rclip, same run.

    nice python bench/bench_first_run.py --rclip /path/to/rclip-venv/bin/rclip --rounds 2

One seeded random ViT-B-32-256 (bench/rclip_models.py) is served by a local hub speaking the
hub's file protocol and JSON API: its weights under open_clip's repo for the default tag, its
fp32 graphs (made as rclip's scripts/convert_model.py makes them) under rclip's models repo.
Each row is a new process in a fresh hub cache and data dir, rounds alternating:
  ready graphs  - this app's first use: download the graphs, check, quantise, publish (no torch)
  torch export  - this app as before: download the weights, load them in torch, export, check,
                  quantise (the hub's graphs hidden from it)
  rclip         - rclip's first run (`rclip -n QUERY` in an empty folder: download, load, search)
Peak memory is the process's maximum RSS (wait4).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import rclip_models  # noqa: E402

CHILD = """
import json, sys, time
start = time.perf_counter()
from anagnorisis_tui.core.semantic import model_choice, onnx_engine, onnx_ready
if sys.argv[2] == "torch":
    onnx_ready.READY.clear()
choice = model_choice.resolve("ViT-B-32-256", "datacomp_s34b_b86k", "cpu")
emb = onnx_engine.load_engine(choice, sys.argv[1], cache_dir=sys.argv[1] + "/models")
emb.encode_texts(["a dog on a beach"])
print(json.dumps({"engine": emb.engine, "source": emb.spec.get("source", "torch export"),
                  "seconds": time.perf_counter() - start, "torch": "torch" in sys.modules}))
"""


def measure(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    out = (proc.stdout.read() if proc.stdout else b"").decode(errors="replace")
    err = (proc.stderr.read() if proc.stderr else b"").decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[0]} failed: {err[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, out.strip().splitlines()[-1] if out.strip() else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rclip", default="", help="rclip's executable (its own venv)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--models", type=Path, default=None, help="keep the made files here")
    args = parser.parse_args()
    print(f"load {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-first-run-") as tmp_name:
        tmp = Path(tmp_name)
        models = args.models or tmp / "models"
        rclip_models.make(models)
        rows: dict[str, list[tuple[float, float]]] = {}
        with rclip_models.serve(models) as hub:
            n = 0
            for _ in range(args.rounds):
                cases = [("ready graphs", "ready"), ("torch export", "torch")]
                if args.rclip:
                    cases.append(("rclip", "rclip"))
                for label, case in cases:
                    n += 1
                    run = tmp / f"run-{n}"
                    (run / "empty").mkdir(parents=True)
                    env = {
                        **os.environ,
                        "HF_ENDPOINT": hub.endpoint,
                        "HF_HOME": str(run / "hf"),
                        "NO_PROXY": "127.0.0.1",
                        "PYTHONPATH": str(ROOT),
                        "RCLIP_DATADIR": str(run / "rclip"),
                    }
                    if case == "rclip":
                        cmd = [args.rclip, "-n", "a dog on a beach"]
                    else:
                        cmd = [sys.executable, "-c", CHILD, str(run / "data"), case]
                    seconds, peak, last = measure(cmd, env, run / "empty")
                    rows.setdefault(label, []).append((seconds, peak))
                    print(
                        f"  {label:<13} {seconds:6.1f} s  peak {peak:6.0f} MB  {last}", flush=True
                    )
    print(f"load {os.getloadavg()[0]:.1f} (1 min)")
    for label, runs in rows.items():
        secs = statistics.median(s for s, _ in runs)
        peak = statistics.median(p for _, p in runs)
        print(f"{label:<13} median {secs:6.1f} s, peak {peak:6.0f} MB ({len(runs)} runs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
