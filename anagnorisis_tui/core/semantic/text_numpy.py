"""A CLIP text encoder in numpy, so a text search never has to import torch.

Importing torch and open_clip is most of a cold `anagnorisis-tui search` (seconds on a NAS);
encoding one query is a few milliseconds of matrix products. So the first time a model is
loaded with torch, its text tower is exported (one float32 .npy, memory-mapped, under the data dir) and
checked: the numpy forward must agree with torch on probe texts (cosine >= MIN_AGREEMENT), or
no export is written. Later searches load the export with numpy alone.

Supported: open_clip `CLIP` models with the standard text transformer (nn.MultiheadAttention,
GELU or QuickGELU, argmax pooling) - the ViT-*, RN* and most LAION/OpenAI checkpoints. Others
keep using torch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from anagnorisis_tui.core.semantic.model_choice import index_name

FORMAT = 1
MIN_AGREEMENT = 0.9995
PROBES = ["a photo of a dog", "red circle", "beach at sunset -people", "x" * 300]


def export_dir(data_dir: Path, model_id: str) -> Path:
    return Path(data_dir) / "models" / "text" / index_name(model_id)


def available(data_dir: Path, model_id: str) -> bool:
    try:
        spec = json.loads((export_dir(data_dir, model_id) / "spec.json").read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return bool(spec.get("format") == FORMAT and spec.get("model_id") == model_id)


def _ln(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return np.asarray((x - mu) / np.sqrt(var + eps) * w + b)


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): numpy has no erf and scipy costs an import.
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return np.asarray(s * (1.0 - poly * np.exp(-a * a)))


class NumpyTextEncoder:
    def __init__(
        self, spec: dict[str, Any], weights: dict[str, np.ndarray], folder: Path | None = None
    ) -> None:
        from anagnorisis_tui.core.semantic.bpe import BPETokenizer

        self.spec = spec
        self.model_id = spec["model_id"]
        self.w = weights
        cache = folder / "bpe.cache" if folder is not None else None
        self.tokenizer = BPETokenizer(context_length=int(spec["context_length"]), cache=cache)

    @classmethod
    def open(cls, data_dir: Path, model_id: str) -> NumpyTextEncoder | None:
        """The verified export for this model, or None (then torch is needed)."""
        return cls._open_folder(export_dir(data_dir, model_id), model_id, verified=True)

    @classmethod
    def _open_folder(
        cls, folder: Path, model_id: str, *, verified: bool
    ) -> NumpyTextEncoder | None:
        try:
            spec = json.loads(
                (folder / ("spec.json" if verified else "spec.json.tmp")).read_text("utf-8")
            )
            if spec.get("format") != FORMAT or spec.get("model_id") != model_id:
                return None
            # One float32 file, memory-mapped: weights are views, no copy, no conversion; only
            # the token-embedding rows a query uses are ever read from disk.
            flat = np.load(folder / "text.npy", mmap_mode="r", allow_pickle=False)
            weights = {
                name: flat[off : off + int(np.prod(shape))].reshape(shape)
                for name, (off, shape) in spec["layout"].items()
            }
            return cls(spec, weights, folder)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        tokens = self.tokenizer(texts)
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            return self.encode_tokens(tokens)
        # Small products: one BLAS thread is faster, and far faster on a busy machine where
        # waking idle BLAS threads costs milliseconds per call.
        with threadpool_limits(1, user_api="blas"):
            return self.encode_tokens(tokens)

    def encode_tokens(self, tokens: np.ndarray, *, full: bool = False) -> np.ndarray:
        """Unit text vectors. The tower is causal and pools at the end-of-text token, so only
        the positions up to the last one are computed (`full`: all of them, as open_clip does;
        tests/embed/test_textnp.py checks the two agree)."""
        w, spec = self.w, self.spec
        eot = tokens.argmax(axis=1)  # the end-of-text id is the largest id: open_clip's argmax pool
        # causal attention: later positions cannot change these
        length = tokens.shape[1] if full else int(eot.max()) + 1
        tokens = tokens[:, :length]
        x = w["token_embedding"][tokens] + w["positional_embedding"][:length]
        heads, eps = int(spec["heads"]), float(spec["eps"])
        n, _, d = x.shape
        hd = d // heads
        mask = np.triu(np.full((length, length), -np.inf, dtype=np.float32), 1)
        quick = spec["act"] == "quick_gelu"
        for i in range(int(spec["layers"])):
            p = f"blocks.{i}."
            h = _ln(x, w[p + "ln_1.w"], w[p + "ln_1.b"], eps)
            qkv = h @ w[p + "in_proj.wT"] + w[p + "in_proj.b"]
            q, k, v = (
                qkv[..., j * d : (j + 1) * d].reshape(n, length, heads, hd).transpose(0, 2, 1, 3)
                for j in range(3)
            )
            att = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd) + mask
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            o = (att @ v).transpose(0, 2, 1, 3).reshape(n, length, d)
            x = x + o @ w[p + "out_proj.wT"] + w[p + "out_proj.b"]
            h = _ln(x, w[p + "ln_2.w"], w[p + "ln_2.b"], eps)
            h = h @ w[p + "c_fc.wT"] + w[p + "c_fc.b"]
            if quick:
                h = h / (1.0 + np.exp(-1.702 * h))
            else:
                h = 0.5 * h * (1.0 + _erf(h / np.sqrt(2.0)))
            x = x + h @ w[p + "c_proj.wT"] + w[p + "c_proj.b"]
        x = _ln(x, w["ln_final.w"], w["ln_final.b"], eps)
        feats = x[np.arange(n), eot] @ w["text_projection"]
        norms = np.linalg.norm(feats, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return np.asarray((feats / norms).astype(np.float32))


def export(embedder: Any, data_dir: Path) -> bool:
    """Write and verify the numpy export of a loaded (torch) embedder; False if unsupported."""
    import torch

    from anagnorisis_tui.core.semantic.torch_compat import import_open_clip

    open_clip = import_open_clip()
    model = embedder.model
    if type(model) is not open_clip.model.CLIP or getattr(model, "text_pool_type", "") != "argmax":
        return False
    if not isinstance(embedder.tokenizer, open_clip.tokenizer.SimpleTokenizer):
        return False
    blocks = model.transformer.resblocks
    first = blocks[0]
    if not isinstance(first.attn, torch.nn.MultiheadAttention) or hasattr(first, "ln_1_kv"):
        return False
    if not all(
        isinstance(getattr(b, n), torch.nn.Identity) for b in blocks for n in ("ls_1", "ls_2")
    ):
        return False
    act = type(first.mlp.gelu).__name__
    if act not in ("GELU", "QuickGELU") or getattr(first.mlp.gelu, "approximate", "none") != "none":
        return False

    def arr(t: Any) -> np.ndarray:
        return np.asarray(t.detach().float().cpu().numpy())

    weights = {
        "token_embedding": arr(model.token_embedding.weight),
        "positional_embedding": arr(model.positional_embedding),
        "ln_final.w": arr(model.ln_final.weight),
        "ln_final.b": arr(model.ln_final.bias),
        "text_projection": arr(model.text_projection),
    }
    for i, b in enumerate(blocks):
        p = f"blocks.{i}."
        weights |= {
            p + "ln_1.w": arr(b.ln_1.weight),
            p + "ln_1.b": arr(b.ln_1.bias),
            p + "in_proj.wT": arr(b.attn.in_proj_weight),
            p + "in_proj.b": arr(b.attn.in_proj_bias),
            p + "out_proj.wT": arr(b.attn.out_proj.weight),
            p + "out_proj.b": arr(b.attn.out_proj.bias),
            p + "ln_2.w": arr(b.ln_2.weight),
            p + "ln_2.b": arr(b.ln_2.bias),
            p + "c_fc.wT": arr(b.mlp.c_fc.weight),
            p + "c_fc.b": arr(b.mlp.c_fc.bias),
            p + "c_proj.wT": arr(b.mlp.c_proj.weight),
            p + "c_proj.b": arr(b.mlp.c_proj.bias),
        }
    spec = {
        "format": FORMAT,
        "model_id": embedder.model_id,
        "layers": len(blocks),
        "heads": first.attn.num_heads,
        "eps": first.ln_1.eps,
        "act": "quick_gelu" if act == "QuickGELU" else "gelu",
        "context_length": embedder.tokenizer.context_length,
    }
    return publish(data_dir, spec, weights, embedder.encode_texts)


def publish(
    data_dir: Path,
    spec: dict[str, Any],
    weights: dict[str, np.ndarray],
    reference: Callable[[list[str]], np.ndarray],
) -> bool:
    """Write the export (weights named as `encode_tokens` reads them, `.wT` ones given as
    (out, in) and stored transposed) and publish it only when it agrees with `reference` (the
    torch model, or the ONNX text graph it was read from) on the probe texts."""
    model_id = str(spec["model_id"])
    folder = export_dir(data_dir, model_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "spec.json").unlink(missing_ok=True)
    layout, offset = {}, 0
    for name, value in weights.items():
        layout[name] = (offset, list(value.shape[::-1] if name.endswith(".wT") else value.shape))
        offset += value.size
    spec = {**spec, "layout": layout}
    tmp = folder / "text.tmp.npy"
    with open(tmp, "wb") as f:  # one part at a time: never a second copy of every weight
        header = {"descr": "<f4", "fortran_order": False, "shape": (offset,)}
        np.lib.format.write_array_header_1_0(f, header)
        for name, value in weights.items():
            if name.endswith(".wT"):
                value = value.T  # stored transposed: x @ Wt reads it contiguously
            f.write(np.ascontiguousarray(value, dtype="<f4").tobytes())
    os.replace(tmp, folder / "text.npy")
    (folder / "spec.json.tmp").write_text(json.dumps(spec), "utf-8")
    # Verify before publishing: spec.json exists only when numpy agrees with the reference.
    probe = NumpyTextEncoder._open_folder(folder, model_id, verified=False)
    if probe is None:
        return False
    agreement = float((probe.encode_texts(PROBES) * reference(PROBES)).sum(1).min())
    if agreement < MIN_AGREEMENT:
        return False
    os.replace(folder / "spec.json.tmp", folder / "spec.json")
    return True
