"""Child-task results and events cross the process boundary as JSON and come back as the same
types (core/work/results.py), so neither side reads string-keyed dicts."""

from __future__ import annotations

import json

from anagnorisis_tui.core.base.progress import Progress
from anagnorisis_tui.core.catalogue.scan_types import FileEvent, IngestSummary, ScanSummary
from anagnorisis_tui.core.work.results import (
    EmbedResult,
    IngestResult,
    ThumbEvent,
    TrainResult,
    VectorResult,
    event_from_json,
)


def _over_the_pipe(data: dict) -> dict:
    return json.loads(json.dumps(data))


def test_an_ingest_result_comes_back_whole():
    scan = ScanSummary(root="/p", files=3, new=2, unchanged=1, stage_seconds={"walk": 0.1})
    scan.ingest = IngestSummary(total=2, thumbnails=2, model_error="no model")
    embed = EmbedResult("m", 2, 0, 0, False, "tiny", "cpu", "onnx")
    back = IngestResult.from_json(_over_the_pipe(IngestResult(scan, embed).to_json()))
    assert back.scan == scan and back.ingest == scan.ingest and back.embed == embed
    # The command line's summary object is the scan's counts only, as before.
    assert "ingest" not in scan.to_dict()


def test_a_scan_that_ran_no_ingest_pass_reads_as_an_empty_one():
    back = IngestResult.from_json(_over_the_pipe(IngestResult(ScanSummary(root="/p")).to_json()))
    assert back.scan.ingest is None and back.ingest == IngestSummary() and back.embed is None


def test_results_events_and_progress_round_trip():
    assert TrainResult.from_json(_over_the_pipe(TrainResult(cancelled=True).to_json())) == (
        TrainResult(cancelled=True)
    )
    report = {"rmse": 1.5, "curves": {"train": [1.0]}}
    assert TrainResult.from_json(_over_the_pipe(TrainResult(report).to_json())).report == report
    assert VectorResult.from_json(_over_the_pipe(VectorResult([0.5, 1.0]).to_json())).vector == [
        0.5,
        1.0,
    ]
    file = FileEvent("/p/a.jpg", "new", hash="h", width=4, height=3)
    assert event_from_json(_over_the_pipe({"kind": "file", **file.to_json()})) == file
    thumb = ThumbEvent("h", "cannot read")
    assert event_from_json(_over_the_pipe(thumb.to_json())) == thumb
    assert event_from_json({"kind": "something new"}) is None
    progress = Progress("ingest", 3, 10, bytes_done=5, elapsed=1.5, detail="a.jpg")
    assert Progress.from_json(_over_the_pipe({**progress.to_json(), "later": 1})) == progress
