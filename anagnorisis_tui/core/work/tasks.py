"""The tasks a child process runs (core/work/child.py), by name. Each returns plain JSON data.

`train`: train the personal evaluator (numpy, CPU-heavy) away from the UI's threads.

`ingest`: scan a library root (or, given `walked`, carry on a scan the caller walked; the demo
library's pictures are made first where they are not yet: stage "demo") and
derive, from one decode per new content, its pixel identity, perceptual hash, grid thumbnail
and (with `embed`) its vector; then the search index and the rating predictions catch up. The model loads in a thread while the walk and catalogue pass
run, so the grid fills before the model is ready.

`image_vector`: the vector of an image file for a search by an image that has none stored
(the app's query by image), so the UI process never decodes it or loads the model.

`thumbnails`: the grid thumbnails the app shows that the cache lacks (content the ingest pass
has not reached yet), each reported as an event once written, so the UI never decodes an
original.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from anagnorisis_tui.core.base.config import Settings
from anagnorisis_tui.core.catalogue import thumbnails
from anagnorisis_tui.core.catalogue.scan_types import FileEvent, IngestSummary
from anagnorisis_tui.core.work.results import (
    EmbedResult,
    IngestResult,
    ThumbEvent,
    TrainResult,
    VectorResult,
)

if TYPE_CHECKING:
    from anagnorisis_tui.core.catalogue.ingest_derive import Products
    from anagnorisis_tui.core.library import Library
    from anagnorisis_tui.core.work.child import Channel

# The library and the passes are imported by the tasks that use them: a child that only makes
# thumbnails starts in half the time.


def ingest_products(lib: Library, embedder: Any = None) -> Products:
    """What a scan derives for the app: thumbnails and perceptual hashes, and vectors when
    `embedder` (a model, or a callable returning one) is given."""
    from anagnorisis_tui.core.catalogue import decode_budget
    from anagnorisis_tui.core.catalogue.ingest_derive import Products

    data = lib.settings.data_dir
    return Products(
        thumbnail_cache=thumbnails.cache_dir(data),
        phash=True,
        embedder=embedder,
        decode_budget=decode_budget.budget_bytes(lib.settings.decode_memory_mb),
        decode_lock=data / decode_budget.LOCK_NAME,
    )


def ingest(
    settings: Settings, args: dict[str, Any], channel: Channel, cancel: threading.Event
) -> dict[str, Any]:
    """IngestResult.to_json(): args "walked" (a Walked payload: the caller walked already, see
    scan_run.py) or "root" (walk here too); "files" sends each file's outcome as an event;
    "embed" loads the model and embeds; "batch_size" for the model's batches."""
    from anagnorisis_tui.core.catalogue.scan import ScanOptions, Walked
    from anagnorisis_tui.core.library import Library

    lib = Library(settings)
    loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-load")
    try:
        if settings.demo and not args.get("walked"):
            _make_demo(settings, channel, cancel)
        embedder = None
        if args.get("embed"):
            # A first use downloads the weights: its progress ("download") reaches the caller,
            # and a cancel keeps the bytes for the next run.
            future = loader.submit(
                lambda: lib.semantic.embedder(progress=channel.progress, cancel=cancel)
            )
            embedder = future.result
        on_file = None
        if args.get("files"):

            def on_file(event: FileEvent) -> None:
                channel.event({"kind": "file", **event.to_json()})

        products = ingest_products(lib, embedder)
        if args.get("batch_size"):
            products.batch_size = int(args["batch_size"])
        options = ScanOptions(on_file=on_file, products=products)
        if args.get("walked"):  # the caller walked already (scan_run.py): the rest
            walked = Walked.from_payload(args["walked"])
            summary = lib.catalogue.carry_on(
                walked, options, progress=channel.progress, cancel=cancel
            )
        else:
            summary = lib.catalogue.scan(
                args.get("root"), options, progress=channel.progress, cancel=cancel
            )
        done = summary.ingest or IngestSummary()
        embedded = None
        if args.get("embed") and done.model_error is None and not summary.cancelled:
            embedded = _catch_up(lib, done, channel, cancel)
        return IngestResult(summary, embedded).to_json()
    finally:
        loader.shutdown(wait=False, cancel_futures=True)
        lib.close()


def _make_demo(settings: Settings, channel: Channel, cancel: threading.Event) -> None:
    """The demo library's pictures, made (or completed) before its scan, each reported."""
    from anagnorisis_tui.core.base.progress import Cancelled
    from anagnorisis_tui.core.demo.generate import demo_root, is_complete, make_demo

    if is_complete(demo_root(settings)):
        return
    # Cancelled: the scan that follows sees the cancel too and returns what there is.
    with contextlib.suppress(Cancelled):
        make_demo(demo_root(settings), progress=channel.progress, cancel=cancel)


def _catch_up(
    lib: Library, done: IngestSummary, channel: Channel, cancel: threading.Event
) -> EmbedResult:
    """Embed what the ingest pass left (content already identified elsewhere), then the index
    and the predictions."""
    rest = lib.semantic.embed(progress=channel.progress, cancel=cancel)
    if done.embedded and not rest.embedded and not rest.cancelled:
        lib.evaluator.refresh_predictions_quietly(progress=channel.progress, cancel=cancel)
    embedder = lib.semantic.embedder()
    return EmbedResult(
        model_id=rest.model_id,
        embedded=done.embedded + rest.embedded,
        errors=rest.errors,
        missing=rest.missing,
        cancelled=rest.cancelled,
        label=embedder.choice.label if hasattr(embedder, "choice") else rest.model_id,
        device=str(getattr(embedder, "device", "cpu")),
        engine=str(getattr(embedder, "engine", "torch")),
    )


def train(
    settings: Settings, args: dict[str, Any], channel: Channel, cancel: threading.Event
) -> dict[str, Any]:
    """Train the evaluator on the ratings: TrainResult.to_json(), the report or cancelled. A
    reason not to train (too few ratings) raises TrainingError."""
    from anagnorisis_tui.core.base.progress import Cancelled
    from anagnorisis_tui.core.library import Library

    with Library(settings) as lib:
        try:
            report = lib.evaluator.train(
                progress=channel.progress, cancel=cancel, seed=int(args.get("seed", 0))
            )
        except Cancelled:
            return TrainResult(cancelled=True).to_json()
        if getattr(report, "cancelled", False) or cancel.is_set():
            return TrainResult(cancelled=True).to_json()
        return TrainResult(report=report.as_dict()).to_json()


def image_vector(
    settings: Settings, args: dict[str, Any], channel: Channel, cancel: threading.Event
) -> dict[str, Any]:
    """VectorResult.to_json() of the image at args["path"]; a file that cannot be used raises
    search.QueryError (a UserError: the caller shows its message)."""
    from anagnorisis_tui.core.library import Library

    with Library(settings) as lib:
        vector = [float(x) for x in lib.semantic.image_vector(str(args["path"]))]
        return VectorResult(vector).to_json()


def make_thumbnails(
    settings: Settings, args: dict[str, Any], channel: Channel, cancel: threading.Event
) -> dict[str, Any]:
    """Write the thumbnails of args["items"] ([content hash, path] pairs) at args["size"] into
    the cache, each followed by a ThumbEvent (its error "" when made); {"made": count}."""
    cache = thumbnails.cache_dir(settings.data_dir)
    size = int(args.get("size") or thumbnails.THUMB_SIZE)
    made = 0
    for content_hash, path in args.get("items") or []:
        if cancel.is_set():
            break
        error = ""
        try:
            thumbnails.ensure_thumbnail(cache, path, content_hash, size)
            made += 1
        except thumbnails.ThumbnailError as exc:
            error = str(exc) or "cannot make the thumbnail"
        channel.event(ThumbEvent(content_hash, error).to_json())
    return {"made": made}


Task = Callable[[Settings, dict[str, Any], "Channel", threading.Event], dict[str, Any]]

TASKS: dict[str, Task] = {
    "ingest": ingest,
    "train": train,
    "image_vector": image_vector,
    "thumbnails": make_thumbnails,
}
