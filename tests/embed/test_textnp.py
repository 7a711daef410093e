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
        "heavy = ('PIL', 'ftfy', 'regex', 'onnxruntime', 'textual', 'sklearn', 'open_clip')\n"
        "print(sorted(set(heavy) & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["False 3", "[]"]


def _plain_texts() -> list[str]:
    rng = np.random.default_rng(25)
    pieces = [chr(c) for c in range(0x20, 0x7F)] + ["dog ", "The ", "it's ", "<end_of_text>"]
    texts = ["a dog on a beach at sunset", "It's O'Neil's 3.14 \"x\" A  B ~`!@#$%^*()_+{}|:<>?"]
    texts += ["".join(rng.choice(pieces, size=int(rng.integers(0, 40)))) for _ in range(300)]
    return texts


def test_plain_ascii_skips_ftfy_and_regex_with_the_same_tokens(tiny_embedder):
    import ftfy

    texts = _plain_texts()
    plain = [t for t in texts if bpe._PLAIN.issuperset(t)]
    assert len(plain) > 200 and all(ftfy.fix_text(t) == t for t in plain)
    ours = bpe.BPETokenizer(context_length=77)(texts + TEXTS)
    theirs = tiny_embedder.tokenizer(texts + TEXTS, context_length=77).numpy()
    np.testing.assert_array_equal(ours, theirs)
    code = (
        "import sys\n"
        "from anagnorisis_tui.core.semantic import bpe\n"
        "bpe.BPETokenizer()(['a dog on a beach at sunset'])\n"
        "print('ftfy' in sys.modules, 'regex' in sys.modules)\n"
        "bpe.BPETokenizer()(['café'])\n"
        "print('ftfy' in sys.modules, 'regex' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "True", "True"]


def test_tokenizer_cache_is_private_and_refuses_a_changed_file(tiny_embedder, tmp_path):
    cache = tmp_path / "bpe.cache"
    want = tiny_embedder.tokenizer(TEXTS, context_length=77).numpy()
    np.testing.assert_array_equal(bpe.BPETokenizer(cache=cache)(TEXTS), want)
    assert cache.stat().st_mode & 0o777 == 0o600
    good = cache.read_bytes()
    header, _, body = good.partition(b"\n")
    lines = body.split(b"\n")
    lines[0], lines[1] = lines[1], lines[0]  # two merge ranks swapped: other tokens
    assert bpe._load_cache(cache, bpe.vocab_path()) is not None
    for bad in (header + b"\n" + b"\n".join(lines), good[:-100], b"junk", header + b"\n"):
        cache.write_bytes(bad)
        assert bpe._load_cache(cache, bpe.vocab_path()) is None
        np.testing.assert_array_equal(bpe.BPETokenizer(cache=cache)(TEXTS), want)
        assert cache.read_bytes() == good  # rebuilt from the vocabulary file
    # made from another vocabulary file: refused too
    cache.write_bytes(good.replace(header.split(b" ")[2], b"0" * 64, 1))
    assert bpe._load_cache(cache, bpe.vocab_path()) is None


def _random_tower(layers: int, width: int, heads: int, context: int) -> textnp.NumpyTextEncoder:
    rng = np.random.default_rng(7)

    def r(*shape: int, scale: float = 0.02) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    w = {
        "token_embedding": r(49408, width),
        "positional_embedding": r(context, width, scale=0.01),
        "ln_final.w": 1 + r(width),
        "ln_final.b": r(width),
        "text_projection": r(width, 512, scale=width**-0.5),
    }
    for i in range(layers):
        p = f"blocks.{i}."
        w |= {p + "ln_1.w": 1 + r(width), p + "ln_1.b": r(width), p + "ln_2.w": 1 + r(width)}
        w |= {p + "ln_2.b": r(width), p + "in_proj.wT": r(width, 3 * width)}
        w |= {p + "in_proj.b": r(3 * width), p + "out_proj.wT": r(width, width)}
        w |= {p + "out_proj.b": r(width), p + "c_fc.wT": r(width, 4 * width)}
        w |= {p + "c_fc.b": r(4 * width), p + "c_proj.wT": r(4 * width, width)}
        w |= {p + "c_proj.b": r(width)}
    spec = {"model_id": "random/b32", "layers": layers, "heads": heads, "eps": 1e-5}
    spec |= {"act": "gelu", "context_length": context}
    return textnp.NumpyTextEncoder(spec, w)


def test_text_tower_up_to_end_of_text_equals_all_77_positions(tiny_embedder, tmp_path):
    """The causal tower computed only up to the end-of-text token gives the vectors of the
    full context (ViT-B-32-256's text shape, random weights; and the tiny test model)."""
    assert textnp.export(tiny_embedder, tmp_path)
    tiny = textnp.NumpyTextEncoder.open(tmp_path, tiny_embedder.model_id)
    assert tiny is not None
    b32 = _random_tower(layers=12, width=512, heads=8, context=77)
    texts = [*TEXTS, "a dog on a beach at sunset", "dog"]
    for tower in (tiny, b32):
        tokens = tower.tokenizer(texts)
        short = tokens[-2:]  # 9 and 3 positions computed instead of 77
        assert int(short.argmax(1).max()) + 1 == 9
        for batch in (short, short[1:], tokens):
            np.testing.assert_allclose(
                tower.encode_tokens(batch), tower.encode_tokens(batch, full=True), atol=1e-5
            )


def test_lazy_tables_from_the_cache_equal_the_built_ones():
    """The cache's encoder is looked up through the ranks (no 49,408-entry vocabulary built):
    every token and every merge gets the same id and rank as the dicts open_clip's way gives,
    including a token two merges join to (the last one's id) and a repeated line."""
    _raw, merges = bpe._read_merges(bpe.vocab_path())
    for lines in (merges, ["a b", "ab c", "a bc", "a b", "c d</w>"]):
        encoder, ranks = bpe._tables(lines)
        lazy_encoder, lazy_ranks = bpe._lazy_tables("\n".join(lines))
        assert dict(lazy_ranks) == ranks
        assert {token: lazy_encoder[token] for token in encoder} == encoder
        assert dict(lazy_encoder) == encoder and len(lazy_encoder) == len(encoder)
        assert "zz-not-a-token" not in lazy_encoder and lazy_encoder.get("q q") is None
