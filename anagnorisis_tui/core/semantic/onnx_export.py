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
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from anagnorisis_tui.core.semantic import text_numpy as textnp
from anagnorisis_tui.core.semantic.onnx_engine import (
    FORMAT,
    OnnxEmbedder,
    OnnxText,
    cache_dir,
    open_cached,
    open_session,
    unit_rows,
)

FP32_MIN_COSINE = 0.9999  # ONNX fp32 against torch, every probe image
INT8_MIN_MEAN_COSINE = 0.995  # int8 against fp32: the mean over the probe...
INT8_MIN_COSINE = 0.98  # ...the worst probe image...
INT8_MIN_OVERLAP = 0.9  # ...and the share of each probe's top-k neighbours that stay the same
PROBE_COUNT = 24
PROBE_TOP_K = 5


class ExportError(RuntimeError):
    """The model cannot run through ONNX Runtime faithfully; torch stays its engine."""


def probe_images(size: int, count: int = PROBE_COUNT) -> np.ndarray:
    """Deterministic, varied images at the model's input: coloured shapes on tinted
    backgrounds, with smooth gradients and noise, like the simple content retrieval sees."""
    from PIL import Image, ImageDraw

    rng = random.Random(1234)
    noise = np.random.default_rng(1234)
    ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)
    out = []
    for _ in range(count):
        colour = [rng.randrange(256) for _ in range(3)]
        shade = [rng.randrange(256) for _ in range(3)]
        direction = ramp[None, :, None] if rng.random() < 0.5 else ramp[:, None, None]
        background = np.array(colour) * (1 - direction) + np.array(shade) * direction
        image = Image.fromarray(np.broadcast_to(background, (size, size, 3)).astype(np.uint8))
        draw = ImageDraw.Draw(image)
        for _ in range(rng.randint(1, 3)):
            x, y = rng.uniform(0, size * 0.6), rng.uniform(0, size * 0.6)
            w, h = rng.uniform(size * 0.2, size * 0.5), rng.uniform(size * 0.2, size * 0.5)
            fill = tuple(rng.randrange(256) for _ in range(3))
            shape = rng.choice((draw.ellipse, draw.rectangle))
            shape((x, y, x + w, y + h), fill=fill)
        pixels = np.asarray(image, np.int16) + noise.normal(0, 6, (size, size, 3)).astype(np.int16)
        out.append(np.clip(pixels, 0, 255).astype(np.uint8))
    return np.stack(out)


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
            return self.model.encode_image((x - self.mean) / self.std)

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
            return self.model.encode_text(tokens)

    tokens = torch_embedder.tokenizer(["a photo", "probe"])
    _export(Tower().eval(), tokens, "tokens", path)


def _export(module: Any, sample: Any, input_name: str, path: Path) -> None:
    import warnings

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


def quantise(source: Path, target: Path) -> None:
    """int8 weights, activations quantised on the fly (no calibration data needed)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)  # "consider pre-processing" notes on the root logger
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
    finally:
        logging.disable(logging.NOTSET)


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


def _timed(sessions: list[Any], pixels: np.ndarray, rounds: int = 2) -> list[float]:
    """Median seconds per run of each session on `pixels`, runs alternating between them so a
    change of load on a shared machine hits both alike."""
    times: list[list[float]] = [[] for _ in sessions]
    for session in sessions:
        session.run(None, {"pixels": pixels})  # the first run allocates
    for _ in range(rounds):
        for i, session in enumerate(sessions):
            start = time.perf_counter()
            session.run(None, {"pixels": pixels})
            times[i].append(time.perf_counter() - start)
    return [float(np.median(t)) for t in times]


def export(torch_embedder: Any, data_dir: Path) -> OnnxEmbedder:
    """Export, verify and publish the ONNX engine for a loaded torch embedder; ExportError (and
    a note so it is not tried again for these weights) when ONNX cannot match torch."""
    folder = cache_dir(data_dir, torch_embedder.model_id)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))
    try:
        spec = _build(torch_embedder, Path(data_dir), work)
    except Exception as exc:
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
    cached = open_cached(torch_embedder.choice, data_dir)
    if cached is None:
        raise ExportError(f"the export of {torch_embedder.model_id} could not be read back")
    return cached


def _refuse(folder: Path, model_id: str, exc: BaseException) -> None:
    import onnxruntime
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


def _build(emb: Any, data_dir: Path, work: Path) -> dict:
    import onnxruntime

    probe = probe_images(emb.image_size)
    reference = emb.encode_images(probe)
    export_image_tower(emb, work / "image.fp32.onnx")
    fp32 = open_session(work / "image.fp32.onnx")
    out32 = unit_rows(fp32.run(None, {"pixels": probe})[0])
    vs_torch = agreement(reference, out32, PROBE_TOP_K)
    if vs_torch["cos_min"] < FP32_MIN_COSINE:
        raise ValueError(f"ONNX fp32 differs from torch (cosine {vs_torch['cos_min']:.5f})")
    quantise(work / "image.fp32.onnx", work / "image.int8.onnx")
    int8 = open_session(work / "image.int8.onnx")
    vs_fp32 = agreement(out32, unit_rows(int8.run(None, {"pixels": probe})[0]), PROBE_TOP_K)
    t32, t8 = _timed([fp32, int8], probe[:8])
    agrees = (
        vs_fp32["cos_mean"] >= INT8_MIN_MEAN_COSINE
        and vs_fp32["cos_min"] >= INT8_MIN_COSINE
        and vs_fp32["overlap"] >= INT8_MIN_OVERLAP
    )
    precision = "int8" if agrees and t8 <= t32 else "fp32"
    del fp32, int8
    (work / f"image.{'fp32' if precision == 'int8' else 'int8'}.onnx").unlink()
    text = "numpy" if textnp.available(data_dir, emb.model_id) else None
    if text is None and textnp.export(emb, data_dir):
        text = "numpy"
    if text is None:
        export_text_tower(emb, work / "text.onnx")
        probe_texts = textnp.PROBES
        onnx_text = OnnxText(work / "text.onnx", emb.tokenizer.context_length, emb.model_id)
        cos = (onnx_text.encode_texts(probe_texts) * emb.encode_texts(probe_texts)).sum(1)
        if float(cos.min()) < FP32_MIN_COSINE:
            raise ValueError(f"the ONNX text tower differs from torch (cosine {cos.min():.5f})")
        text = "onnx"
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


def refused(data_dir: Path, model_id: str) -> str | None:
    """Why an earlier export of this model failed with this torch, or None: it is not tried
    again on every start (a new torch or onnxruntime gets another try)."""
    import onnxruntime
    import torch

    try:
        doc = json.loads((cache_dir(data_dir, model_id) / "refused.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    versions = [doc.get("format"), doc.get("torch"), doc.get("onnxruntime")]
    if versions != [FORMAT, torch.__version__, onnxruntime.__version__]:
        return None
    return str(doc.get("reason"))
