"""Random ViT-B-32-256 weights as both apps fetch them from the hub, for side-by-side benches.

`make(folder)` writes, from one seeded random open_clip model:
  open_clip_model.safetensors                       what open_clip's tag loads (torch path)
  ViT-B-32-256-datacomp_s34b_b86k/visual.onnx      ) as rclip's scripts/convert_model.py makes
  ViT-B-32-256-datacomp_s34b_b86k/textual.onnx     ) them: fp32, opset 18, dynamo=False,
  tokenizer/bpe_simple_vocab_16e6.txt.gz           ) input "input", output "output"
`serve(folder)` starts a tests/support/hubserver.py hub with them under the real repo names
(the weights under open_clip's repo for the tag, the rest under rclip's models repo), with the
hub's JSON API on, as rclip asks it first.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.hubserver import LocalHub  # noqa: E402

RCLIP_REPO = "yurijmikhalevich/rclip-models"
SUBDIR = "ViT-B-32-256-datacomp_s34b_b86k"
WEIGHTS_REPO = "laion/CLIP-ViT-B-32-256x256-DataComp-s34B-b86K"
FILES = (
    f"{SUBDIR}/visual.onnx",
    f"{SUBDIR}/textual.onnx",
    "tokenizer/bpe_simple_vocab_16e6.txt.gz",
)


def make(folder: Path, seed: int = 0) -> None:
    """Write the files (once: an existing folder with all of them is kept)."""
    if all((folder / f).is_file() for f in (*FILES, "open_clip_model.safetensors")):
        return
    import torch
    from safetensors.torch import save_file

    from anagnorisis_tui.core.semantic.engine import _open_clip, _quiet

    open_clip = _open_clip()
    torch.manual_seed(seed)
    with _quiet():
        model = open_clip.create_model("ViT-B-32-256", pretrained=None).eval()
    (folder / SUBDIR).mkdir(parents=True, exist_ok=True)
    (folder / "tokenizer").mkdir(exist_ok=True)
    save_file(
        {k: v.contiguous() for k, v in model.state_dict().items()},
        str(folder / "open_clip_model.safetensors"),
    )

    tokens = open_clip.get_tokenizer("ViT-B-32-256")(["a photo", "probe"])
    export_towers(model, 256, tokens, folder / SUBDIR)
    vocab = Path(open_clip.__file__).parent / "bpe_simple_vocab_16e6.txt.gz"
    shutil.copy(vocab, folder / "tokenizer" / "bpe_simple_vocab_16e6.txt.gz")


def export_towers(model: Any, image_size: int, tokens: Any, folder: Path) -> Path:
    """visual.onnx and textual.onnx of an open_clip `model` in `folder`, as rclip's
    scripts/convert_model.py makes them (fp32, opset 18, dynamo=False, input "input", output
    "output"); a graph already there (an earlier run from the same seed) is kept."""
    import torch

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

    with torch.inference_mode(False), torch.enable_grad():
        for module, sample, name in (
            (Visual(), torch.randn(2, 3, image_size, image_size), "visual.onnx"),
            (Textual(), tokens, "textual.onnx"),
        ):
            if (folder / name).is_file():
                continue
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


def serve(folder: Path) -> LocalHub:
    """A local hub (use as `with serve(folder) as hub:`; `hub.endpoint` for HF_ENDPOINT)."""
    hub = LocalHub()
    hub.files.api = True
    for name in FILES:
        hub.files.add(RCLIP_REPO, name, folder / name)
    weights = folder / "open_clip_model.safetensors"
    hub.files.add(WEIGHTS_REPO, "open_clip_model.safetensors", weights)
    return hub


if __name__ == "__main__":
    make(Path(sys.argv[1]))
