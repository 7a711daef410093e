"""Duplicates you can trust: precision, recall, F1 and the distinct pictures a `dedupe --trash`
would move, on bench/hardset.py (hard negatives beside true copies), for the perceptual hash
alone (the grouping before verification: 10 bits, union-find), our verified tiers (pHash
candidates within 12 bits, the default; within 16 bits; and with tiny-clip vectors as extra
candidates), and peers run by this same script on the same files: imagededup (PHash, DHash), imagehash (phash, every pair) and czkawka (Python binding).

Each method runs in its own child process, so its time and peak memory (max RSS, from wait4)
are its own and from scratch: ours includes the scan (content and pixel hashes), the one
decode per image for the pHash and the rendition, and the grouping.

Pairwise scores: a pair is predicted when both files are in one group (for peers that list
pairs, when they list it); true when both come from one picture. "Distinct moved": files that
keeping each group's keeper and moving the rest would take away although no copy of their
picture is left behind. A peer that cannot be installed or run here is reported as such.

    python bench/bench_duplicates.py              # with the 50-megapixel pair
    python bench/bench_duplicates.py --no-big
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from itertools import combinations
from pathlib import Path

from anagnorisis_tui.core.duplicates.options import GroupOptions

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "bench" / "out"
METHODS = (
    "phash-alone",
    "ours",
    "ours-d16",
    "ours+vectors",
    "imagededup-phash",
    "imagededup-dhash",
    "imagehash-phash",
    "czkawka",
)


# -- the methods, each run in a child ------------------------------------------------------


def _image_files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*") if p.is_file())


def run_ours(folder: Path, vectors: bool, phash_only: bool = False, distance: int = 12) -> dict:
    from anagnorisis_tui.core.base.config import load_settings
    from anagnorisis_tui.core.library import Library

    data = OUT / f"dups-data-{os.getpid()}"
    shutil.rmtree(data, ignore_errors=True)
    settings = load_settings(
        data_dir=data, config_file=OUT / "dups.toml", overrides={"model": "tiny-clip"}
    )
    with Library(settings) as lib:
        lib.catalogue.scan(folder)
        if phash_only:
            return {"groups": _phash_alone(lib)}
        method = "phash"
        if vectors:
            lib.semantic.embed()
            method = "both"
        found = lib.duplicates.groups(GroupOptions(method=method, phash_distance=distance))
        plan = lib.duplicates.plan_group_action(found, action="trash")
        groups = [[m.path for m in g.members if m.tier != "similar"] for g in found]
        return {
            "groups": [g for g in groups if len(g) > 1],
            "moved": [item.path for item in plan.items],
            "keepers": {item.path: item.keeper for item in plan.items},
        }


def _phash_alone(lib) -> list[list[str]]:
    """Today's grouping before verification: pHash within 10 bits, chained (union-find)."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from anagnorisis_tui.core.duplicates import neighbours

    lib.duplicates.compute_phashes()
    rows = lib.db.execute(
        "SELECT f.path, i.phash FROM files f JOIN images i ON i.hash = f.hash "
        "WHERE f.present = 1 AND i.phash IS NOT NULL ORDER BY f.path"
    ).fetchall()
    codes = np.array([r[1] for r in rows], dtype=np.int64)
    i, j, _ = neighbours.phash_pairs(codes, 10)
    n = len(rows)
    graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    groups: dict[int, list[str]] = {}
    for (path, _), label in zip(rows, labels, strict=True):
        groups.setdefault(int(label), []).append(path)
    return [g for g in groups.values() if len(g) > 1]


def run_imagededup(folder: Path, kind: str) -> dict:
    # imagededup imports torchvision, which needs the project's shim on this CPU torch.
    from anagnorisis_tui.core.semantic.torch_compat import import_torchvision

    import_torchvision()
    from imagededup.methods import DHash, PHash

    hasher = PHash() if kind == "phash" else DHash()
    found = hasher.find_duplicates(image_dir=str(folder), recursive=True)
    pairs = set()
    for name, dups in found.items():
        for other in dups:
            a, b = str(folder / name), str(folder / other)
            pairs.add(tuple(sorted((a, b))))
    return {"pairs": sorted(pairs)}


def run_imagehash(folder: Path) -> dict:
    import imagehash
    from PIL import Image

    hashes = {}
    for path in _image_files(folder):
        with Image.open(path) as im:
            hashes[path] = imagehash.phash(im)
    pairs = [(a, b) for a, b in combinations(sorted(hashes), 2) if hashes[a] - hashes[b] <= 10]
    return {"pairs": pairs}


def run_czkawka(folder: Path) -> dict:
    import czkawka

    finder = czkawka.ImageSimilarity()
    finder.set_directories([folder])
    groups = [[str(p) for p in g] for g in finder.find_similar()]
    return {"groups": [g for g in groups if len(g) > 1]}


def child(method: str, folder: Path, out: Path) -> None:
    if method == "phash-alone":
        result = run_ours(folder, vectors=False, phash_only=True)
    elif method == "ours":
        result = run_ours(folder, vectors=False)
    elif method == "ours-d16":
        result = run_ours(folder, vectors=False, distance=16)
    elif method == "ours+vectors":
        result = run_ours(folder, vectors=True)
    elif method.startswith("imagededup-"):
        result = run_imagededup(folder, method.split("-")[1])
    elif method == "imagehash-phash":
        result = run_imagehash(folder)
    else:
        result = run_czkawka(folder)
    out.write_text(json.dumps(result))


# -- scoring -------------------------------------------------------------------------------


def score(result: dict, truth: dict[str, object]) -> dict:
    label = {p: item.label for p, item in truth.items()}
    predicted: set[tuple[str, str]] = set()
    groups = result.get("groups")
    if groups is None:
        predicted = {tuple(sorted(p)) for p in result["pairs"]}
        groups = _pair_groups(predicted)
    else:
        for g in groups:
            predicted.update(combinations(sorted(g), 2))
    predicted = {p for p in predicted if p[0] in label and p[1] in label}
    by_label: dict[str, int] = {}
    for p in label:
        by_label[label[p]] = by_label.get(label[p], 0) + 1
    true_total = sum(c * (c - 1) // 2 for c in by_label.values())
    hit = sum(1 for a, b in predicted if label[a] == label[b])
    precision = hit / len(predicted) if predicted else 1.0
    recall = hit / true_total if true_total else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    moved = result.get("moved")
    if moved is None:
        # Peers have no dedupe of their own: keep the largest picture of each group.
        moved = []
        for g in groups:
            keep = max(g, key=lambda p: (_pixels(p), os.path.getsize(p), p))
            moved += [p for p in g if p != keep]
    gone = set(moved)
    left = {label[p] for p in label if p not in gone}
    distinct = sum(1 for p in gone if p in label and label[p] not in left)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "pairs": len(predicted),
        "moved": len(gone),
        "distinct_moved": distinct,
        "hard_negatives_moved": sum(1 for p in gone if p in truth and not truth[p].positive),
    }


def _pair_groups(pairs: set[tuple[str, str]]) -> list[list[str]]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[find(a)] = find(b)
    out: dict[str, list[str]] = {}
    for x in list(parent):
        out.setdefault(find(x), []).append(x)
    return [sorted(g) for g in out.values() if len(g) > 1]


def _pixels(path: str) -> int:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.size[0] * im.size[1]
    except Exception:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-big", action="store_true", help="leave out the 50 MP pair")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument(
        "--child", nargs=3, metavar=("METHOD", "FOLDER", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    from bench import hardset

    folder = OUT / "hardset"
    shutil.rmtree(folder, ignore_errors=True)
    truth_paths = hardset.build(folder, big=not args.no_big)
    truth = {str(p): item for p, item in truth_paths.items()}
    (OUT / "hardset-truth.pkl").write_bytes(pickle.dumps(truth))
    negatives = sum(1 for item in truth.values() if not item.positive)
    print(
        f"{len(truth)} files: {len(truth) - negatives} in true-copy sets, {negatives} hard negatives"
    )
    print(f"load: {os.getloadavg()[0]:.1f} (1-min average) on {os.cpu_count()} cores")
    print(
        "| method | precision | recall | F1 | pairs | moved | distinct moved | hard negatives moved | s | peak MB |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for method in args.methods.split(","):
        out = OUT / f"result-{method}.json"
        out.unlink(missing_ok=True)
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", method, str(folder), str(out)],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
        )
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        if status != 0 or not out.exists():
            last = err.strip().splitlines()[-1] if err.strip() else f"exit status {status}"
            print(f"| {method} | could not run here: {last[:120]} | | | | | | | | |")
            continue
        s = score(json.loads(out.read_text()), truth)
        print(
            f"| {method} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['pairs']} "
            f"| {s['moved']} | {s['distinct_moved']} | {s['hard_negatives_moved']} | {seconds:.1f} "
            f"| {usage.ru_maxrss / 1024:.0f} |"
        )


if __name__ == "__main__":
    main()
