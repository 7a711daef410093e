"""`train`, `next` and `explain`: the personal evaluator from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict

from anagnorisis_tui.core.base.fsnames import display


def register(sub: argparse._SubParsersAction, common: Callable[..., None]) -> None:
    train = sub.add_parser(
        "train",
        help="train the personal evaluator on your ratings and predict the rest",
        description="Cross-validate ridge, MLP and softmax-MLP models on the rated images, "
        "report held-out MAE, Spearman rho and pairwise accuracy beside the constant-mean "
        "baseline, save the best and predict a rating for every image with vectors.",
    )
    common(train)
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument("--json", action="store_true", help="print the full report as JSON")
    train.set_defaults(func=run_train)

    nxt = sub.add_parser(
        "next",
        help="list the unrated images whose rating would teach the evaluator most",
        description="Unrated images ordered by how much rating them would teach the model "
        "(its uncertainty there, spread across the library).",
    )
    common(nxt)
    nxt.add_argument("--top", type=int, default=20, metavar="K", help="how many (default 20)")
    nxt.add_argument("--json", action="store_true", help="print JSON")
    nxt.set_defaults(func=run_next)

    explain = sub.add_parser(
        "explain",
        help="why the evaluator predicts what it does for an image",
        description="Show the prediction for IMAGE and its most similar rated images.",
    )
    common(explain)
    explain.add_argument("image", metavar="IMAGE", help="path of an image in the library")
    explain.add_argument("--top", type=int, default=5, metavar="K", help="neighbours (default 5)")
    explain.add_argument("--json", action="store_true", help="print JSON")
    explain.set_defaults(func=run_explain)


def _library(args: argparse.Namespace):
    from anagnorisis_tui.cli import settings_from_args
    from anagnorisis_tui.core.library import Library

    return Library(settings_from_args(args))


def _progress_printer() -> Callable | None:
    if not sys.stderr.isatty():
        return None
    from anagnorisis_tui.core.base.progress import format_eta

    def show(p) -> None:
        total = f"/{p.total}" if p.total else ""
        sys.stderr.write(f"\r\x1b[K{p.stage} {p.done}{total} ETA {format_eta(p.eta)} {p.detail}")
        sys.stderr.flush()

    return show


def run_train(args: argparse.Namespace) -> int:
    with _library(args) as library:
        try:
            report = library.evaluator.train(seed=args.seed, progress=_progress_printer())
        finally:
            if sys.stderr.isatty():
                sys.stderr.write("\r\x1b[K")
    if args.json:
        print(json.dumps(report.as_dict(), indent=1))
        return 0
    print(format_report(report))
    return 0


def format_report(report) -> str:
    lines = [
        f"{report.n_ratings} rated images with vectors ({report.n_train} for training, "
        f"{report.n_holdout} held out); {report.cv_folds}-fold cross-validation on "
        f"{report.cv_rows}.",
        f"vectors of {report.embed_model_id}",  # which model's (the active one may have none)
    ]
    if report.n_rated_without_vectors:
        lines.append(f"{report.n_rated_without_vectors} rated images have no vectors yet.")
    lines.append(f"{'model':<14}{'CV MAE':>8}{'CV rho':>8}{'pairwise':>10}{'time':>8}")
    for c in report.candidates:
        mark = " <- chosen" if c.kind == report.chosen else ""
        lines.append(
            f"{c.kind:<14}{c.cv.mae:>8.2f}{c.cv.spearman:>8.2f}{c.cv.pairwise:>10.2f}"
            f"{c.seconds:>7.1f}s{mark}"
        )
    if report.baseline_cv:
        b = report.baseline_cv
        lines.append(f"{'mean baseline':<14}{b.mae:>8.2f}{b.spearman:>8.2f}{b.pairwise:>10.2f}")
    if report.holdout and report.holdout_baseline:
        h, b = report.holdout, report.holdout_baseline
        lines.append(
            f"held out ({h.n} images): MAE {h.mae:.2f} (baseline {b.mae:.2f}), "
            f"Spearman rho {h.spearman:.2f}, pairwise accuracy {h.pairwise:.2f} "
            f"(baseline {b.pairwise:.2f})"
        )
        if not report.beats_baseline and h.spearman > 0:
            lines.append(
                f"it orders images better than chance (rho {h.spearman:.2f}), but its ratings "
                "are further from yours than your average rating is: rate more images"
            )
        elif not report.beats_baseline:
            lines.append("the model does not beat the baseline yet: rate more images")
    if report.cancelled and report.evaluator_id:
        lines.append(
            f"cancelled while predicting: evaluator {report.evaluator_id} is active; "
            f"{report.predicted} images have fresh predictions, the rest are marked stale"
        )
    elif report.cancelled:
        lines.append("cancelled: the previous evaluator (if any) stays active")
    elif report.evaluator_id:
        lines.append(
            f"saved evaluator {report.evaluator_id}; predicted {report.predicted} images "
            f"in {report.seconds:.1f} s"
        )
    return "\n".join(lines)


def run_next(args: argparse.Namespace) -> int:
    from anagnorisis_tui.cli import CommandError

    if args.top < 1:
        raise CommandError("--top must be at least 1")
    with _library(args) as library:
        items = library.evaluator.rate_next(top_k=args.top)
    if args.json:
        print(json.dumps([asdict(i) for i in items], indent=1))
        return 0
    if not items:
        print("nothing to rate: every image with vectors is rated (or none has vectors)")
    from anagnorisis_tui.core.base import rating_text

    for rank, item in enumerate(items, 1):
        pred = rating_text.effective(None, item.predicted)
        name = display(item.path) if item.path else item.hash
        print(f"{rank:>3}  model {pred:<5}  {name}  ({item.reason})")
    return 0


def run_explain(args: argparse.Namespace) -> int:
    from anagnorisis_tui.cli.rate_cmd import library_image

    with _library(args) as library:
        content = library_image(library, args.image)
        found = library.evaluator.explain(content, top_k=args.top)
    if args.json:
        print(json.dumps(asdict(found), indent=1))
        return 0
    from anagnorisis_tui.core.base import rating_text

    pred = found.prediction
    print(display(args.image))
    print(f"  your rating: {found.rating:g}" if found.rating is not None else "  not rated")
    if pred:
        stale = " (stale: made by an older model; retrain)" if pred.stale else ""
        print(f"  model's prediction: {rating_text.prediction(pred.value)}{stale}")
    if not found.neighbours:
        print("  no rated image to compare with yet")
    else:
        print(f"  most similar rated images (weighted mean {found.neighbour_estimate:.1f}):")
        for n in found.neighbours:
            name = display(n.path) if n.path else n.hash
            print(f"    {n.rating:>4g}  similarity {n.similarity:.2f}  {name}")
    return 0
