"""`anagnorisis-tui search QUERY` and `anagnorisis-tui similar IMAGE`: semantic search.

The query language (core/semantic/search.py): `beach sunset -people 2:golden ./that.jpg`. Everything
after `search` is the query, so negative terms need no quoting; --top/--json/--cutoff may come
anywhere. Output: `score  path` lines, or JSON lines with path, hash and score.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from anagnorisis_tui.cli.model_args import (
    ModelFeedback,
    add_model_options,
    demo_model_note,
    settings_with_model,
)

if TYPE_CHECKING:
    from anagnorisis_tui.core.library import Library

_FLAGS_WITH_VALUE = {
    "--top",
    "-k",
    "--cutoff",
    "--model",
    "--pretrained",
    "--device",
    "--data-dir",
    "--config",
}
_FLAGS = {"--json"}


def register(sub: argparse._SubParsersAction, common: Callable[..., None]) -> None:
    parser = sub.add_parser(
        "search",
        help="find images matching a text query (e.g. `beach sunset -people 2:golden`)",
        description="Rank the embedded images by how well they match QUERY. Adjacent words form "
        "one phrase; -word pushes matches down; 2:word weighs a term double; an image path "
        "(./x.jpg, /photos/y.png) finds images like it.",
    )
    common(parser)
    _output_options(parser)
    parser.add_argument(
        "--cutoff", type=float, metavar="SCORE", help="leave out hits scoring below SCORE"
    )
    add_model_options(parser)
    parser.add_argument("query", nargs=argparse.REMAINDER, metavar="QUERY")
    parser.set_defaults(func=run_search)

    similar = sub.add_parser(
        "similar",
        help="find images like IMAGE",
        description="Rank the embedded images by similarity to IMAGE (any image file; it need "
        "not be in the library).",
    )
    common(similar)
    _output_options(similar)
    add_model_options(similar)
    similar.add_argument("image", metavar="IMAGE")
    similar.set_defaults(func=run_similar)


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--top", "-k", type=int, default=20, metavar="K", help="hits (default 20)")
    parser.add_argument("--json", action="store_true", help="JSON lines: path, hash, score")


def _split_query(args: argparse.Namespace) -> str:
    """Pull options typed after the query out of it (REMAINDER keeps `-people` as a term)."""
    words = list(args.query)
    if words and words[0] == "--":
        words = words[1:]
    rest: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        name, eq, value = word.partition("=")
        if name in _FLAGS_WITH_VALUE and (eq or i + 1 < len(words)):
            if not eq:
                value = words[i + 1]
                i += 1
            _set(args, name, value)
        elif word in _FLAGS:
            args.json = True
        else:
            rest.append(word)
        i += 1
    return " ".join(_quote(w) for w in rest)


def _quote(word: str) -> str:
    # The shell already split the words: keep a multi-word argument as one phrase.
    return f'"{word}"' if " " in word and '"' not in word else word


def _set(args: argparse.Namespace, name: str, value: str) -> None:
    from anagnorisis_tui.cli import CommandError

    dest = {"-k": "top", "--top": "top"}.get(name, name.lstrip("-").replace("-", "_"))
    if dest in ("top", "cutoff"):
        try:
            value = int(value) if dest == "top" else float(value)  # type: ignore[assignment]
        except ValueError:
            raise CommandError(f"{name} needs a number, not {value!r}") from None
    setattr(args, dest, value)


def _print_hits(hits, as_json: bool) -> None:
    from anagnorisis_tui.core.base import fsnames

    out = sys.stdout
    for rank, hit in enumerate(hits, 1):
        if as_json:
            record = {
                "rank": rank,
                "path": hit.path,
                "hash": hit.hash,
                "score": round(hit.score, 5),
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            out.write(f"{hit.score:6.3f}  {fsnames.display(hit.path)}\n")
    out.flush()


@contextlib.contextmanager
def _open(args: argparse.Namespace) -> Iterator[Library]:
    """The library, open while in the `with`; on the demo library without a chosen model, with
    the demo's model (as the app searches it), named on stderr."""
    from anagnorisis_tui.core.library import Library

    with Library(settings_with_model(args)) as lib:
        note = demo_model_note(lib.settings)
        if note:
            print(note, file=sys.stderr)
        yield lib


def _ready(lib) -> None:
    """Fail with what to do when nothing can be searched; build a missing index once."""
    from anagnorisis_tui.cli import CommandError

    model_id = lib.semantic.model_id
    # Cheap counts (index-only): the exact per-image join costs more than the search itself.
    done = lib.db.execute("SELECT count(*) FROM vectors WHERE model_id = ?", [model_id]).fetchone()[
        0
    ]
    # Present files (an index count) bound the present images: only when they outnumber the
    # vectors can an image lack one, and only then are the images counted (a slower join).
    total = lib.db.execute("SELECT count(*) FROM files WHERE present = 1").fetchone()[0]
    if total > done:
        total = lib.db.execute(
            "SELECT count(DISTINCT hash) FROM files WHERE present = 1"
        ).fetchone()[0]
    if total == 0:
        raise CommandError("the catalogue is empty: run `anagnorisis-tui embed LIBRARY` first")
    if done == 0:
        raise CommandError(
            f"no image has a vector for {model_id} yet: run `anagnorisis-tui embed` first"
            + _other_model_hint(lib)
        )
    _refresh_index(lib, model_id)
    if done < total:
        print(
            f"note: about {total - done:,} of {total:,} images have no vector yet and are not "
            "searched (run `anagnorisis-tui embed`)",
            file=sys.stderr,
        )


def _other_model_hint(lib) -> str:
    """Where another model's vectors are stored: which, how many, and how to search them."""
    from anagnorisis_tui.core.semantic import model_choice, vectors

    other = vectors.most_stored_model(lib.db)
    if other is None:
        return ""
    count = lib.db.execute("SELECT count(*) FROM vectors WHERE model_id = ?", [other]).fetchone()
    name = other.split("/", 1)[0]
    how = (
        f"`--model {name}`"
        if name == model_choice.TINY_CLIP
        else f"the model that made them (`--model {name}` with its weights)"
    )
    return (
        f" (for this model), or search the {count[0]:,} images that have vectors for "
        f"{other} with {how}"
    )


def _refresh_index(lib, model_id: str) -> None:
    """A missing, stale, truncated or foreign index is rebuilt here, once (results would be
    complete without it - exact search covers the rest - but slow on a large library)."""
    from anagnorisis_tui.core.semantic import index

    if index.needs_build(lib.db, lib.data_dir, model_id):
        print("building the search index (once)...", file=sys.stderr, flush=True)
        lib.semantic.build_index()


def _check_top(args: argparse.Namespace) -> None:
    from anagnorisis_tui.cli import CommandError

    if args.top is None or args.top < 1:
        raise CommandError("--top must be at least 1")


def run_search(args: argparse.Namespace) -> int:
    from anagnorisis_tui.core.semantic.search import parse

    query = _split_query(args)
    _check_top(args)
    parse(query)  # bad queries fail before anything is loaded
    with _open(args) as lib:
        _ready(lib)
        with ModelFeedback() as feedback:
            hits = _interruptible(
                feedback,
                lambda: lib.semantic.search(
                    query, top_k=args.top, cutoff=args.cutoff, **feedback.kwargs
                ),
            )
    if hits is None:
        return 130
    _print_hits(hits, args.json)
    if not hits and not args.json:
        print(
            "no matches" + (" above the cutoff" if args.cutoff is not None else ""), file=sys.stderr
        )
    return 0


def run_similar(args: argparse.Namespace) -> int:
    import os

    from anagnorisis_tui.cli import CommandError

    _check_top(args)
    if not os.path.isfile(args.image):
        raise CommandError(f"image {args.image} does not exist")
    with _open(args) as lib:
        _ready(lib)
        with ModelFeedback() as feedback:
            hits = _interruptible(
                feedback,
                lambda: lib.semantic.similar_image(args.image, top_k=args.top, **feedback.kwargs),
            )
    if hits is None:
        return 130
    _print_hits(hits, args.json)
    return 0


def _interruptible(feedback: ModelFeedback, call: Callable[[], list]) -> list | None:
    """The hits, or None after Ctrl-C (a model's first download keeps its bytes for the next
    run; a stop during its one-time preparation starts that again next time)."""
    from anagnorisis_tui.core.base.progress import Cancelled

    try:
        hits = call()
    except Cancelled as exc:
        print(f"interrupted: {exc}" if str(exc) else "interrupted", file=sys.stderr)
        return None
    if feedback.cancel.is_set():
        print("interrupted", file=sys.stderr)
        return None
    return hits
