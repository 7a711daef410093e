"""The shipped tiny CLIP's towers as ONNX graphs made the way rclip's scripts/convert_model.py
makes its own (fp32, opset 18, dynamo=False, input "input", output "output")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.rclip_models import export_towers


def export_rclip_style(embedder: Any, folder: Path) -> Path:
    """visual.onnx and textual.onnx of a loaded torch embedder, written into `folder`."""
    tokens = embedder.tokenizer(["a photo", "probe"])
    return export_towers(embedder.model, embedder.image_size, tokens, folder)
