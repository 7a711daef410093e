#!/usr/bin/env python
"""The app while it ingests: quit latency (q pressed to every process gone) and memory.

Starts the real app (`python -m anagnorisis_tui LIBRARY`) in tmux on a fresh data dir for
each try, on a library of 12 MP JPEGs; once the catalogue pass has recorded every file (the
ingest pass is then running: thumbnails, hashes), waits a random 0-1 s, presses q and times
until the app process and any child of it have exited. Reports the max and median of --tries.
With --model/--pretrained it also runs one try that embeds, sampling the resident memory (RSS)
of the app process and of its children every 0.1 s, and reports the peaks.

--baseline DIR runs the same against another checkout of the code (for example the commit
before the ingest pass: `git archive f9d5dbf | tar -x -C DIR`), where the work ran in threads
of the app process.

    nice python bench/bench_ui_ingest.py --photos /tmp/bench-12mp --images 40 --tries 20 \\
        --model ViT-B-32 --pretrained /path/to/ViT-B-32.safetensors [--baseline DIR]
"""

from __future__ import annotations

import argparse
import random
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def start(code: Path, library: Path, state: Path, env: dict[str, str]) -> tuple[str, int]:
    exports = {
        "PYTHONPATH": str(code),
        "ANAGNORISIS_DATA_DIR": str(state / "data"),
        "ANAGNORISIS_CONFIG": str(state / "config.toml"),
        "HF_HUB_OFFLINE": "1",
        **env,
    }
    assigns = " ".join(f"{k}={shlex.quote(v)}" for k, v in exports.items())
    command = (
        f"cd {shlex.quote(str(code))} && exec env -u COLUMNS -u LINES {assigns} "
        f"{shlex.quote(sys.executable)} -m anagnorisis_tui --graphics halfcell "
        f"{shlex.quote(str(library))}"
    )
    session = f"bench-ingest-{uuid.uuid4().hex[:8]}"
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "48", command)
    tmux("set-option", "-t", session, "window-size", "manual")
    pid = int(tmux("display", "-p", "-t", session, "#{pane_pid}").strip())
    return session, pid


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def catalogued(state: Path) -> int:
    database = state / "data" / "library.db"
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM files").fetchone()[0]
    except sqlite3.Error:
        return 0


def quit_try(code: Path, library: Path, count: int, rng: random.Random) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-ui-ingest-") as tmp:
        state = Path(tmp)
        session, pid = start(code, library, state, {})
        try:
            deadline = time.monotonic() + 120
            while catalogued(state) < count:
                if time.monotonic() > deadline:
                    raise RuntimeError("the scan never catalogued the library")
                time.sleep(0.05)
            time.sleep(rng.random())
            kids = children(pid)
            t0 = time.perf_counter()
            tmux("send-keys", "-t", session, "q")
            while alive(pid) or any(alive(k) for k in kids):
                time.sleep(0.005)
            return time.perf_counter() - t0
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def memory_try(code: Path, library: Path, env: dict[str, str], seconds: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-ui-embed-") as tmp:
        state = Path(tmp)
        session, pid = start(code, library, state, env)
        peak_app = peak_child = 0.0
        try:
            end = time.monotonic() + seconds
            vectors = 0
            while time.monotonic() < end and alive(pid):
                peak_app = max(peak_app, rss_mb(pid))
                for kid in children(pid):
                    peak_child = max(peak_child, rss_mb(kid))
                time.sleep(0.1)
                database = state / "data" / "library.db"
                if database.exists():
                    try:
                        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
                            vectors = conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
                    except sqlite3.Error:
                        pass
            tmux("send-keys", "-t", session, "q")
            time.sleep(1)
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    return {"app_mb": peak_app, "child_mb": peak_child, "vectors": vectors}


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def report(label: str, code: Path, library: Path, args: argparse.Namespace) -> None:
    rng = random.Random(0)
    times = [quit_try(code, library, args.images, rng) for _ in range(args.tries)]
    print(
        f"{label}: quit during ingest, {len(times)} tries: max {max(times) * 1000:.0f} ms, "
        f"median {statistics.median(times) * 1000:.0f} ms",
        flush=True,
    )
    if args.model:
        env = {"ANAGNORISIS_MODEL": args.model, "ANAGNORISIS_PRETRAINED": args.pretrained or ""}
        mem = memory_try(code, library, env, args.embed_seconds)
        print(
            f"{label}: while embedding for {args.embed_seconds:.0f} s ({mem['vectors']} vectors "
            f"stored): app process peak RSS {mem['app_mb']:.0f} MB, child peak "
            f"{mem['child_mb']:.0f} MB",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, required=True, help="folder of 12 MP JPEGs")
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--tries", type=int, default=20)
    parser.add_argument("--model", default="")
    parser.add_argument("--pretrained", default="")
    parser.add_argument("--embed-seconds", type=float, default=60.0)
    parser.add_argument("--baseline", type=Path, default=None)
    parser.add_argument("--baseline-tries", type=int, default=5)
    args = parser.parse_args()
    photos = sorted(args.photos.glob("*.jpg"))[: args.images]
    with tempfile.TemporaryDirectory(prefix="bench-ui-lib-") as tmp:
        library = Path(tmp) / "library"
        library.mkdir()
        for p in photos:
            shutil.copy(p, library / p.name)
        args.images = len(photos)
        print(f"{len(photos)} JPEGs of 12 MP; {uptime()}", flush=True)
        report("ingest", REPO, library, args)
        if args.baseline is not None:
            args.tries = args.baseline_tries
            report("baseline", args.baseline, library, args)
        print(uptime())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
