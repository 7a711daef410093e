"""The shipped tiny CLIP's towers as ONNX graphs made the way rclip's scripts/convert_model.py
makes its own (fp32, opset 18, dynamo=False, input "input", output "output")."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.rclip_models import export_towers


def export_rclip_style(embedder: Any, folder: Path) -> Path:
    """visual.onnx and textual.onnx of a loaded torch embedder, written into `folder`."""
    tokens = embedder.tokenizer(["a photo", "probe"])
    return export_towers(embedder.model, embedder.image_size, tokens, folder)


def tiny_ready_graphs(embedder: Any, repo: str) -> Any:
    """The hub's ready-graphs entry (onnx_ready.ReadyGraphs) for the tiny model's graphs as
    `export_rclip_style` writes them, served under `repo` as tiny/visual.onnx and tiny/textual.onnx."""
    from anagnorisis_tui.core.semantic import onnx_ready

    return onnx_ready.ReadyGraphs(
        repo=repo,
        image_file="tiny/visual.onnx",
        text_file="tiny/textual.onnx",
        image_size=embedder.image_size,
        dim=embedder.dim,
        resize_mode=embedder.resize_mode,
        mean=tuple(embedder.mean),
        std=tuple(embedder.std),
        context_length=int(embedder.tokenizer.context_length),
    )


@contextmanager
def tiny_graphs_hub(
    graphs: Path, embedder: Any, repo: str, monkeypatch: Any, home: Path
) -> Iterator[Any]:
    """A local hub serving the tiny model's graphs (`graphs`: export_rclip_style's folder) as the
    default model's ready graphs, with the environment pointed at it (HF_HOME under `home`)."""
    from anagnorisis_tui.core.semantic import onnx_ready
    from tests.support.hubserver import LocalHub

    with LocalHub() as server:
        server.files.add(repo, "tiny/visual.onnx", graphs / "visual.onnx")
        server.files.add(repo, "tiny/textual.onnx", graphs / "textual.onnx")
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.setenv("HF_HOME", str(home / "hf"))
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        monkeypatch.setitem(onnx_ready.READY, embedder.model_id, tiny_ready_graphs(embedder, repo))
        yield server
