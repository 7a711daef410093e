"""CLIP's byte-pair tokenizer without torch: a port of open_clip's SimpleTokenizer.

open_clip's tokenizer module imports torch (and its package imports timm and more), which is
most of a cold `search`'s start-up. This port reads the same vocabulary file from the installed
open_clip package without importing it, and returns numpy token ids. tests/embed check it
against open_clip's own tokenizer. The algorithm and vocabulary are OpenAI CLIP's (MIT).
"""

from __future__ import annotations

import gzip
import html
import importlib.util
import marshal
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

VOCAB_FILE = "bpe_simple_vocab_16e6.txt.gz"
_SPECIALS = ("<start_of_text>", "<end_of_text>")


def vocab_path() -> Path:
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("open_clip is not installed (its BPE vocabulary is needed)")
    return Path(next(iter(spec.submodule_search_locations))) / VOCAB_FILE


@lru_cache
def _bytes_to_unicode() -> dict[int, str]:
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs], strict=True))


# The encoder (token -> id) and the merge ranks ((left, right) -> rank).
Tables = tuple[dict[str, int], dict[tuple[str, str], int]]


def _load_cache(cache: Path | None) -> Tables | None:
    # marshal reads the two tables ~5x faster than rebuilding them from the gzip'd merges.
    if cache is None:
        return None
    try:
        with open(cache, "rb") as f:
            encoder, ranks = marshal.load(f)
        return (encoder, ranks) if isinstance(encoder, dict) and isinstance(ranks, dict) else None
    except (OSError, ValueError, EOFError, TypeError):
        return None


def _save_cache(cache: Path | None, tables: Tables) -> None:
    if cache is None:
        return
    try:
        tmp = cache.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            marshal.dump(tables, f)
        os.replace(tmp, cache)
    except OSError:
        pass  # a cache only


def _clean(text: str) -> str:
    import ftfy

    text = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
    return " ".join(text.split()).strip().lower()


class BPETokenizer:
    def __init__(
        self, context_length: int = 77, path: Path | None = None, cache: Path | None = None
    ) -> None:
        import regex

        tables = _load_cache(cache)
        if tables is None:
            with gzip.open(path or vocab_path()) as f:
                merges_text = f.read().decode("utf-8").split("\n")
            merges = [
                (pair[0], pair[1])
                for pair in (m.split() for m in merges_text[1 : 49152 - 256 - 2 + 1])
            ]
            byte_chars = list(_bytes_to_unicode().values())
            vocab = byte_chars + [v + "</w>" for v in byte_chars]
            vocab += ["".join(m) for m in merges]
            vocab += list(_SPECIALS)
            tables = ({tok: i for i, tok in enumerate(vocab)}, {m: i for i, m in enumerate(merges)})
            _save_cache(cache, tables)
        self.encoder, self.ranks = tables
        self.cache: dict[str, str] = {t: t for t in _SPECIALS}
        self.pattern = regex.compile(
            "|".join(_SPECIALS) + r"""|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
            regex.IGNORECASE,
        )
        self.sot, self.eot = (self.encoder[t] for t in _SPECIALS)
        self.context_length = context_length
        self.byte_encoder = _bytes_to_unicode()

    def _bpe(self, token: str) -> str:
        if token in self.cache:
            return self.cache[token]
        word = (*token[:-1], token[-1] + "</w>")
        pairs = set(zip(word, word[1:], strict=False))
        if not pairs:
            return token + "</w>"
        while True:
            bigram = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if bigram not in self.ranks:
                break
            first, second = bigram
            merged: list[str] = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    merged.extend(word[i:])
                    break
                merged.extend(word[i:j])
                i = j
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = tuple(merged)
            if len(word) == 1:
                break
            pairs = set(zip(word, word[1:], strict=False))
        out = " ".join(word)
        self.cache[token] = out
        return out

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for token in self.pattern.findall(_clean(text)):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self._bpe(token).split(" "))
        return ids

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.context_length), dtype=np.int64)
        for row, text in enumerate(texts):
            tokens = [self.sot, *self.encode(text), self.eot]
            if len(tokens) > self.context_length:
                tokens = tokens[: self.context_length]
                tokens[-1] = self.eot
            out[row, : len(tokens)] = tokens
        return out
