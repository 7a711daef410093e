"""The exported ONNX models in the data dir: where they live, and opening them (no torch).

Shared by the engine that chooses between torch and ONNX (onnx_engine.py) and the exporter
that writes these folders (onnx_export.py), so neither imports the other at module level.
A folder is `cache_dir(data_dir, model_id)`; `spec.json` is written last by the exporter, so a
folder without it is never opened.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from anagnorisis_tui.core.semantic import ort_env
from anagnorisis_tui.core.semantic import text_numpy as textnp
from anagnorisis_tui.core.semantic.model_choice import (
    ModelChoice,
    ModelUnavailable,
    engine_info,
    index_name,
)

FORMAT = 1


def cache_dir(data_dir: Path, model_id: str) -> Path:
    return Path(data_dir) / "models" / "onnx" / index_name(model_id)


def open_session(path: Path) -> Any:
    ort = ort_env.onnxruntime()  # its telemetry off: nothing written outside the data dir

    options = ort.SessionOptions()
    options.log_severity_level = 3  # initializer clean-up notes are not the user's business
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def unit_rows(features: np.ndarray) -> np.ndarray:
    out = np.asarray(features, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(out / norms)


def normalise_pixels(batch: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """uint8 (N, S, S, 3) -> float32 (N, 3, S, S), (x / 255 - mean) / std per channel: the input
    of a graph made elsewhere (onnx_ready.py); an export has this inside its graph."""
    scale = (1.0 / (255.0 * np.asarray(std, np.float32))).astype(np.float32)
    shift = (np.asarray(mean, np.float32) / np.asarray(std, np.float32)).astype(np.float32)
    out = np.asarray(batch, np.float32) * scale - shift
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


@dataclass
class OnnxEmbedder:
    """The same interface as the torch Embedder: uint8 (N, S, S, 3) in, unit vectors out."""

    choice: ModelChoice
    spec: dict[str, Any]
    folder: Path
    session: Any
    data_dir: Path
    device: str = "cpu"
    random_weights: bool = False
    _text: Any = field(default=None, repr=False)
    # The image tower in numpy (image_numpy.py), used instead of `session` where published:
    # then the session is opened only if something asks for it.
    image_tower: Any = field(default=None, repr=False)

    @property
    def model_id(self) -> str:
        return self.choice.model_id

    @property
    def dim(self) -> int:
        return int(self.spec["dim"])

    @property
    def image_size(self) -> int:
        return int(self.spec["image_size"])

    @property
    def resize_mode(self) -> str:
        return str(self.spec["resize_mode"])

    @property
    def precision(self) -> str:
        return str(self.spec["precision"])

    @property
    def engine(self) -> str:
        return f"onnx-{self.precision}"

    def info(self) -> dict[str, Any]:
        return engine_info(self.choice, self.image_size, self.resize_mode, self.engine)

    def encode_images(self, batch: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 -> (N, dim) L2-normalised float32 (ONNX Runtime is thread-safe)."""
        pixels = np.ascontiguousarray(batch, dtype=np.uint8)
        if self.image_tower is not None:
            return np.asarray(self.image_tower.encode_images(pixels))
        if self.session is None:
            self.session = open_session(self.folder / str(self.spec["image_file"]))
        if self.spec.get("pixels") == "normalised":  # a graph from the hub (onnx_ready.py)
            name = self.session.get_inputs()[0].name
            feed = normalise_pixels(
                pixels, np.asarray(self.spec["mean"]), np.asarray(self.spec["std"])
            )
            return unit_rows(self.session.run(None, {name: feed})[0])
        return unit_rows(self.session.run(None, {"pixels": pixels})[0])

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        if self._text is None:
            self._text = _text_encoder(self.data_dir, self.folder, self.spec)
        return np.asarray(self._text.encode_texts(texts))


class OnnxText:
    """The text tower as an ONNX graph, for models the numpy text tower does not support."""

    def __init__(self, path: Path, context_length: int, model_id: str) -> None:
        from anagnorisis_tui.core.semantic.bpe import BPETokenizer

        self.model_id = model_id
        self.session = open_session(path)
        self.input = self.session.get_inputs()[0].name  # "tokens" (an export), "input" (hub)
        self.tokenizer = BPETokenizer(context_length=context_length)

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        tokens = self.tokenizer(texts).astype(np.int64)
        return unit_rows(self.session.run(None, {self.input: tokens})[0])


def _text_encoder(data_dir: Path, folder: Path, spec: dict[str, Any]) -> Any:
    text = textnp.NumpyTextEncoder.open(data_dir, spec["model_id"])
    if text is not None:
        return text
    if spec.get("text") == "onnx":
        return OnnxText(folder / "text.onnx", int(spec["context_length"]), spec["model_id"])
    raise ModelUnavailable(f"the text tower of {spec['model_id']} has no export; embed again")


def _spec(folder: Path, model_id: str) -> dict[str, Any] | None:
    try:
        spec = json.loads((folder / "spec.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        return None
    return spec if spec.get("model_id") == model_id else None


def open_cached(choice: ModelChoice, data_dir: Path) -> OnnxEmbedder | None:
    """The verified export for this model, opened without torch; None when there is none."""
    folder = cache_dir(data_dir, choice.model_id)
    spec = _spec(folder, choice.model_id)
    image = folder / str(spec.get("image_file", "")) if spec else None
    if spec is None or image is None or not image.is_file():
        return None
    tower = None
    if spec.get("image_numpy") and spec.get("precision") == "fp32":
        from anagnorisis_tui.core.semantic import image_numpy

        # Checked against its hash; made again from the graph when missing or corrupt.
        tower = image_numpy.open_tower(folder) or _remake_tower(folder, spec, image)
    session = None if tower is not None else open_session(image)
    return OnnxEmbedder(choice, spec, folder, session, Path(data_dir), image_tower=tower)


def open_text(data_dir: Path, model_id: str) -> OnnxText | None:
    """The ONNX text tower alone (no image graph loaded), when the export has one."""
    folder = cache_dir(data_dir, model_id)
    spec = _spec(folder, model_id)
    if spec is None or spec.get("text") != "onnx" or not (folder / "text.onnx").is_file():
        return None
    return OnnxText(folder / "text.onnx", int(spec["context_length"]), model_id)


def _remake_tower(folder: Path, spec: dict[str, Any], graph: Path) -> Any:
    """Make the tower again from the fp32 graph beside it (its file was missing or corrupt):
    the graph's own vectors on the probe images are the reference; None when it does not
    agree (the caller keeps the session)."""
    from anagnorisis_tui.core.semantic import image_numpy
    from anagnorisis_tui.core.semantic import probe as probes

    if spec.get("pixels") != "normalised":
        return None  # only the hub's graphs (normalised input) are read out
    mean, std = np.asarray(spec["mean"]), np.asarray(spec["std"])
    probe = probes.probe_images(int(spec["image_size"]))
    try:
        session = open_session(graph)
        name = session.get_inputs()[0].name
        reference = unit_rows(session.run(None, {name: normalise_pixels(probe, mean, std)})[0])
    except Exception:  # noqa: BLE001 - a graph ONNX Runtime cannot open: no tower either
        return None
    del session  # never both in memory at once
    probes.release_memory()
    if not image_numpy.export(graph, folder, mean, std, probe, reference):
        return None
    return image_numpy.open_tower(folder)
