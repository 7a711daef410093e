"""Copies or other moments: the default `dedupe --trash` plan, the verified tiers' pairwise
precision and recall, and series recall, on bench/seriesset.py (series from real photos beside
mirrored/rotated copies and flat pictures' copies) and bench/hardset.py (hard negatives beside
copies), each in a catalogue of its own; imagehash (pHash within 10 bits, every pair, its
groups taken as a trash plan keeping one) on the same files in the same run, and imagededup
and czkawka where they are installed.

    python bench/bench_series.py
"""

from __future__ import annotations

import shutil
import sys
import time
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import hardset, seriesset  # noqa: E402

OUT = ROOT / "bench" / "out" / "series"
VERIFIED = ("bytes", "pixels", "same", "edited")


def _truth_pairs(truth: dict[Path, hardset.Item]) -> set[tuple[str, str]]:
    by: dict[str, list[str]] = {}
    for path, item in truth.items():
        by.setdefault(item.label, []).append(str(path))
    return {tuple(sorted(p)) for paths in by.values() for p in combinations(paths, 2)}  # type: ignore[misc]


def _distinct_moved(plan: list[tuple[str, str]], truth: dict[Path, hardset.Item]) -> int:
    """Files a plan moves, as (path, keeper), that are not a copy of their keeper."""
    return sum(1 for path, keeper in plan if truth[Path(path)].label != truth[Path(keeper)].label)


def ours(folder: Path, truth: dict[Path, hardset.Item]) -> dict[str, float]:
    from anagnorisis_tui.core.base.config import load_settings
    from anagnorisis_tui.core.library import Library

    data = OUT / f"data-{folder.name}"
    shutil.rmtree(data, ignore_errors=True)
    settings = load_settings(data_dir=data, config_file=data / "none.toml", overrides={})
    with Library(settings) as library:
        library.catalogue.scan(folder)
        start = time.perf_counter()
        report = library.duplicates.group_report()
        seconds = time.perf_counter() - start
        plan = library.duplicates.plan_group_action(report.groups)
    predicted = set()
    tiers: dict[tuple[str, str], str] = {}
    for group in report.groups:
        copies = [group.keeper.path, *(m.path for m in group.duplicates(VERIFIED))]
        predicted |= {tuple(sorted(p)) for p in combinations(copies, 2)}
        for pair in combinations(sorted(m.path for m in group.members), 2):
            tiers[pair] = group.tier  # type: ignore[index]
    scenes: dict[str, set[str]] = {}
    for path, item in truth.items():
        if item.kind == "series":
            scenes.setdefault(item.scene, set()).add(str(path))
    found = 0
    for frames in scenes.values():
        for group in report.groups:
            paths = {m.path for m in group.members}
            if frames <= paths and group.tier == "series":
                found += 1
                break
    return {
        "pairs": len(predicted),
        "predicted": predicted,  # type: ignore[dict-item]
        "tiers": tiers,  # type: ignore[dict-item]
        "moved": [(i.path, i.keeper) for i in plan.items],  # type: ignore[dict-item]
        "series": len(scenes),
        "series_found": found,
        "grouping_s": seconds,
    }


def imagehash_pairs(folder: Path) -> set[tuple[str, str]]:
    import imagehash
    from PIL import Image

    hashes = {}
    for path in sorted(str(p) for p in folder.rglob("*") if p.is_file()):
        with Image.open(path) as im:
            hashes[path] = imagehash.phash(im)
    return {(a, b) for a, b in combinations(sorted(hashes), 2) if hashes[a] - hashes[b] <= 10}


def _plan_of_pairs(pairs: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """Components of the pairs, the first path of each kept and the rest moved."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[find(a)] = find(b)
    groups: dict[str, list[str]] = {}
    for x in list(parent):
        groups.setdefault(find(x), []).append(x)
    return [(p, sorted(g)[0]) for g in groups.values() for p in sorted(g)[1:]]


def _short(path: str, folder: Path) -> str:
    return str(Path(path).relative_to(folder))


def _scores(predicted: set[tuple[str, str]], true: set[tuple[str, str]]) -> tuple[float, float]:
    hit = len(predicted & true)
    return hit / max(1, len(predicted)), hit / max(1, len(true))


def main() -> None:
    import os

    print(f"load: {os.getloadavg()}")
    sets = {}
    only = sys.argv[1:]  # e.g. `series`: only that set
    for name, build in (
        ("series", seriesset.build),
        ("hard", lambda f: hardset.build(f, small=True)),
    ):
        if only and name not in only:
            continue
        folder = OUT / name
        if folder.exists():
            shutil.rmtree(folder)
        sets[name] = (folder, build(folder))
    for name, (folder, truth) in sets.items():
        true = _truth_pairs(truth)
        result = ours(folder, truth)
        p, r = _scores(result["predicted"], true)  # type: ignore[arg-type]
        moved = _distinct_moved(result["moved"], truth)  # type: ignore[arg-type]
        print(
            f"{name:7s} ours      : {len(truth)} files, verified tiers precision {p:.3f} recall "
            f"{r:.3f}; default plan moves {len(result['moved'])} files, {moved} distinct; series "  # type: ignore[arg-type]
            f"found {result['series_found']}/{result['series']}; grouping {result['grouping_s']:.1f} s"
        )
        for a, b in sorted(true - result["predicted"]):  # type: ignore[operator]
            print(
                f"{name:7s}   missed: {_short(a, folder)} ~ {_short(b, folder)} ({result['tiers'].get((a, b), 'apart')})"
            )  # type: ignore[union-attr]
        for a, b in sorted(result["predicted"] - true):  # type: ignore[operator]
            print(f"{name:7s}   wrong : {_short(a, folder)} ~ {_short(b, folder)}")
        try:
            theirs = imagehash_pairs(folder)
        except ImportError:
            print(f"{name:7s} imagehash : not installed here")
        else:
            hp, hr = _scores(theirs, true)
            plan = _plan_of_pairs(theirs)
            print(
                f"{name:7s} imagehash : precision {hp:.3f} recall {hr:.3f}; its groups as a plan "
                f"move {len(plan)} files, {_distinct_moved(plan, truth)} distinct"
            )
        for line in peers(folder, truth, true):
            print(f"{name:7s} {line}")


def peers(folder: Path, truth: dict[Path, hardset.Item], true: set[tuple[str, str]]) -> list[str]:
    """imagededup (hash methods) and czkawka (its Rust core's Python bindings), in the Python
    of $PEERS_PYTHON (their own environment: imagededup pulls torch), where installed."""
    import json
    import os
    import subprocess

    lines = []
    python = os.environ.get("PEERS_PYTHON")
    if python:
        script = str(ROOT / "bench" / "peers_hashing.py")
        proc = subprocess.run([python, script, str(folder)], capture_output=True, text=True)
        if proc.returncode:
            lines.append(f"peers: failed ({proc.stderr.strip().splitlines()[-1:]})")
        else:
            for method, found in json.loads(proc.stdout.strip().splitlines()[-1]).items():
                pairs = {tuple(sorted(str(folder / p) for p in pair)) for pair in found["pairs"]}
                p, r = _scores(pairs, true)  # type: ignore[arg-type]
                removed = [folder / x for x in found["remove"]]
                distinct = sum(1 for x in removed if _is_distinct(x, removed, truth))
                lines.append(
                    f"{method:16s}: precision {p:.3f} recall {r:.3f}; its default removal "
                    f"takes {len(removed)} files, {distinct} distinct (no copy left behind)"
                )
            if not any(line.startswith("czkawka") for line in lines):
                lines.append("czkawka: not installed beside imagededup")
    else:
        lines.append("imagededup, czkawka: not run (set PEERS_PYTHON to a Python with them)")
    return lines


def _is_distinct(path: Path, removed: list[Path], truth: dict[Path, hardset.Item]) -> bool:
    """A removed file is a distinct image lost when no file of its label stays."""
    label = truth[path].label
    gone = set(removed)
    return not any(item.label == label and p not in gone for p, item in truth.items())


if __name__ == "__main__":
    main()
