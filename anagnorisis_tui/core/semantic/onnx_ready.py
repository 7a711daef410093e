"""Ready ONNX graphs from the model hub: a model's first use on a CPU without torch.

Exporting a model (onnx_export.py) imports torch and holds the torch model, its trace and the
graph at once: 2.25 GB at the peak for the default model, more than many NAS boxes have. For
models whose graphs are published on the hub (READY; today the default model, ViT-B-32-256 /
datacomp_s34b_b86k, whose fp32 image and text graphs rclip's models repo carries, exported from
the same open_clip weights), the first use instead downloads the two graphs - verified like the
weights are: the size, and the SHA-256 against the hub's ETag (weights.fetch) - and then:

- checks them on probe images and texts: finite unit vectors of the model's width;
- quantises the image graph to int8 and keeps it when its vectors agree with fp32 and it is not
  slower (onnx_export.choose_precision, the same rule as an export);
- where fp32 is kept, reads its image tower out for numpy (image_numpy.py: the same vectors, less
  CPU), published beside it only when it agrees with the graph on the probe images;
- publishes the same folder an export writes (spec.json last; onnx_engine.open_cached opens it).

These graphs take normalised float pixels (NCHW); the spec says so (`pixels: "normalised"`) and
the engine normalises the uint8 batch itself. Where the hub (or the mirror HF_ENDPOINT names)
lacks them, `prepare` returns None and the torch export is used, as for every other model.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anagnorisis_tui.core.base.progress import Cancelled, ProgressCallback
from anagnorisis_tui.core.semantic import image_numpy, onnx_export, text_onnx, weights
from anagnorisis_tui.core.semantic import probe as probes
from anagnorisis_tui.core.semantic import text_numpy as textnp
from anagnorisis_tui.core.semantic.model_choice import ModelChoice
from anagnorisis_tui.core.semantic.onnx_models import (
    FORMAT,
    OnnxEmbedder,
    OnnxText,
    cache_dir,
    normalise_pixels,
    open_cached,
    open_session,
    unit_rows,
)

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
PROBE_TEXTS = ["a photo of a dog", "red circle", "beach at sunset", "x" * 300]


@dataclass(frozen=True)
class ReadyGraphs:
    """Where a model's graphs are on the hub, and what open_clip's config says about input."""

    repo: str
    image_file: str
    text_file: str
    image_size: int
    dim: int
    resize_mode: str = "shortest"
    mean: tuple[float, float, float] = OPENAI_MEAN
    std: tuple[float, float, float] = OPENAI_STD
    context_length: int = 77
    revision: str = "main"


# model id -> its graphs. rclip's repo holds ViT-B-32-256 / datacomp_s34b_b86k exported by its
# scripts/convert_model.py (fp32, opset 18): image "input" float NCHW normalised -> "output",
# text "input" int64 tokens (open_clip's tokenizer, 77) -> "output".
READY: dict[str, ReadyGraphs] = {
    "ViT-B-32-256/datacomp_s34b_b86k": ReadyGraphs(
        repo="yurijmikhalevich/rclip-models",
        image_file="ViT-B-32-256-datacomp_s34b_b86k/visual.onnx",
        text_file="ViT-B-32-256-datacomp_s34b_b86k/textual.onnx",
        image_size=256,
        dim=512,
    ),
}


class ReadyGraphError(RuntimeError):
    """The hub's graphs are not what the model needs (wrong width, not finite)."""


def prepare(
    choice: ModelChoice,
    data_dir: Path,
    *,
    cache_dir_hub: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> OnnxEmbedder | None:
    """The engine from the hub's ready graphs, published in the data dir; None when the model
    has none listed or the hub does not carry them (the caller exports with torch instead).

    Raises progress.Cancelled, weights.DownloadError (the hub unreachable; Corrupt: a file that
    fails its check, never used) and ReadyGraphError; nothing is published unless every check
    passed."""
    ready = READY.get(choice.model_id)
    if ready is None:
        return None
    config = weights.hub_config(cache_dir_hub)
    what = f"{choice.display_name} (ONNX)"
    try:
        files = [
            weights.fetch(
                [weights.HubFile(ready.repo, name, ready.revision)],
                what=what,
                config=config,
                progress=progress,
                cancel=cancel,
            )
            for name in (ready.image_file, ready.text_file)
        ]
    except weights.NotOnHub:
        return None  # this hub or mirror lacks them: torch exports the model instead
    except weights.DownloadError:
        if config.offline:
            return None  # torch may find its weights in the cache
        # Unreachable, cut off, corrupt: said as for the weights, never a silent 2 GB export.
        raise
    folder = cache_dir(data_dir, choice.model_id)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".ready-", dir=folder.parent))
    steps = onnx_export._Steps(progress, cancel)
    try:
        spec = _build(choice, ready, files[0], files[1], work, steps, Path(data_dir))
        (work / "spec.json").write_text(json.dumps(spec, indent=1), "utf-8")
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        try:
            os.replace(work, folder)
        except OSError:  # another process published first
            shutil.rmtree(work, ignore_errors=True)
    except Cancelled:
        steps.finish(False)
        shutil.rmtree(work, ignore_errors=True)
        raise
    except BaseException:
        steps.finish(False)
        shutil.rmtree(work, ignore_errors=True)
        raise
    steps.finish(True)
    return open_cached(choice, data_dir)


def _build(
    choice: ModelChoice,
    ready: ReadyGraphs,
    image: Path,
    text: Path,
    work: Path,
    steps: onnx_export._Steps,
    data_dir: Path,
) -> dict[str, object]:
    from anagnorisis_tui.core.semantic.ort_env import onnxruntime

    # Quantising (one weight at a time, quantise_stream.py) comes first, while the process holds
    # nothing else, and every session below is closed and its memory handed back before the
    # next opens, so the peak is the largest step - the fp32 image session, 0.7 GB for the
    # default model - not their sum (BENCHMARKS.md, "First run").
    shutil.copyfile(image, work / "image.fp32.onnx")  # streamed copies: the hub cache may be
    shutil.copyfile(text, work / "text.onnx")  # cleared later
    steps.step("quantising to int8")
    quantised = onnx_export.quantise(work / "image.fp32.onnx", work / "image.int8.onnx")
    probes.release_memory()
    steps.step("checking the text graph")
    texts = OnnxText(work / "text.onnx", ready.context_length, choice.model_id)
    _check(texts.encode_texts(PROBE_TEXTS), ready.dim, "text")
    reference = texts.encode_texts(textnp.PROBES)
    del texts
    probes.release_memory()
    # The numpy text tower read out of the graph: a search then memory-maps one file instead
    # of opening a 254 MB ONNX session (text_onnx.py); published only if it agrees with the
    # graph on the probe texts, else searches use the graph.
    numpy_text = text_onnx.export(
        work / "text.onnx",
        data_dir,
        choice.model_id,
        ready.context_length,
        lambda _texts: reference,
    )
    if numpy_text:
        (work / "text.onnx").unlink()
    probes.release_memory()
    steps.step("checking the image graph")
    probe = probes.probe_images(ready.image_size)
    mean, std = np.asarray(ready.mean), np.asarray(ready.std)
    fp32 = open_session(work / "image.fp32.onnx")
    name = fp32.get_inputs()[0].name
    feed = {name: normalise_pixels(probe, mean, std)}
    out32 = unit_rows(fp32.run(None, feed)[0])
    _check(out32, ready.dim, "image")
    timing = {name: normalise_pixels(probe[:8], mean, std)}
    t32 = onnx_export._timed(fp32, timing)
    del fp32
    probes.release_memory()
    precision, vs_fp32, t8 = onnx_export.choose_precision(
        work, steps, feed, timing, out32, t32, quantised=quantised
    )
    numpy_image = False
    if precision == "fp32":  # the same vectors with less CPU (image_numpy.py), where it agrees
        steps.step("reading the image tower for numpy")
        numpy_image = image_numpy.export(
            work / "image.fp32.onnx", work, ready.mean, ready.std, probe, out32
        )
        probes.release_memory()
    return {
        "format": FORMAT,
        "model_id": choice.model_id,
        "dim": ready.dim,
        "image_size": ready.image_size,
        "resize_mode": ready.resize_mode,
        "image_file": f"image.{precision}.onnx",
        "precision": precision,
        "pixels": "normalised",
        "image_numpy": numpy_image,
        "mean": list(ready.mean),
        "std": list(ready.std),
        "text": "numpy" if numpy_text else "onnx",
        "context_length": ready.context_length,
        "source": f"{ready.repo}@{ready.revision}",
        "probe": {
            "images": len(probe),
            "int8_vs_fp32": vs_fp32,
            "fp32_seconds": t32,
            "int8_seconds": t8,
        },
        "onnxruntime": onnxruntime().__version__,
        "made": time.time(),
    }


def _check(vectors: np.ndarray, dim: int, what: str) -> None:
    if vectors.ndim != 2 or vectors.shape[1] != dim or not np.isfinite(vectors).all():
        raise ReadyGraphError(
            f"the hub's {what} graph gives vectors of shape {vectors.shape}, not (n, {dim})"
        )
