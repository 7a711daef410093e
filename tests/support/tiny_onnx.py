"""The shipped tiny CLIP's towers as ONNX graphs made the way rclip's scripts/convert_model.py
makes its own (fp32, opset 18, dynamo=False, input "input", output "output")."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def export_rclip_style(embedder: Any, folder: Path) -> Path:
    """visual.onnx and textual.onnx of a loaded torch embedder, written into `folder`."""
    import torch

    model = embedder.model

    class Visual(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model  # registered: its weights are parameters, not constants

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.model.encode_image(x)

    class Textual(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model  # registered: its weights are parameters, not constants

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.model.encode_text(x)

    size = embedder.image_size
    samples = (
        (Visual(), torch.randn(2, 3, size, size), "visual.onnx"),
        (Textual(), embedder.tokenizer(["a photo", "probe"]), "textual.onnx"),
    )
    with torch.inference_mode(False), torch.enable_grad():
        for module, sample, name in samples:
            torch.onnx.export(
                module.eval(),
                (sample,),
                str(folder / name),
                input_names=["input"],
                output_names=["output"],
                dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                opset_version=18,
                dynamo=False,
            )
    return folder
