"""The CPU embedding engine: open_clip's image tower run by ONNX Runtime, int8 where it agrees.

On a NAS CPU the torch forward is the slow part of embedding, and importing torch and open_clip
is most of a cold start. So the first time a model is used on a CPU it is exported once
(onnx_export.py: checked against torch, quantised when that agrees) into the data dir, keyed by
model id (which fingerprints the weights); `spec.json` is written last, so a folder without it
is never used. Every later process opens it with onnxruntime and numpy alone: no torch, no
open_clip. Text goes through the numpy text tower (text_numpy.py), or an ONNX text graph for models
that one does not support. torch stays the engine on cuda/mps and for models that will not
export (`load_engine`).
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any

from anagnorisis_tui.core.semantic import weights
from anagnorisis_tui.core.semantic.model_choice import ModelChoice, ModelUnavailable

# The exported models themselves (shared with onnx_export.py), named here as before.
from anagnorisis_tui.core.semantic.onnx_models import (
    FORMAT,
    OnnxEmbedder,
    OnnxText,
    cache_dir,
    normalise_pixels,
    open_cached,
    open_session,
    open_text,
    unit_rows,
)

__all__ = [
    "ENGINES",
    "FORMAT",
    "OnnxEmbedder",
    "OnnxText",
    "cache_dir",
    "load_engine",
    "normalise_pixels",
    "open_cached",
    "open_session",
    "open_text",
    "unit_rows",
    "wants_accelerator",
]

ENGINES = ("auto", "torch")


def wants_accelerator(device: str) -> bool:
    """Whether `device` may mean a GPU, decided without importing torch: an explicit cuda/mps,
    or "auto" on a machine with an NVIDIA or AMD driver loaded, or Apple silicon."""
    device = (device or "auto").lower()
    if device != "auto":
        return device != "cpu"
    if sys.platform == "darwin" and platform.machine() == "arm64":
        return True
    return any(os.path.exists(p) for p in ("/proc/driver/nvidia/version", "/dev/kfd"))


def load_engine(
    choice: ModelChoice,
    data_dir: Path,
    *,
    engine: str = "auto",
    cache_dir: str | None = None,
    progress: Any = None,
    cancel: Any = None,
) -> Any:
    """The fastest faithful engine for the model: on a CPU the ONNX export (made now, once,
    when there is none), else torch (cuda, mps, `engine="torch"`, or a model that does not
    export). Raises ModelUnavailable when the model cannot be loaded at all."""
    if engine not in ENGINES:
        raise ModelUnavailable(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if engine == "auto" and not wants_accelerator(choice.device):
        cached = open_cached(choice, data_dir)
        if cached is not None:
            return cached
        from anagnorisis_tui.core.semantic import onnx_ready

        # The hub's ready graphs (no torch: fits a small machine), where it has them.
        try:
            ready = onnx_ready.prepare(
                choice, data_dir, cache_dir_hub=cache_dir, progress=progress, cancel=cancel
            )
        except weights.DownloadError as exc:
            raise ModelUnavailable(_no_ready_graphs(choice, exc)) from exc
        if ready is not None:
            return ready
    from anagnorisis_tui.core.semantic import engine as embeddings

    # A first use may download the weights: `progress` hears of it, `cancel` stops it.
    emb = embeddings.load(choice, cache_dir=cache_dir, progress=progress, cancel=cancel)
    if engine == "torch" or emb.device != "cpu" or emb.random_weights:
        return emb
    from anagnorisis_tui.core.semantic import onnx_export

    cached = open_cached(choice, data_dir)  # "auto" guessed a GPU that torch does not see
    if cached is not None or onnx_export.refused(data_dir, choice.model_id):
        return cached or emb
    try:
        # The export may let go of the torch model midway (less peak memory); it reports its
        # steps as "prepare" and stops between them on `cancel`.
        return onnx_export.export(
            emb, data_dir, progress=progress, cancel=cancel, release_torch=True
        )
    except onnx_export.ExportError:
        if emb.model is None:  # released before the export failed: torch it is, loaded again
            return embeddings.load(choice, cache_dir=cache_dir)
        return emb


def _no_ready_graphs(choice: ModelChoice, exc: weights.DownloadError) -> str:
    """Said as for the weights (the graphs are the weights in another form); the download's
    own advice names the graph file, which --pretrained does not take, so it is left out."""
    from anagnorisis_tui.core.semantic.readiness import KNOWN_TAGS

    why = str(exc).split(". ")[0]
    repo = KNOWN_TAGS.get(choice.model_id, "").strip("/")
    source = f" (the hub repo {repo})" if repo else ""
    return (
        f"cannot get the weights for {choice.label}: {why}. Where the hub is blocked, set "
        "HF_ENDPOINT to a mirror; behind a proxy, set HTTPS_PROXY; or download the model's "
        f"weights{source} elsewhere and pass --pretrained /path/to/that/file. To try the app "
        "without them: --model tiny-clip (a tiny demo model that only knows coloured shapes)"
    )
