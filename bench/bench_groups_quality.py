"""Precision and recall of near-duplicate groups against ground truth (bench/dupset.py).

Real sample images (scikit-image, scikit-learn) each with transformed copies (resized,
recompressed, cropped 10%, brightened, EXIF-rotated, re-saved as PNG) plus distractors (quarters
of one photo: alike, not duplicates). The library is scanned with the real scan, pHashes
computed by the real pass, vectors by the real embedding pipeline with the model named
by --model, and groups found by core.groups for the perceptual hash alone, the vectors alone
and both, over a sweep of thresholds.

Pairwise scores: a pair of files is "predicted" when both are in one group, "true" when they
come from one source. Per-transform recall: the share of each kind of copy grouped with its
original. The baseline in the same run is a trivial one: identical content only.

    python bench/bench_groups_quality.py                   # model: tiny-clip (shipped)
    python bench/bench_groups_quality.py --model ViT-B-32 --pretrained laion2b_s34b_b79k
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anagnorisis_tui.core.duplicates.options import GroupOptions
from bench import dupset  # noqa: E402


def pair_scores(groups, truth: dict[str, str]) -> tuple[float, float, int, int]:
    true_pairs = {(a, b) for a, b in combinations(sorted(truth), 2) if truth[a] == truth[b]}
    predicted = set()
    for group in groups:
        paths = sorted(m.path for m in group.members)
        predicted.update(combinations(paths, 2))
    hit = len(true_pairs & predicted)
    precision = hit / len(predicted) if predicted else 1.0
    recall = hit / len(true_pairs) if true_pairs else 1.0
    return precision, recall, len(predicted), len(true_pairs)


def per_transform(groups, truth: dict[str, str]) -> dict[str, float]:
    label = {m.path: g.id for g in groups for m in g.members}
    suffix = {
        "resized": "-small.jpg",
        "recompressed": "-q35.jpg",
        "cropped": "-crop.jpg",
        "brightened": "-bright.jpg",
        "exif-rotated": "-exif.jpg",
        "png": ".png",
    }
    out = {}
    originals = {src: p for p, src in truth.items() if Path(p).name == f"{src}.jpg"}
    for kind, end in suffix.items():
        copies = [p for p, src in truth.items() if p.endswith(end) and src in originals]
        ok = sum(1 for p in copies if p in label and label.get(originals[truth[p]]) == label[p])
        out[kind] = ok / len(copies) if copies else float("nan")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="tiny-clip")
    parser.add_argument("--pretrained", default=None)
    parser.add_argument("--side", type=int, default=384)
    args = parser.parse_args()

    from anagnorisis_tui.core.base.config import load_settings
    from anagnorisis_tui.core.library import Library

    out = ROOT / "bench" / "out"
    lib_dir = out / "dupset"
    data_dir = out / "dupset-data"
    shutil.rmtree(lib_dir, ignore_errors=True)
    shutil.rmtree(data_dir, ignore_errors=True)
    truth_paths = dupset.build(lib_dir, side=args.side)
    overrides = {"model": args.model}
    if args.pretrained:
        overrides["pretrained"] = args.pretrained
    settings = load_settings(
        data_dir=data_dir, config_file=out / "dupset.toml", overrides=overrides
    )
    library = Library(settings)
    summary = library.catalogue.scan(lib_dir)
    truth = {
        path: truth_paths[Path(path)]
        for (path,) in library.db.execute("SELECT path FROM files WHERE present = 1").fetchall()
    }
    sources = len(set(truth.values()))
    print(f"{len(truth)} files from {sources} sources/distractors (scan: {summary.files} files)")
    t = time.perf_counter()
    ph = library.duplicates.compute_phashes()
    print(f"pHash pass: {ph.done} images in {time.perf_counter() - t:.2f} s")
    have_vectors = False
    model_note = "none"
    if hasattr(library, "embed"):
        try:
            t = time.perf_counter()
            embedded = library.semantic.embed()
            have_vectors = True
            model_note = f"{args.model} (model id {library.semantic.model_id})"
            print(f"embedded with {model_note} in {time.perf_counter() - t:.1f} s: {embedded}")
        except Exception as exc:  # the bench still reports pHash figures without a model
            print(f"no vectors: {type(exc).__name__}: {exc}")
    else:
        print("no vectors: this build has no embedding pipeline")

    rows = []
    exact_only = library.duplicates.groups(GroupOptions(method="phash", phash_distance=0))
    exact_only = [g for g in exact_only if g.reasons == ("bytes",)]
    rows.append(("baseline: same content only", "-", exact_only))
    for d in (4, 6, 8, 10, 12, 14):
        rows.append(
            (
                "phash",
                f"distance {d}",
                library.duplicates.groups(GroupOptions(method="phash", phash_distance=d)),
            )
        )
    if have_vectors:
        for thr in (0.85, 0.90, 0.95, 0.98, 0.99, 0.995, 0.998):
            rows.append(
                (
                    "vectors",
                    f"cosine {thr}",
                    library.duplicates.groups(GroupOptions(method="vectors", threshold=thr)),
                )
            )
        for thr, d in ((0.95, 10), (0.98, 10), (0.99, 10), (0.995, 10), (0.998, 10)):
            rows.append(
                (
                    "both",
                    f"cosine {thr}, distance {d}",
                    library.duplicates.groups(
                        GroupOptions(method="both", threshold=thr, phash_distance=d)
                    ),
                )
            )
    print(f"vectors: {model_note}")
    kinds = ("resized", "recompressed", "cropped", "brightened", "exif-rotated", "png")
    print("| method | setting | precision | recall | groups | " + " | ".join(kinds) + " |")
    print("|" + " --- |" * (5 + len(kinds)))
    for method, setting, groups in rows:
        p, r, _, _ = pair_scores(groups, truth)
        per = per_transform(groups, truth)
        cells = " | ".join(f"{per[k]:.2f}" for k in kinds)
        print(f"| {method} | {setting} | {p:.3f} | {r:.3f} | {len(groups)} | {cells} |")
    library.close()


if __name__ == "__main__":
    main()
