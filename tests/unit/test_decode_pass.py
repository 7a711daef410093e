"""The page-decode-write loop the lazy duplicates passes share."""

from __future__ import annotations

import threading

from anagnorisis_tui.core.duplicates.decode_pass import run_decode_pass


def test_pages_decodes_and_writes_ok_errors_and_missing_apart():
    rows = [(f"h{i:02d}", f"/lib/{i}.jpg") for i in range(10)]
    written: list[tuple[list, list]] = []
    seen = []

    def page(after: str, limit: int):
        return [r for r in rows if r[0] > after][:limit]

    def decode(path: str) -> int:
        number = int(path.rsplit("/", 1)[1].split(".")[0])
        if number == 3:
            raise FileNotFoundError(path)
        if number == 5:
            raise ValueError("truncated")
        return number * 10

    summary = run_decode_pass(
        stage="test",
        total=len(rows),
        page=page,
        decode=decode,
        write=lambda good, errors: written.append((good, errors)),
        progress=seen.append,
        batch=4,
        workers=2,
    )
    assert (summary.done, summary.failed, summary.missing, summary.cancelled) == (8, 1, 1, False)
    assert len(written) == 3  # one write per page of 4
    good = [g for batch, _ in written for g in batch]
    assert ("h00", 0) in good and ("h09", 90) in good and len(good) == 8
    assert [e for _, errors in written for e in errors] == [("h05", "ValueError: truncated")]
    assert [p.done for p in seen] == list(range(1, 11))
    assert seen[-1].stage == "test" and seen[-1].total == 10


def test_a_cancel_stops_between_files_and_writes_what_was_finished():
    rows = [(f"h{i:02d}", f"/lib/{i}.jpg") for i in range(10)]
    cancel = threading.Event()
    written = []

    def progress(p):
        if p.done == 2:
            cancel.set()

    summary = run_decode_pass(
        stage="test",
        total=len(rows),
        page=lambda after, limit: [r for r in rows if r[0] > after][:limit],
        decode=len,
        write=lambda good, errors: written.extend(good),
        progress=progress,
        cancel=cancel,
        batch=4,
        workers=1,
    )
    assert summary.cancelled and summary.done == 2
    assert [h for h, _ in written] == ["h00", "h01"]
