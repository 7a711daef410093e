"""The numpy text tower read out of an ONNX text graph: a cold text search without ONNX Runtime.

A text graph from the hub (onnx_ready.py) would otherwise be opened as an ONNX Runtime session
by every search: its 254 MB parsed and laid out again each time, most of a cold `search`. The
numpy tower (text_numpy.py) memory-maps one file and reads only the rows a query uses. Its
weights are found in the graph by the open_clip module each node was traced from - the node
names torch's exporter writes (`.../resblocks.3/mlp/c_fc/MatMul`) - following the Identity
nodes the exporter puts where two weights are equal; each is read from the file on its own
(quantise_stream.read_located). The result is published only when it agrees with the graph
itself on probe texts (text_numpy.publish); any other graph keeps the ONNX session.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from anagnorisis_tui.core.semantic import text_numpy as textnp
from anagnorisis_tui.core.semantic.quantise_stream import read_located

HEAD_WIDTHS = (64, 32, 128, 16, 80, 96)  # tried in turn: the graph does not name its heads
_BLOCK = re.compile(r"resblocks\.(\d+)/(.+)$")


def _find(graph: Any) -> tuple[dict[str, tuple[str, bool]], dict[str, Any]] | None:
    """{numpy weight name: (initializer, transposed)} and the spec's shape facts, or None
    when the graph is not open_clip's standard text tower."""
    alias = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "Identity"}
    made = {o for n in graph.node if n.op_type != "Identity" for o in n.output}
    made |= {i.name for i in graph.input}

    def constant(node: Any) -> str:  # the input of an Add that is a weight, not a result
        weights = [i for i in node.input if i not in made]
        return weights[0] if len(weights) == 1 else ""

    def source(name: str) -> str:
        while name in alias:
            name = alias[name]
        return name

    found: dict[str, tuple[str, bool]] = {}
    eps: set[float] = set()
    act: set[str] = set()
    blocks: set[int] = set()

    def take(key: str, name: str, transposed: bool = False) -> None:
        found[key] = (source(name), transposed)

    for node in graph.node:
        name = node.name
        match = _BLOCK.search(name)
        if match is None:
            if name.endswith("/token_embedding/Gather"):
                take("token_embedding", node.input[0])
            elif name.endswith("/ln_final/LayerNormalization"):
                take("ln_final.w", node.input[1])
                take("ln_final.b", node.input[2])
            elif re.search(r"(^|/)Add$", name) and not name.startswith("/transformer"):
                take("positional_embedding", constant(node))
            elif re.search(r"(^|/)MatMul$", name):
                take("text_projection", node.input[1])
            continue
        i, part = int(match.group(1)), match.group(2)
        p = f"blocks.{i}."
        blocks.add(i)
        if part in ("ln_1/LayerNormalization", "ln_2/LayerNormalization"):
            ln = part[:4]
            take(p + ln + ".w", node.input[1])
            take(p + ln + ".b", node.input[2])
            eps.update(a.f for a in node.attribute if a.name == "epsilon")
        elif part == "attn/MatMul":
            take(p + "in_proj.wT", node.input[1], transposed=True)
        elif part == "attn/Add":
            take(p + "in_proj.b", constant(node))
        elif part == "attn/Gemm":
            take(p + "out_proj.wT", node.input[1])
            take(p + "out_proj.b", node.input[2])
        elif part in ("mlp/c_fc/MatMul", "mlp/c_proj/MatMul"):
            take(p + part.split("/")[1] + ".wT", node.input[1], transposed=True)
        elif part in ("mlp/c_fc/Add", "mlp/c_proj/Add"):
            take(p + part.split("/")[1] + ".b", constant(node))
        elif part.startswith("mlp/gelu/"):
            act.add("gelu" if part.endswith("Erf") else "quick_gelu" if "Sigmoid" in part else "")
    act.discard("")
    layers = len(blocks)
    per_block: tuple[str, ...] = ("ln_1.w", "ln_1.b", "in_proj.wT", "in_proj.b")
    per_block += ("out_proj.wT", "out_proj.b")
    per_block += ("ln_2.w", "ln_2.b", "c_fc.wT", "c_fc.b", "c_proj.wT", "c_proj.b")
    needed = [f"blocks.{i}.{k}" for i in range(layers) for k in per_block]
    needed += ["token_embedding", "positional_embedding", "ln_final.w", "ln_final.b"]
    needed += ["text_projection"]
    if blocks != set(range(layers)) or len(act) != 1 or len(eps) > 1:
        return None
    if not layers or any(not found.get(k, ("", False))[0] for k in needed):
        return None
    facts = {"layers": layers, "act": act.pop(), "eps": eps.pop() if eps else 1e-5}
    return {k: found[k] for k in needed}, facts


def export(
    graph_path: Path,
    data_dir: Path,
    model_id: str,
    context_length: int,
    reference: Callable[[list[str]], np.ndarray],
) -> bool:
    """Publish the numpy text tower of `model_id` read out of its ONNX text graph; False (and
    nothing published) for a graph of another shape or one numpy does not agree with."""
    read = read_located(graph_path, _find)
    if read is None:
        return False
    weights, facts = read  # numpy names `.wT` for weights given as (out, in), as torch holds them
    order = ["token_embedding", "positional_embedding", "ln_final.w", "ln_final.b"]
    order += ["text_projection"] + [k for k in weights if k.startswith("blocks.")]
    width = int(weights["ln_final.w"].shape[0])
    spec: dict[str, Any] = {
        "format": textnp.FORMAT,
        "model_id": model_id,
        "layers": facts["layers"],
        "eps": facts["eps"],
        "act": facts["act"],
        "context_length": context_length,
    }
    heads = _heads(width, spec, weights, reference)
    if heads is None:
        return False
    spec["heads"] = heads
    return textnp.publish(data_dir, spec, {k: weights[k] for k in order}, reference)


def _heads(
    width: int,
    spec: dict[str, Any],
    weights: dict[str, np.ndarray],
    reference: Callable[[list[str]], np.ndarray],
) -> int | None:
    """The number of attention heads: the one whose numpy tower agrees with the graph (the
    graph says it only inside its reshapes)."""
    want = reference(textnp.PROBES)
    held = {k: v.T if k.endswith(".wT") else v for k, v in weights.items()}  # as numpy reads
    for head_width in HEAD_WIDTHS:
        if width % head_width:
            continue
        tower = textnp.NumpyTextEncoder({**spec, "heads": width // head_width}, held)
        if float((tower.encode_texts(textnp.PROBES) * want).sum(1).min()) >= textnp.MIN_AGREEMENT:
            return width // head_width
    return None
