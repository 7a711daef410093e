#!/usr/bin/env python
"""Cold start of `anagnorisis-tui embed`: process start to the first stored vector, and peak
memory, for today's torch engine (the code at --baseline) beside the ONNX engine - same run,
same weights file, same four 12 MP JPEGs, a fresh catalogue every time.

    nice python bench/bench_embed_cold.py                   # ViT-B-32-256 and ViT-B-32
    python bench/bench_embed_cold.py --models ViT-B-32 --runs 5 --baseline arch-layout

Rows: `today` runs the tree of --baseline (git archive) with torch; `torch` is this tree with
the engine forced to torch (ANAGNORISIS_ENGINE=torch: weights loaded without a random
initialisation first); `onnx` this tree's default on a CPU with the model already exported (as
every run after the first); `onnx, first` the very first run, which exports (once per model).
"first vector" is when the catalogue first holds a vector (polled every 20 ms); "exit" is the
whole process (scan, embed, index, exit). Peak memory is the process's maximum RSS.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_embed import make_jpegs  # noqa: E402
from bench.bench_engine import random_checkpoint  # noqa: E402


def vectors_in(db: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.05)
        try:
            return int(con.execute("SELECT count(*) FROM vectors").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def run_once(tree: Path, env: dict, library: Path, data: Path) -> tuple[float, float, float]:
    """(seconds to the first vector, seconds to exit, peak RSS MB) of one `embed`."""
    for entry in data.iterdir() if data.exists() else []:
        if entry.name != "models":  # keep the exported engine, start a fresh catalogue
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    cmd = [sys.executable, "-m", "anagnorisis_tui", "embed", str(library), "-q"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**env, "PYTHONPATH": str(tree)}, cwd=tree)
    first = None
    db = data / "library.db"
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        now = time.perf_counter() - start
        if pid:
            break
        if first is None and vectors_in(db):
            first = now
        time.sleep(0.02)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"embed failed ({status}) in {tree}")
    end = time.perf_counter() - start
    if first is None:
        first = end if vectors_in(db) else float("nan")
    return first, end, usage.ru_maxrss / 1024


def build_seconds(name: str, rounds: int = 3) -> tuple[float, float]:
    """Median seconds to build the model with open_clip's random initialisation, and without
    it (engine._skip_init, what the torch engine does before loading weights), alternating."""
    from anagnorisis_tui.core.semantic import engine

    open_clip = engine._open_clip()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for skip, out in ((False, times[0]), (True, times[1])):
            start = time.perf_counter()
            with engine._quiet(), engine._skip_init() if skip else contextlib.nullcontext():
                open_clip.create_model(name, pretrained=None)
            out.append(time.perf_counter() - start)
    return sorted(times[0])[rounds // 2], sorted(times[1])[rounds // 2]


def baseline_tree(rev: str, target: Path) -> Path:
    target.mkdir()
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["ViT-B-32-256", "ViT-B-32"])
    parser.add_argument("--runs", type=int, default=3, help="runs per row (median reported)")
    parser.add_argument("--baseline", default="arch-layout", help="git revision of `today`")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp_name:
        tmp = Path(tmp_name)
        library = tmp / "photos"
        make_jpegs(library, 4)
        today = baseline_tree(args.baseline, tmp / "today")
        print(f"4 JPEGs of 4000x3000; baseline `today` = {args.baseline}; median of {args.runs}")
        print(f"{'model':<13} {'engine':<12} {'first vector':>13} {'exit':>8} {'peak RSS':>9}")
        for name in args.models:
            weights = tmp / f"{name}-random" / "open_clip_model.safetensors"
            weights.parent.mkdir()
            random_checkpoint(name, weights)
            init, skipped = build_seconds(name)
            print(
                f"{name}: building the model {init:.2f} s with its random initialisation, "
                f"{skipped:.2f} s without (the weights are loaded over it either way)"
            )
            base_env = {
                **os.environ,
                "ANAGNORISIS_CONFIG": str(tmp / "none.toml"),
                "ANAGNORISIS_MODEL": name,
                "ANAGNORISIS_PRETRAINED": str(weights),
                "ANAGNORISIS_DEVICE": "cpu",
            }
            rows = {}
            data = tmp / f"data-{name}"
            env = {**base_env, "ANAGNORISIS_DATA_DIR": str(data)}
            rows["onnx, first"] = [run_once(ROOT, env, library, data)]
            cases = {
                "today": (today, {**base_env, "ANAGNORISIS_DATA_DIR": str(tmp / f"t-{name}")}),
                "torch": (ROOT, {**env, "ANAGNORISIS_ENGINE": "torch"}),
                "onnx": (ROOT, env),
            }
            for _ in range(args.runs):  # rounds alternate: the load drifts
                for case, (tree, case_env) in cases.items():
                    case_data = Path(case_env["ANAGNORISIS_DATA_DIR"])
                    rows.setdefault(case, []).append(run_once(tree, case_env, library, case_data))
            for case in ("today", "torch", "onnx", "onnx, first"):
                runs = sorted(rows[case], key=lambda r: r[1])
                first, end, rss = runs[len(runs) // 2]
                print(
                    f"{name:<13} {case:<12} {first:>11.2f} s {end:>6.2f} s {rss:>6.0f} MB",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
