"""`anagnorisis-tui list`: the catalogue, filtered, searched and sorted, page by page."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

PAGE = 500


def register(sub: argparse._SubParsersAction, common: Callable[..., None]) -> None:
    from anagnorisis_tui.core.views.filters import SHAPES, SORT_KEYS

    parser = sub.add_parser(
        "list",
        help="list images, filtered and sorted",
        description="List catalogued images (present files), filtered, searched and sorted. "
        "Filters combine; images missing what a filter needs are left out by it (no size in "
        "pixels for resolution/proportion/shape, no vector for --search/--concept) and sorted "
        "last by a sort (unrated images come last with --sort rating in either direction).",
    )
    common(parser)
    scope = parser.add_argument_group("scope")
    scope.add_argument("--root", help="only this library root (default: all)")
    scope.add_argument("--folder", help="only this folder (relative to the root) and below")
    order = parser.add_argument_group("order")
    order.add_argument(
        "--sort",
        choices=SORT_KEYS,
        help="sort key (default: path; score when searching). resolution = megapixels, "
        "proportion = width/height (--desc: wide to tall), rating = yours, else the model's, "
        "taken = when the photo was taken (EXIF), else the file's mtime; with --search and "
        "--cutoff: the matches above the cutoff in that order",
    )
    order.add_argument("--desc", action="store_true", help="descending")
    order.add_argument("--asc", action="store_true", help="ascending (the default but for score)")
    order.add_argument("--seed", type=int, default=0, help="shuffle seed for --sort random")
    flt = parser.add_argument_group("filters")
    flt.add_argument("--search", metavar="TEXT", help="semantic search (needs embeddings)")
    flt.add_argument("--cutoff", type=float, help="drop search results below this score")
    flt.add_argument("--min-mp", type=float, metavar="MP", help="at least MP megapixels")
    flt.add_argument("--max-mp", type=float, metavar="MP", help="at most MP megapixels")
    flt.add_argument("--min-ratio", metavar="W:H", help="width/height at least (16:9, 1.5)")
    flt.add_argument("--max-ratio", metavar="W:H", help="width/height at most")
    flt.add_argument("--shape", choices=SHAPES, help="portrait, landscape, square, ...")
    flt.add_argument("--min-size", metavar="SIZE", help="file size at least (500k, 2MB)")
    flt.add_argument("--max-size", metavar="SIZE", help="file size at most")
    flt.add_argument("--min-rating", type=float, help="rating (yours, else the model's) >=")
    flt.add_argument("--max-rating", type=float, help="rating (yours, else the model's) <=")
    flt.add_argument(
        "--taken-from", metavar="DATE", help="taken on or after DATE (2024, 2024-05, 2024-05-06)"
    )
    flt.add_argument("--taken-to", metavar="DATE", help="taken on or before DATE (inclusive)")
    flt.add_argument("--concept", metavar="TEXT", help="keep images matching TEXT")
    flt.add_argument("--exclude-concept", metavar="TEXT", help="drop images matching TEXT")
    flt.add_argument(
        "--concept-threshold", type=float, metavar="T", help="cosine for --concept (default 0.25)"
    )
    from anagnorisis_tui.cli.model_args import add_model_options

    add_model_options(parser)
    out = parser.add_argument_group("output")
    out.add_argument("--limit", type=int, help="at most N images")
    out.add_argument("--offset", type=int, default=0, help="skip the first N")
    out.add_argument("--count", action="store_true", help="print only how many match")
    out.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(func=run)


def catalogue_root(root: str | None) -> str | None:
    """A --root as the catalogue stores roots: absolute, normalised, catalogue text."""
    if root is None:
        return None
    import os

    from anagnorisis_tui.core.base import fsnames

    return fsnames.to_db(os.path.abspath(os.path.expanduser(root)))


def spec_from_args(args: argparse.Namespace):
    from anagnorisis_tui.core.views.filters import (
        DEFAULT_CONCEPT_THRESHOLD,
        Concept,
        FilterError,
        Filters,
        parse_bytes,
        parse_date,
        parse_ratio,
    )
    from anagnorisis_tui.core.views.paging import ViewSpec

    if args.concept and args.exclude_concept:
        raise FilterError("use --concept or --exclude-concept, not both")
    if args.desc and args.asc:
        raise FilterError("use --desc or --asc, not both")
    concept = None
    text = args.concept or args.exclude_concept
    if text is not None:
        threshold = args.concept_threshold
        concept = Concept(
            text,
            DEFAULT_CONCEPT_THRESHOLD if threshold is None else threshold,
            exclude=bool(args.exclude_concept),
        )
    elif args.concept_threshold is not None:
        raise FilterError("--concept-threshold needs --concept or --exclude-concept")
    filters = Filters(
        min_megapixels=args.min_mp,
        max_megapixels=args.max_mp,
        min_ratio=parse_ratio(args.min_ratio) if args.min_ratio else None,
        max_ratio=parse_ratio(args.max_ratio) if args.max_ratio else None,
        shape=args.shape,
        min_bytes=parse_bytes(args.min_size) if args.min_size else None,
        max_bytes=parse_bytes(args.max_size) if args.max_size else None,
        min_rating=args.min_rating,
        max_rating=args.max_rating,
        concept=concept,
        min_taken=parse_date(args.taken_from) if args.taken_from else None,
        max_taken=parse_date(args.taken_to, end=True) if args.taken_to else None,
    )
    sort = args.sort or ("score" if args.search else "path")
    # A score reads best high-to-low; every other key low-to-high unless asked.
    descending = args.desc or (sort == "score" and not args.asc)
    if args.cutoff is not None and not args.search:
        raise FilterError("--cutoff needs --search")
    return ViewSpec(
        root=catalogue_root(args.root),
        folder=args.folder,
        sort=sort,
        descending=descending,
        filters=filters,
        search=args.search,
        search_cutoff=args.cutoff,
        seed=args.seed,
    )


def run(args: argparse.Namespace) -> int:
    from anagnorisis_tui.cli import CommandError
    from anagnorisis_tui.cli.model_args import settings_with_model
    from anagnorisis_tui.core.library import Library
    from anagnorisis_tui.core.views.filters import format_bytes

    if args.limit is not None and args.limit < 0:
        raise CommandError(f"--limit must not be negative, not {args.limit}")
    if args.offset < 0:
        raise CommandError(f"--offset must not be negative, not {args.offset}")
    with Library(settings_with_model(args)) as library:
        spec = spec_from_args(args)
        if spec.search is not None or spec.filters.concept is not None:
            _note_unembedded(library)
        if args.count:
            print(library.views.count(spec))
            return 0
        offset, left = args.offset, args.limit
        while left is None or left > 0:
            size = PAGE if left is None else min(PAGE, left)
            entries = library.views.page(spec, offset, size)
            for entry in entries:
                if args.json:
                    print(json.dumps(_entry_json(entry), ensure_ascii=False))
                else:
                    print(_entry_line(entry, format_bytes))
            if len(entries) < size:
                break
            offset += len(entries)
            if left is not None:
                left -= len(entries)
        sys.stdout.flush()
    return 0


def _note_unembedded(library) -> None:
    """Say so when a search or concept leaves out images that have no vector yet."""
    from anagnorisis_tui.core.errors import UserError

    try:
        embedded, total = library.semantic.vector_counts()
    except UserError:  # no model: the search itself reports that
        return
    if embedded < total:
        print(
            f"note: {total - embedded} of {total} images have no vector for this model and are "
            "left out; run `anagnorisis-tui embed` to include them",
            file=sys.stderr,
        )


def _entry_json(entry) -> dict:
    return {
        "path": entry.path,
        "hash": entry.hash,
        "size": entry.size,
        "width": entry.width,
        "height": entry.height,
        "format": entry.format,
        "mtime_ns": entry.mtime_ns,
        "taken": entry.taken,
        "taken_offset": entry.taken_offset,
        "rating": entry.rating,
        "predicted": entry.predicted,
        "score": entry.score,
        "concept": entry.concept,
    }


def _entry_line(entry, format_bytes) -> str:
    dims = f"{entry.width}x{entry.height}" if entry.width and entry.height else "?x?"
    from anagnorisis_tui.core.base import rating_text

    rated = rating_text.effective(entry.rating, entry.predicted)
    score = "" if entry.score is None else f"\t{entry.score:.3f}"  # a column like the others
    # Names may hold anything a filesystem allows, escape sequences included: shown as text.
    from anagnorisis_tui.core.base import fsnames
    from anagnorisis_tui.core.catalogue.capture_date import describe

    path = fsnames.display(entry.path)
    when = describe(entry.taken, entry.taken_offset) if entry.taken is not None else "-"
    return f"{path}\t{format_bytes(entry.size)}\t{dims}\t{when}\t{rated}{score}"
