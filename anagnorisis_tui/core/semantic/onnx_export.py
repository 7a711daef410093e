"""Turning a loaded torch model into the ONNX engine: export, check against torch, quantise.

The image tower is exported with its normalisation inside the graph (uint8 pixels in, raw
features out) and checked on a probe batch: ONNX fp32 must match torch on every probe image, or
the model stays on torch (and the refusal is noted so it is not tried on every start). The int8
graph (ONNX Runtime dynamic quantisation: int8 weights, activations quantised on the fly) becomes
the engine when its vectors agree with fp32 - cosine, and each probe's nearest neighbours, the
thing retrieval sees - and it is not slower here; else fp32 is kept. Only the graph in use stays
on disk. The figures of the check are kept in spec.json.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, cast

import numpy as np

from anagnorisis_tui.core.base.progress import Cancelled, Progress, ProgressCallback, Timer, check
from anagnorisis_tui.core.semantic import ort_env
from anagnorisis_tui.core.semantic import text_numpy as textnp
from anagnorisis_tui.core.semantic.model_progress import PREPARE
from anagnorisis_tui.core.semantic.onnx_models import (
    FORMAT,
    OnnxEmbedder,
    OnnxText,
    cache_dir,
    open_cached,
    open_session,
    unit_rows,
)
from anagnorisis_tui.core.semantic.probe import probe_images, release_memory

log = logging.getLogger(__name__)

FP32_MIN_COSINE = 0.9999  # ONNX fp32 against torch, every probe image
INT8_MIN_MEAN_COSINE = 0.995  # int8 against fp32: the mean over the probe...
INT8_MIN_COSINE = 0.98  # ...the worst probe image...
INT8_MIN_OVERLAP = 0.9  # ...and the share of each probe's top-k neighbours that stay the same
PROBE_TOP_K = 5


class ExportError(RuntimeError):
    """The model cannot run through ONNX Runtime faithfully; torch stays its engine."""


def export_image_tower(torch_embedder: Any, path: Path) -> None:
    """Write the image tower as ONNX: uint8 NHWC pixels in, raw features out."""
    import torch

    model = torch_embedder.model

    class Tower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model
            scale = torch.tensor([255.0]).view(1, 1, 1, 1)
            mean = torch.tensor(torch_embedder.mean).view(1, 3, 1, 1) * scale
            std = torch.tensor(torch_embedder.std).view(1, 3, 1, 1) * scale
            self.register_buffer("mean", mean)
            self.register_buffer("std", std)

        def forward(self, pixels: torch.Tensor) -> torch.Tensor:
            x = pixels.permute(0, 3, 1, 2).float()
            mean, std = cast(torch.Tensor, self.mean), cast(torch.Tensor, self.std)
            return cast(torch.Tensor, self.model.encode_image((x - mean) / std))

    size = torch_embedder.image_size
    sample = torch.zeros((2, size, size, 3), dtype=torch.uint8)
    _export(Tower().eval(), sample, "pixels", path)


def export_text_tower(torch_embedder: Any, path: Path) -> None:
    import torch

    model = torch_embedder.model

    class Tower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            return cast(torch.Tensor, self.model.encode_text(tokens))

    tokens = torch_embedder.tokenizer(["a photo", "probe"])
    _export(Tower().eval(), tokens, "tokens", path)


def _export(module: Any, sample: Any, input_name: str, path: Path) -> None:
    import warnings

    ort_env.quiet()  # torch.onnx may load onnxruntime itself
    import torch

    # Grad enabled: under no_grad, nn.MultiheadAttention takes a fused fast path that has no
    # ONNX form.
    with warnings.catch_warnings(), torch.inference_mode(False), torch.enable_grad():
        warnings.simplefilter("ignore")  # tracer notes about shape-dependent Python code
        torch.onnx.export(
            module,
            (sample,),
            str(path),
            input_names=[input_name],
            output_names=["features"],
            dynamic_axes={input_name: {0: "n"}, "features": {0: "n"}},
            opset_version=17,
            dynamo=False,
        )


def quantise(source: Path, target: Path) -> bool:
    """int8 weights, activations quantised on the fly (no calibration data needed), written one
    weight at a time (quantise_stream.py: ONNX Runtime's own quantiser peaks at 1.2 GB on the
    default model, this at 0.2 GB). False, and no file, when the graph has nothing to quantise
    or a form the streaming quantiser does not read (the caller keeps fp32)."""
    from anagnorisis_tui.core.semantic.quantise_stream import QuantiseError, quantise_file

    try:
        return quantise_file(source, target) > 0
    except QuantiseError as exc:
        log.info("not quantised (%s): %s", source.name, exc)
        target.unlink(missing_ok=True)
        return False


def agreement(reference: np.ndarray, other: np.ndarray, top_k: int = 10) -> dict[str, float]:
    """How far `other` unit vectors are from `reference`: cosine per row, and the share of each
    row's top-k neighbours (among the rows) that both agree on: what retrieval sees."""
    cos = (reference * other).sum(1)
    k = min(top_k, len(reference) - 1)
    overlap = 1.0
    if k > 0:

        def neighbours(m: np.ndarray) -> np.ndarray:
            sims = m @ m.T
            np.fill_diagonal(sims, -np.inf)
            return np.argsort(-sims, axis=1)[:, :k]

        a, b = neighbours(reference), neighbours(other)
        overlap = float(np.mean([len(set(x) & set(y)) / k for x, y in zip(a, b, strict=True)]))
    return {"cos_mean": float(cos.mean()), "cos_min": float(cos.min()), "overlap": overlap}


def _timed(session: Any, feed: dict[str, np.ndarray], rounds: int = 3) -> float:
    """Median seconds per run of a session on `pixels`. fp32 and int8 are timed one after the
    other, not alternating, so that both graphs are never in memory at once; the median of a
    few runs takes out most of a shared machine's swings, and int8's margin here is 2x or more
    (BENCHMARKS.md)."""
    session.run(None, feed)  # the first run allocates
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


class _Steps:
    """The export's steps reported as `Progress("prepare", step, of, elapsed, detail)`, again
    every second while one runs (a step blocks for tens of seconds), and the cancel checked
    between them: torch's export and the quantiser cannot be stopped inside."""

    def __init__(self, progress: ProgressCallback | None, cancel: threading.Event | None) -> None:
        self.progress = progress
        self.cancel = cancel
        self.timer = Timer()
        self.done = 0
        self.detail = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if progress is not None:
            self._ticker = threading.Thread(target=self._tick, name="export-ticks", daemon=True)
            self._ticker.start()

    def _report(self) -> None:
        if self.progress is not None:
            with self._lock:
                p = Progress(
                    PREPARE, self.done, STEPS, elapsed=self.timer.elapsed, detail=self.detail
                )
            self.progress(p)

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            self._report()

    def step(self, detail: str) -> None:
        check(self.cancel)
        with self._lock:
            self.done, self.detail = min(self.done + 1, STEPS), detail
        self._report()

    def finish(self, ok: bool) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
        if ok:
            with self._lock:
                self.done, self.detail = STEPS, "done"
            self._report()


STEPS = 5  # the step() calls in _build


def export(
    torch_embedder: Any,
    data_dir: Path,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    release_torch: bool = False,
) -> OnnxEmbedder:
    """Export, verify and publish the ONNX engine for a loaded torch embedder; ExportError (and
    a note so it is not tried again for these weights) when ONNX cannot match torch.

    Each step is reported to `progress` (stage "prepare"); `cancel` stops between steps with
    progress.Cancelled, leaving nothing behind (the next use exports again). `release_torch`
    lets the export drop the embedder's torch model once the graphs are written, so that it is
    not held while the graph is quantised (the caller then must not use the embedder again).
    """
    folder = cache_dir(data_dir, torch_embedder.model_id)
    folder.parent.mkdir(parents=True, exist_ok=True)
    _sweep(folder.parent)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))
    steps = _Steps(progress, cancel)
    try:
        spec = _build(torch_embedder, Path(data_dir), work, steps, release_torch)
    except Cancelled:
        steps.finish(False)
        shutil.rmtree(work, ignore_errors=True)
        raise Cancelled(
            f"the one-time preparation of {torch_embedder.model_id} for this CPU was stopped; "
            "the next use of the model prepares it again"
        ) from None
    except Exception as exc:
        steps.finish(False)
        shutil.rmtree(work, ignore_errors=True)
        _refuse(folder, torch_embedder.model_id, exc)
        raise ExportError(f"cannot run {torch_embedder.model_id} through ONNX: {exc}") from exc
    (work / "spec.json").write_text(json.dumps(spec, indent=1), "utf-8")
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)  # a stale export or an old refusal note
    try:
        os.replace(work, folder)
    except OSError:  # another process published the same export first
        shutil.rmtree(work, ignore_errors=True)
    steps.finish(True)
    cached = open_cached(torch_embedder.choice, data_dir)
    if cached is None:
        raise ExportError(f"the export of {torch_embedder.model_id} could not be read back")
    return cached


def _sweep(parent: Path, older_than: float = 24 * 3600) -> None:
    """Remove work folders of exports killed midway (a day old: not one running now)."""
    now = time.time()
    for stale in parent.glob(".export-*"):
        try:
            if now - stale.stat().st_mtime > older_than:
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            pass


def _refuse(folder: Path, model_id: str, exc: BaseException) -> None:
    onnxruntime = ort_env.onnxruntime()
    import torch

    note = {
        "format": FORMAT,
        "model_id": model_id,
        "reason": str(exc)[:500],
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "refused.json").write_text(json.dumps(note), "utf-8")
    except OSError:
        pass


def _build(
    emb: Any, data_dir: Path, work: Path, steps: _Steps, release_torch: bool
) -> dict[str, Any]:
    """Everything torch is needed for comes first (reference vectors, the text tower, the fp32
    image graph), so that the torch model can be let go before the graph is quantised; the fp32
    session is timed and closed before quantising too (BENCHMARKS.md, "export peak memory")."""
    import gc

    onnxruntime = ort_env.onnxruntime()

    steps.step("checking the model on probe images")
    probe = probe_images(emb.image_size)
    reference = emb.encode_images(probe)
    steps.step("the text tower")
    text = _text_tower(emb, data_dir, work)
    steps.step("exporting the image tower")
    export_image_tower(emb, work / "image.fp32.onnx")
    if release_torch:
        emb.model = None  # the caller is done with torch: its ~600 MB go before quantising
    gc.collect()
    fp32 = open_session(work / "image.fp32.onnx")
    out32 = unit_rows(fp32.run(None, {"pixels": probe})[0])
    vs_torch = agreement(reference, out32, PROBE_TOP_K)
    if vs_torch["cos_min"] < FP32_MIN_COSINE:
        raise ValueError(f"ONNX fp32 differs from torch (cosine {vs_torch['cos_min']:.5f})")
    t32 = _timed(fp32, {"pixels": probe[:8]})
    del fp32
    gc.collect()
    precision, vs_fp32, t8 = choose_precision(
        work, steps, {"pixels": probe}, {"pixels": probe[:8]}, out32, t32
    )
    return {
        "format": FORMAT,
        "model_id": emb.model_id,
        "dim": int(reference.shape[1]),
        "image_size": emb.image_size,
        "resize_mode": emb.resize_mode,
        "image_file": f"image.{precision}.onnx",
        "precision": precision,
        "text": text,
        "context_length": int(getattr(emb.tokenizer, "context_length", 77)),
        "probe": {
            "images": len(probe),
            "fp32_vs_torch": vs_torch,
            "int8_vs_fp32": vs_fp32,
            "fp32_seconds": t32,
            "int8_seconds": t8,
        },
        "onnxruntime": onnxruntime.__version__,
        "made": time.time(),
    }


def choose_precision(
    work: Path,
    steps: _Steps,
    feed: dict[str, np.ndarray],
    timing_feed: dict[str, np.ndarray],
    out32: np.ndarray,
    t32: float,
    *,
    quantised: bool | None = None,
) -> tuple[str, dict[str, float], float]:
    """Quantise work/image.fp32.onnx to int8 and keep int8 when its vectors on `feed` agree
    with fp32's (`out32`) and it is not slower; the other graph is deleted. The fp32 session
    must be closed already: the two are never in memory at once. `quantised`: whether the caller
    quantised already (and it made a graph); None: quantise here.
    Returns (precision, int8-vs-fp32 agreement, int8 seconds)."""
    if quantised is None:  # (onnx_ready quantises first, while its process is still small)
        steps.step("quantising to int8")
        quantised = quantise(work / "image.fp32.onnx", work / "image.int8.onnx")
    steps.step("checking int8 against full precision")
    if not quantised:  # nothing to quantise: fp32 it is
        return "fp32", {}, t32
    int8 = open_session(work / "image.int8.onnx")
    vs_fp32 = agreement(out32, unit_rows(int8.run(None, feed)[0]), PROBE_TOP_K)
    t8 = _timed(int8, timing_feed)
    agrees = (
        vs_fp32["cos_mean"] >= INT8_MIN_MEAN_COSINE
        and vs_fp32["cos_min"] >= INT8_MIN_COSINE
        and vs_fp32["overlap"] >= INT8_MIN_OVERLAP
    )
    precision = "int8" if agrees and t8 <= t32 else "fp32"
    del int8
    release_memory()
    (work / f"image.{'fp32' if precision == 'int8' else 'int8'}.onnx").unlink()
    return precision, vs_fp32, t8


def _text_tower(emb: Any, data_dir: Path, work: Path) -> str:
    """The text tower for searches without torch: numpy where supported, else an ONNX graph."""
    if textnp.available(data_dir, emb.model_id) or textnp.export(emb, data_dir):
        return "numpy"
    export_text_tower(emb, work / "text.onnx")
    probe_texts = textnp.PROBES
    onnx_text = OnnxText(work / "text.onnx", emb.tokenizer.context_length, emb.model_id)
    cos = (onnx_text.encode_texts(probe_texts) * emb.encode_texts(probe_texts)).sum(1)
    if float(cos.min()) < FP32_MIN_COSINE:
        raise ValueError(f"the ONNX text tower differs from torch (cosine {cos.min():.5f})")
    return "onnx"


def refused(data_dir: Path, model_id: str) -> str | None:
    """Why an earlier export of this model failed with this torch, or None: it is not tried
    again on every start (a new torch or onnxruntime gets another try)."""
    onnxruntime = ort_env.onnxruntime()
    import torch

    try:
        doc = json.loads((cache_dir(data_dir, model_id) / "refused.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    versions = [doc.get("format"), doc.get("torch"), doc.get("onnxruntime")]
    if versions != [FORMAT, torch.__version__, onnxruntime.__version__]:
        return None
    return str(doc.get("reason"))
