#!/usr/bin/env python
"""Cold CLI text search at 100,000 images: this app beside rclip, same weights, same vectors.

    nice python bench/bench_search_vs_rclip.py --rclip /path/to/rclip-venv/bin/rclip --runs 5

One seeded random ViT-B-32-256 (bench/rclip_models.py) is served by a local hub to both. The
same COUNT clustered 512-d vectors go into this app's catalogue (rows, vectors, index build, as
bench_cli_search.py makes it) and into rclip's database (its `images` table, float32 blobs), so
both search the same library exactly. Each timed run is a new process, rounds alternating:
  this app - `anagnorisis-tui search --top 10 QUERY` (text: exact search over the float32
             memory map; the text graph came ready from the hub on the untimed first run)
  rclip    - `rclip --no-indexing --filepath-only --top 10 QUERY` in the library folder
and `python -c pass` as the floor. The two top-10 lists are compared: the same images?
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anagnorisis_tui.core.base import db as dbmod  # noqa: E402
from anagnorisis_tui.core.semantic import vectors  # noqa: E402
from bench import rclip_models  # noqa: E402
from bench.bench_cli_search import catalogue  # noqa: E402

MODEL, TAG = "ViT-B-32-256", "datacomp_s34b_b86k"
QUERY = "a dog on a beach at sunset"
NUMBER = re.compile(r"IMG_(\d+)\.jpg")


def rclip_library(db_path: Path, folder: Path, data: Path, model_id: str) -> None:
    """rclip's database (created by its own first run) filled with this app's vectors."""
    src = dbmod.connect(data / "library.db")
    hashes, mat = vectors.load_vectors(src, model_id)
    src.conn.close()
    con = sqlite3.connect(db_path)
    rows = []
    for h, v in zip(hashes, mat, strict=True):
        i = int(h, 16)
        path = folder / f"{i // 1000:03d}" / f"IMG_{i:06d}.jpg"
        rows.append((str(path), 0.0, 3_000_000, np.asarray(v, np.float32).tobytes(), h))
    con.executemany(
        "INSERT INTO images(deleted, indexing, filepath, modified_at, size, vector, hash) "
        "VALUES (NULL, NULL, ?, ?, ?, ?, ?)",
        rows,
    )
    con.commit()
    con.close()


CPU: dict[str, list[float]] = {}  # label -> CPU seconds (user + system) of each timed run


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, list[int]]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed: {out.stderr[-2000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    CPU.setdefault(cmd[0] if cmd[0] != sys.executable else " ".join(cmd[:3]), []).append(cpu)
    return seconds, [int(m) for m in NUMBER.findall(out.stdout)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rclip", required=True, help="rclip's executable (its own venv)")
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--models", type=Path, default=None, help="made files kept here")
    parser.add_argument(
        "--lock",
        type=Path,
        default=None,
        help="flock this file around the timed rounds only (the set-up runs niced before it)",
    )
    args = parser.parse_args()
    if args.lock:
        os.setpriority(os.PRIO_PROCESS, 0, 10)
    print(f"load {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-vs-rclip-") as tmp_name:
        tmp = Path(tmp_name)
        models = args.models or tmp / "models"
        rclip_models.make(models)
        data, library = tmp / "data", tmp / "photos"
        library.mkdir()
        model_id = f"{MODEL}/{TAG}"
        catalogue(data, model_id, args.count)
        with rclip_models.serve(models) as hub:
            env = {
                **os.environ,
                "HF_ENDPOINT": hub.endpoint,
                "HF_HOME": str(tmp / "hf"),
                "NO_PROXY": "127.0.0.1",
                "PYTHONPATH": str(ROOT),
                "RCLIP_DATADIR": str(tmp / "rclip"),
                "ANAGNORISIS_DATA_DIR": str(data),
                "ANAGNORISIS_CONFIG": str(tmp / "c.toml"),
                "ANAGNORISIS_MODEL": MODEL,
                "ANAGNORISIS_PRETRAINED": TAG,
            }
            ours = [sys.executable, "-m", "anagnorisis_tui", "search", QUERY, "--top", "10"]
            theirs = [args.rclip, "--no-indexing", "--filepath-only", "--top", "10", QUERY]
            first, _ = timed(ours, env, library)  # downloads and prepares the model
            timed(theirs, env, library)  # rclip's first run: downloads, creates its db
            rclip_library(tmp / "rclip" / "db.sqlite3", library, data, model_id)
            print(f"first runs done (this app's first search {first:.1f} s)", flush=True)
            if args.lock:
                import fcntl

                lock = open(args.lock, "a")  # noqa: SIM115 - held until the process ends
                fcntl.flock(lock, fcntl.LOCK_EX)
                os.setpriority(os.PRIO_PROCESS, 0, 0)
                print(f"locked; load {os.getloadavg()[0]:.1f} (1 min)", flush=True)
            times: dict[str, list[float]] = {"this app": [], "rclip": [], "python -c pass": []}
            tops: dict[str, list[int]] = {}
            CPU.clear()
            cpu: list[list[float]] = []
            for _ in range(args.runs):
                for label, cmd in (
                    ("this app", ours),
                    ("rclip", theirs),
                    ("python -c pass", [sys.executable, "-c", "pass"]),
                ):
                    seconds, top = timed(cmd, env, library)
                    times[label].append(seconds)
                    if label != "python -c pass":
                        tops[label] = top
                print("  " + "  ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
                cpu.append([CPU[k][-1] for k in CPU])
    ours_s, theirs_s = statistics.median(times["this app"]), statistics.median(times["rclip"])
    same = len(set(tops["this app"]) & set(tops["rclip"]))
    print(f"load {os.getloadavg()[0]:.1f} (1 min)")
    print(f"{args.count:,} images, medians of {args.runs}:")
    print(f"  python -c pass {statistics.median(times['python -c pass']):.2f} s")
    cpu_ours, cpu_theirs, cpu_pass = (statistics.median(c) for c in zip(*cpu, strict=True))
    print(
        f"  CPU seconds (user + system), medians: this app {cpu_ours:.2f}, rclip {cpu_theirs:.2f}"
        f" ({cpu_theirs / cpu_ours:.2f}x), python -c pass {cpu_pass:.2f}"
    )
    print(f"  this app       {ours_s:.2f} s")
    print(f"  rclip          {theirs_s:.2f} s   -> this app {theirs_s / ours_s:.2f}x faster")
    print(f"  top 10 in common: {same} of 10 (this app {tops['this app']}, rclip {tops['rclip']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
