"""The image tower in numpy, read out of an fp32 ONNX image graph: the same vectors, less CPU.

On a CPU without AVX-512 the image tower is nine tenths matrix products (ONNX Runtime's own
profile of the default model: MatMul and Gemm 89 % of its time), and ONNX Runtime's SGEMM reaches
about two thirds of the rate numpy's OpenBLAS does on the same shapes here (BENCHMARKS.md, "The
image tower in numpy"). So where a model's fp32 graph is open_clip's standard vision transformer,
its weights are read out of the graph once, when the model is prepared (the names torch's
exporter writes, `.../visual/transformer/resblocks.3/mlp/c_fc/MatMul`, as text_onnx.py does for
the text tower), written as one float32 file beside it, and used instead of the session:

- the pixel normalisation is folded into the patch embedding (uint8 pixels in, no float copy of
  the batch), the patch embedding is one product over the patches as they lie in memory;
- the MLP runs in row blocks with the GELU between its two products, so the 3072-wide
  activations stay in cache;
- a batch is split between worker threads, one BLAS thread each (numpy and OpenBLAS let go of
  the GIL), which keeps every core on the products without BLAS threads spinning between them.

The file is published (0600, its SHA-256 in `image_numpy.json`, written last) only when its
vectors agree with the graph's on probe images (cosine >= MIN_AGREEMENT); it is checked against
that hash each time it is opened, and a missing or corrupt one is made again from the graph
beside it (onnx_models.open_cached). A graph of any other shape keeps the ONNX Runtime session.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from anagnorisis_tui.core.semantic.quantise_stream import read_located

FORMAT = 1
MIN_AGREEMENT = 0.9999
FILE, SPEC = "image.npy", "image_numpy.json"
HEAD_WIDTHS = (64, 32, 128, 16, 80, 96)  # tried in turn: the graph does not name its heads
MLP_ROWS = 128  # rows of the MLP done at once: 128 x 3072 float32 activations stay in cache
_BLOCK = re.compile(r"visual/transformer/resblocks\.(\d+)/(.+)$")
_PER_BLOCK: tuple[str, ...] = ("ln_1.w", "ln_1.b", "in_proj.w", "in_proj.b", "out_proj.w")
_PER_BLOCK += ("out_proj.b", "ln_2.w", "ln_2.b", "c_fc.w", "c_fc.b", "c_proj.w", "c_proj.b")


def _attr(node: Any, name: str, default: Any = None) -> Any:
    import onnx

    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _find(graph: Any) -> tuple[dict[str, tuple[str, bool]], dict[str, Any]] | None:
    """{weight: (initializer, transposed)} and shape facts of open_clip's vision transformer
    (class token pooling, GELU MLP, no bias on the patch embedding), or None."""
    alias = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "Identity"}
    made = {o for n in graph.node if n.op_type != "Identity" for o in n.output}
    made |= {i.name for i in graph.input}

    def source(name: str) -> str:
        while name in alias:
            name = alias[name]
        return name

    def constant(node: Any) -> str:
        weights = [i for i in node.input if source(i) not in made and i not in made]
        return source(weights[0]) if len(weights) == 1 else ""

    found: dict[str, tuple[str, bool]] = {}
    eps: set[float] = set()
    act: set[str] = set()
    blocks: set[int] = set()
    patch = 0
    for node in graph.node:
        name, op = node.name, node.op_type
        match = _BLOCK.search(name)
        if match is None:
            if name.endswith("visual/conv1/Conv") and len(node.input) == 2:
                kernel = list(_attr(node, "kernel_shape", []) or [])
                strides = list(_attr(node, "strides", []) or [])
                pads = list(_attr(node, "pads", [0, 0, 0, 0]) or [0, 0, 0, 0])
                if len(set(kernel)) != 1 or strides != kernel or any(pads):
                    return None
                if (_attr(node, "group", 1) or 1) != 1:
                    return None
                patch = int(kernel[0])
                found["conv"] = (source(node.input[1]), False)
            elif name.endswith("visual/Expand"):
                found["class"] = (constant(node), False)
            elif name.endswith("visual/Add"):
                found["position"] = (constant(node), False)
            elif op == "LayerNormalization" and ("ln_pre/" in name or "ln_post/" in name):
                key = "ln_pre" if "ln_pre/" in name else "ln_post"
                found[key + ".w"] = (source(node.input[1]), False)
                found[key + ".b"] = (source(node.input[2]), False)
                eps.add(float(_attr(node, "epsilon", 1e-5)))
            elif name.endswith("visual/MatMul"):
                found["proj"] = (source(node.input[1]), False)
            continue
        i, part = int(match.group(1)), match.group(2)
        p = f"blocks.{i}."
        blocks.add(i)
        if part in ("ln_1/LayerNormalization", "ln_2/LayerNormalization"):
            found[p + part[:4] + ".w"] = (source(node.input[1]), False)
            found[p + part[:4] + ".b"] = (source(node.input[2]), False)
            eps.add(float(_attr(node, "epsilon", 1e-5)))
        elif part == "attn/MatMul":
            found[p + "in_proj.w"] = (source(node.input[1]), False)
        elif part == "attn/Add":
            found[p + "in_proj.b"] = (constant(node), False)
        elif part == "attn/Gemm":
            if _attr(node, "transA", 0) or _attr(node, "alpha", 1.0) != 1.0:
                return None
            found[p + "out_proj.w"] = (source(node.input[1]), bool(_attr(node, "transB", 0)))
            found[p + "out_proj.b"] = (source(node.input[2]), False)
        elif part in ("mlp/c_fc/MatMul", "mlp/c_proj/MatMul"):
            found[p + part.split("/")[1] + ".w"] = (source(node.input[1]), False)
        elif part in ("mlp/c_fc/Add", "mlp/c_proj/Add"):
            found[p + part.split("/")[1] + ".b"] = (constant(node), False)
        elif part.startswith("mlp/gelu/"):
            act.add("gelu" if op == "Erf" else "other" if op in ("Sigmoid", "Tanh") else "")
    act.discard("")
    layers = len(blocks)
    needed = [f"blocks.{i}.{k}" for i in range(layers) for k in _PER_BLOCK]
    needed += ["conv", "class", "position", "ln_pre.w", "ln_pre.b", "ln_post.w", "ln_post.b"]
    needed += ["proj"]
    if not layers or blocks != set(range(layers)) or act != {"gelu"} or len(eps) != 1:
        return None
    if not patch or any(not found.get(k, ("", False))[0] for k in needed):
        return None
    return {k: found[k] for k in needed}, {"layers": layers, "eps": eps.pop(), "patch": patch}


def _read(graph_path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    read = read_located(graph_path, _find)
    if read is None:
        return None
    weights, facts = read
    return {k: np.asarray(v, np.float32) for k, v in weights.items()}, facts


def _fold(
    weights: dict[str, np.ndarray], patch: int, mean: np.ndarray, std: np.ndarray
) -> dict[str, np.ndarray]:
    """The patch embedding on uint8 pixels as they lie (H, W, C), the normalisation
    (x / 255 - mean) / std folded into its weight and bias; the class token with its position."""
    conv = weights.pop("conv").astype(np.float64)  # (width, 3, p, p)
    scale = 1.0 / (255.0 * np.asarray(std, np.float64))
    shift = np.asarray(mean, np.float64) / np.asarray(std, np.float64)
    width = conv.shape[0]
    w = (conv * scale[None, :, None, None]).transpose(2, 3, 1, 0).reshape(-1, width)
    bias = -(conv * shift[None, :, None, None]).sum(axis=(1, 2, 3))
    position = weights.pop("position")
    return {
        "patch.w": w.astype(np.float32),
        "first": (weights.pop("class").reshape(-1) + position[0]).astype(np.float32),
        "position": (position[1:] + bias).astype(np.float32),
        **weights,
    }


def _write(folder: Path, weights: dict[str, np.ndarray], spec: dict[str, Any]) -> None:
    """image.npy (0600) then image_numpy.json with its SHA-256, each via a temporary."""
    layout, offset = {}, 0
    for name, value in weights.items():
        layout[name] = [offset, list(value.shape)]
        offset += int(value.size)
    tmp = folder / f".{FILE}.tmp"
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), 0o600)  # private to its user, whatever the umask
        header = {"descr": "<f4", "fortran_order": False, "shape": (offset,)}
        np.lib.format.write_array_header_1_0(f, header)
        for value in weights.values():  # one weight at a time: never a second full copy
            f.write(np.ascontiguousarray(value, dtype="<f4").tobytes())
    os.replace(tmp, folder / FILE)
    path = folder / FILE
    text = json.dumps(
        {**spec, "bytes": path.stat().st_size, "sha256": _sha256(path), "layout": layout}
    )
    meta = folder / f".{SPEC}.tmp"
    meta.unlink(missing_ok=True)
    fd = os.open(meta, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(text)
    os.replace(meta, folder / SPEC)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def export(
    graph_path: Path,
    folder: Path,
    mean: Any,
    std: Any,
    probe: np.ndarray,
    reference: np.ndarray,
) -> bool:
    """Publish the numpy tower of the fp32 image graph at `graph_path` in `folder`: True only
    when its vectors on `probe` (uint8 (N, S, S, 3)) agree with `reference` (the graph's unit
    vectors for them); else nothing is left behind."""
    discard(folder)
    read = _read(graph_path)
    if read is None:
        return False
    weights, facts = read
    size = int(probe.shape[1])
    grid, rest = divmod(size, int(facts["patch"]))
    if rest or weights["position"].shape[0] != grid * grid + 1:
        return False
    weights = _fold(weights, int(facts["patch"]), np.asarray(mean), np.asarray(std))
    spec: dict[str, Any] = {"format": FORMAT, **facts, "image_size": size}
    for head_width in HEAD_WIDTHS:  # the head count: the one whose vectors agree
        width = int(weights["ln_pre.w"].shape[0])
        if width % head_width:
            continue
        tower = NumpyImageTower({**spec, "heads": width // head_width}, weights, threads=1)
        if _agreement(tower.encode_images(probe), reference) >= MIN_AGREEMENT:
            spec["heads"] = width // head_width
            break
    else:
        return False
    try:
        _write(folder, weights, spec)
    except OSError:
        discard(folder)
        return False
    del weights, tower  # the file is read back by itself: never both in memory
    tower_read = open_tower(folder)  # what was written, read back, agrees as well
    if tower_read is None or _agreement(tower_read.encode_images(probe), reference) < MIN_AGREEMENT:
        discard(folder)
        return False
    return True


def _agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float((np.asarray(a) * np.asarray(b)).sum(axis=1).min())


def discard(folder: Path) -> None:
    for name in (SPEC, FILE, f".{SPEC}.tmp", f".{FILE}.tmp"):
        (folder / name).unlink(missing_ok=True)


def open_tower(folder: Path) -> NumpyImageTower | None:
    """The published tower in `folder`, its file checked against its SHA-256; None when it is
    missing, corrupt or of another format."""
    try:
        spec = json.loads((folder / SPEC).read_text("utf-8"))
        if not isinstance(spec, dict) or spec.get("format") != FORMAT:
            return None
        path = folder / FILE
        if path.stat().st_size != spec["bytes"] or _sha256(path) != spec["sha256"]:
            return None
        flat = np.load(path, mmap_mode="r", allow_pickle=False)
        weights = {
            name: flat[off : off + int(np.prod(shape))].reshape(shape)
            for name, (off, shape) in spec["layout"].items()
        }
        return NumpyImageTower(spec, weights)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(axis=-1, keepdims=True)
    out = x - mu
    var = np.einsum("ij,ij->i", out, out)[:, None] / np.float32(x.shape[-1])
    out *= 1.0 / np.sqrt(var + np.float32(eps))
    out *= w
    out += b
    return np.asarray(out)


_ERF = [np.float32(c) for c in (1.061405429, -1.453152027, 1.421413741, -0.284496736)]


def _gelu(h: np.ndarray, t: np.ndarray, a: np.ndarray) -> None:
    """h <- h * Phi(h) in place (exact GELU; erf by Abramowitz & Stegun 7.1.26, |error| <
    1.5e-7); t and a are scratch of h's shape."""
    np.multiply(h, np.float32(0.7071067811865476), out=a)
    np.abs(a, out=a)
    np.multiply(a, np.float32(0.3275911), out=t)
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)  # exp(-z^2)
    s = t * _ERF[0]
    for c in _ERF[1:]:
        s += c
        s *= t
    s += np.float32(0.254829592)
    s *= t
    s *= a  # 1 - erf(|z|)
    s *= np.float32(-0.5)
    s += np.float32(0.5)
    np.copysign(s, h, out=s)
    s += np.float32(0.5)  # Phi(h) = (1 + erf(h / sqrt 2)) / 2
    h *= s


class NumpyImageTower:
    """uint8 (N, S, S, 3) pixels in, unit vectors out: the image graph's forward in numpy."""

    def __init__(
        self, spec: dict[str, Any], weights: dict[str, np.ndarray], threads: int | None = None
    ) -> None:
        self.spec = spec
        self.w = weights
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        self.threads = max(1, min(8, threads or cpus or 1))
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def encode_images(self, batch: np.ndarray) -> np.ndarray:
        pixels = np.ascontiguousarray(batch, dtype=np.uint8)
        from threadpoolctl import threadpool_limits

        parts = min(self.threads, max(1, len(pixels) // 2))
        with self._lock, threadpool_limits(1, user_api="blas"):
            if parts == 1:
                return self._forward(pixels)
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="image-tower")
            chunks = np.array_split(pixels, parts)
            return np.concatenate(list(self._pool.map(self._forward, chunks)))

    def _forward(self, pixels: np.ndarray) -> np.ndarray:
        w, spec = self.w, self.spec
        n, size = pixels.shape[0], pixels.shape[1]
        p = int(spec["patch"])
        g = size // p
        heads, eps = int(spec["heads"]), float(spec["eps"])
        d = int(w["ln_pre.w"].shape[0])
        hd, tokens = d // heads, g * g + 1
        patches = pixels.reshape(n, g, p, g, p, 3).transpose(0, 1, 3, 2, 4, 5)
        embedded = (
            patches.reshape(n * g * g, p * p * 3).astype(np.float32) @ w["patch.w"]
        ).reshape(n, g * g, d)
        embedded += w["position"]
        x = np.empty((n, tokens, d), np.float32)
        x[:, 0] = w["first"]
        x[:, 1:] = embedded
        x = _layer_norm(x.reshape(n * tokens, d), w["ln_pre.w"], w["ln_pre.b"], eps)
        rows = min(MLP_ROWS, n * tokens)
        wide = int(w["blocks.0.c_fc.w"].shape[1])
        t, a = np.empty((rows, wide), np.float32), np.empty((rows, wide), np.float32)
        scale = np.float32(1.0 / np.sqrt(hd))
        for i in range(int(spec["layers"])):
            b = f"blocks.{i}."
            h = _layer_norm(x, w[b + "ln_1.w"], w[b + "ln_1.b"], eps)
            qkv = h @ w[b + "in_proj.w"]
            qkv += w[b + "in_proj.b"]
            q, k, v = qkv.reshape(n, tokens, 3, heads, hd).transpose(2, 0, 3, 1, 4)
            att = (q * scale) @ k.transpose(0, 1, 3, 2)
            att -= att.max(axis=-1, keepdims=True)
            np.exp(att, out=att)
            att /= att.sum(axis=-1, keepdims=True)
            o = (att @ v).transpose(0, 2, 1, 3).reshape(n * tokens, d)
            y = o @ w[b + "out_proj.w"]
            y += w[b + "out_proj.b"]
            x += y
            h = _layer_norm(x, w[b + "ln_2.w"], w[b + "ln_2.b"], eps)
            for r in range(0, n * tokens, rows):
                m = h[r : r + rows] @ w[b + "c_fc.w"]
                m += w[b + "c_fc.b"]
                _gelu(m, t[: len(m)], a[: len(m)])
                y = m @ w[b + "c_proj.w"]
                y += w[b + "c_proj.b"]
                x[r : r + rows] += y
        first = np.ascontiguousarray(x.reshape(n, tokens, d)[:, 0])
        feats = _layer_norm(first, w["ln_post.w"], w["ln_post.b"], eps) @ w["proj"]
        norms = np.linalg.norm(feats, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return np.asarray(feats / norms, dtype=np.float32)
