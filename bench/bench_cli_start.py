"""CLI start-up and the no-change scan, as whole processes beside baselines from the same run.

Every figure is the median of 5 runs of a fresh process (`sys.executable`, this checkout first
on PYTHONPATH), as wall time and as CPU time (user + system of the process and the children it
reaped: on a machine shared with other work, wall time mostly measures the wait for a core).
Runs alternate with their baseline, so load drifts hit both alike, and an untimed walk before
each scan pair warms the tree's metadata in the OS cache:
  1. `anagnorisis-tui --version` and `--help` beside `python -c pass`;
  2. for each library size, a no-change `anagnorisis-tui scan LIB --quiet` (after one first
     scan into a fresh data dir) beside a bare Python process that walks the same tree with
     os.scandir and stats every file.
The libraries are small JPEGs (96x64, unique bytes) built by bench_scan.build_library.

The checkout's bytecode is compiled first (`compileall`, into the __pycache__ folders git
ignores), as an installed package's is: where PYTHONDONTWRITEBYTECODE is set (this project's
sandboxes set it) every process would otherwise compile the package's sources again, which
an installed command never does. `--source` times it that way instead.

    nice python bench/bench_cli_start.py                       # 20,000 and 100,000 files
    nice python bench/bench_cli_start.py --sizes 20000 --runs 7
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scan import build_library  # noqa: E402

WALK = """
import os, sys
stack, files = [sys.argv[1]], 0
while stack:
    with os.scandir(stack.pop()) as it:
        for entry in it:
            if entry.is_dir():
                stack.append(entry.path)
            else:
                entry.stat()
                files += 1
"""


def _env(state: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["ANAGNORISIS_DATA_DIR"] = str(state / "data")
    env["ANAGNORISIS_CONFIG"] = str(state / "config.toml")
    env.pop("ANAGNORISIS_LIBRARY", None)
    return env


def _time(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system of the process and every child it reaped)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def compare(
    label: str,
    cmd: list[str],
    base_label: str,
    base: list[str],
    env: dict[str, str],
    runs: int,
    warm: list[str] | None = None,
) -> None:
    """Medians of `runs` of each, wall and CPU time; the order alternates, and `warm` (untimed)
    runs before each pair, so neither side is the one that finds the tree's metadata cached."""
    ours, theirs = [], []
    for i in range(runs):
        if warm:
            _time(warm, env)
        first, second = (base, cmd) if i % 2 == 0 else (cmd, base)
        a, b = _time(first, env), _time(second, env)
        theirs.append(a if first is base else b)
        ours.append(b if first is base else a)
    for k, what in ((0, "wall"), (1, "CPU")):
        a = statistics.median(t[k] for t in ours)
        b = statistics.median(t[k] for t in theirs)
        print(f"   {label:<34} {a:7.3f} s   {base_label:<24} {b:7.3f} s   = {a / b:5.2f}x  {what}")
    print(f"      wall {[round(t[0], 3) for t in ours]} / {[round(t[0], 3) for t in theirs]}")
    print(f"      CPU  {[round(t[1], 3) for t in ours]} / {[round(t[1], 3) for t in theirs]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="20000,100000", help="library sizes, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="processes per figure (median)")
    parser.add_argument("--dir", default=str(Path(__file__).parent / "out"), help="where to build")
    parser.add_argument(
        "--state",
        help="keep the data dirs (catalogues) here, so a rerun skips the first scans "
        "(default: a temporary folder, removed afterwards)",
    )
    parser.add_argument(
        "--source",
        action="store_true",
        help="remove the checkout's bytecode instead of compiling it (where "
        "PYTHONDONTWRITEBYTECODE is set, every process then compiles the package from source)",
    )
    args = parser.parse_args()
    py = sys.executable
    package = REPO / "anagnorisis_tui"
    if args.source:
        for cache in package.rglob("__pycache__"):
            shutil.rmtree(cache)
    else:
        subprocess.run([py, "-m", "compileall", "-q", str(package)], check=True)
    print(f"bytecode: {'compiled by each process' if args.source else 'compiled once, first'}")
    app = [py, "-m", "anagnorisis_tui"]
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        state = Path(args.state or tmp)
        state.mkdir(parents=True, exist_ok=True)
        env = _env(state)
        print(f"\n1. start-up (median of {args.runs} processes)")
        compare(
            "anagnorisis-tui --version",
            [*app, "--version"],
            "python -c pass",
            [py, "-c", "pass"],
            env,
            args.runs,
        )
        compare(
            "anagnorisis-tui --help",
            [*app, "--help"],
            "python -c pass",
            [py, "-c", "pass"],
            env,
            args.runs,
        )
        for n in (int(s) for s in args.sizes.split(",")):
            root = Path(args.dir) / f"scan-lib-{n}-96x64"
            build_library(root, n, (96, 64))
            data = state / f"data-{n}"
            scan = [*app, "scan", str(root), "--quiet", "--data-dir", str(data)]
            first, _cpu = _time(scan, env)
            print(
                f"\n2. no-change scan of {n:,} files (first scan call took {first:.1f} s; "
                f"median of {args.runs} processes)"
            )
            compare(
                "anagnorisis-tui scan LIB --quiet",
                scan,
                "os.scandir + stat walk",
                [py, "-c", WALK, str(root)],
                env,
                args.runs,
                warm=[py, "-c", WALK, str(root)],
            )
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
