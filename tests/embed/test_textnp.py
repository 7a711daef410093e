"""The torch-free text path: BPE port == open_clip's tokenizer; numpy text tower == torch."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from anagnorisis_tui.core.semantic import bpe
from anagnorisis_tui.core.semantic import text_numpy as textnp

pytestmark = pytest.mark.slow


TEXTS = [
    "a Red circle!!",
    'naïve café, 123 — "quoted" &amp; html',
    "x" * 300,
    "",
    "日本語のテキスト and emoji 🐶",
    "beach sunset -people 2:golden",
]


def test_bpe_port_matches_open_clip(tiny_embedder):
    ours = bpe.BPETokenizer(context_length=77)(TEXTS)
    theirs = tiny_embedder.tokenizer(TEXTS, context_length=77).numpy()
    np.testing.assert_array_equal(ours, theirs)


def test_numpy_text_tower_matches_torch(tiny_embedder, tmp_path):
    assert textnp.export(tiny_embedder, tmp_path)
    assert textnp.available(tmp_path, tiny_embedder.model_id)
    enc = textnp.NumpyTextEncoder.open(tmp_path, tiny_embedder.model_id)
    cos = (enc.encode_texts(TEXTS) * tiny_embedder.encode_texts(TEXTS)).sum(1)
    assert cos.min() > 0.9995
    assert textnp.NumpyTextEncoder.open(tmp_path, "another/model") is None


def test_quick_gelu_towers_export_too(tiny_embedder, tmp_path):
    import torch

    from anagnorisis_tui.core.semantic.torch_compat import import_open_clip

    open_clip = import_open_clip()
    cfg = {
        "embed_dim": 32,
        "quick_gelu": True,
        "vision_cfg": {
            "image_size": 32,
            "layers": 1,
            "width": 32,
            "patch_size": 16,
            "head_width": 16,
        },
        "text_cfg": {
            "context_length": 20,
            "vocab_size": 49408,
            "width": 32,
            "heads": 2,
            "layers": 2,
        },
    }
    torch.manual_seed(0)
    model = open_clip.model.CLIP(**cfg).eval()
    choice = dataclasses.replace(tiny_embedder.choice, model_id="quick/test")
    emb = dataclasses.replace(
        tiny_embedder,
        choice=choice,
        model=model,
        tokenizer=open_clip.tokenizer.SimpleTokenizer(context_length=20),
    )
    assert textnp.export(emb, tmp_path)
    enc = textnp.NumpyTextEncoder.open(tmp_path, "quick/test")
    assert enc.spec["act"] == "quick_gelu"
    assert (enc.encode_texts(TEXTS) * emb.encode_texts(TEXTS)).sum(1).min() > 0.9995


def test_cold_text_search_does_not_import_torch(shapes_library):
    shapes_library.semantic.export_text(shapes_library.semantic.embedder())  # what `embed` does
    code = (
        "import sys\n"
        "from anagnorisis_tui.core.base.config import load_settings\n"
        "from anagnorisis_tui.core.library import Library\n"
        f"s = load_settings(data_dir={str(shapes_library.data_dir)!r}, "
        f"config_file={str(shapes_library.settings.config_file)!r}, "
        "overrides={'model': 'tiny-clip', 'pretrained': '', 'device': 'cpu'})\n"
        "hits = Library(s).semantic.search('red circle', top_k=3)\n"
        "print('torch' in sys.modules, len(hits))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "3"]
