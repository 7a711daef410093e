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
Peak memory is the process's maximum RSS (wait4). On Linux a process's ru_maxrss carries the
high-water mark of the memory it was exec'd from (subprocess spawns with vfork: this bench's,
which serves the graphs from memory), so each row runs under a small launcher that forks it
afresh and reports its wait4 figure; this app's rows print their own VmHWM as well.
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
hwm = next(int(l.split()[1]) // 1024 for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"engine": emb.engine, "source": emb.spec.get("source", "torch export"),
                  "seconds": round(time.perf_counter() - start, 1), "VmHWM_MB": hwm,
                  "torch": "torch" in sys.modules}))
"""


LAUNCH = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"\\nPEAK_KB {usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measure(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    start = time.perf_counter()
    launched = [sys.executable, "-c", LAUNCH, *cmd]
    out = subprocess.run(launched, env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed: {out.stderr[-2000:]}")
    peak_kb = int(out.stderr.rsplit("PEAK_KB ", 1)[1].split()[0])
    lines = out.stdout.strip().splitlines()
    return seconds, peak_kb / 1024, lines[-1] if lines else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rclip", default="", help="rclip's executable (its own venv)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--cases", nargs="+", default=["ready", "torch", "rclip"], help="rows to run, in order"
    )
    parser.add_argument("--models", type=Path, default=None, help="keep the made files here")
    args = parser.parse_args()
    print(f"load {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-first-run-") as tmp_name:
        tmp = Path(tmp_name)
        models = args.models or tmp / "models"
        # made in a child: torch in this process would raise every row's ru_maxrss to its size
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "rclip_models.py"), str(models)], check=True
        )
        rows: dict[str, list[tuple[float, float]]] = {}
        with rclip_models.serve(models) as hub:
            n = 0
            for _ in range(args.rounds):
                names = {"ready": "ready graphs", "torch": "torch export", "rclip": "rclip"}
                cases = [(names[c], c) for c in args.cases if c != "rclip" or args.rclip]
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
