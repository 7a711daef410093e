"""What a model's first use reports while it gets ready, as one line of text for any front end.

Two stages come before the first vector: `download` (the weights from the model hub: bytes,
rate, ETA) and `prepare` (the one-time export to the CPU engine: which step, time so far).
Imports nothing heavy, so the app and the command line can show them.
"""

from __future__ import annotations

from anagnorisis_tui.core.base.progress import Progress

DOWNLOAD = "download"
PREPARE = "prepare"
STAGES = (DOWNLOAD, PREPARE)
PREPARE_TITLE = "preparing the model for this CPU, once"


def is_model_stage(p: Progress) -> bool:
    return p.stage in STAGES


def text(p: Progress) -> str:
    """ "downloading open_clip_model.safetensors  120.5/605.2 MB  4.8 MB/s  ETA 01:41", or
    "preparing the model for this CPU, once: quantising to int8  (step 3/5, 00:42)"."""
    if p.stage == DOWNLOAD:
        from anagnorisis_tui.core.semantic.weights import progress_text

        return progress_text(p)
    step = f"step {p.done}/{p.total}, " if p.total else ""
    return f"{PREPARE_TITLE}: {p.detail}  ({step}{_clock(p.elapsed)})"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"
