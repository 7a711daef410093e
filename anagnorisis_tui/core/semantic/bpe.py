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
import os
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

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


# The encoder (token -> id) and the merge ranks ("left right" -> rank).
Tables = tuple[Mapping[str, int], Mapping[str, int]]


class _LazyEncoder(Mapping[str, int]):
    """token -> id as `_tables` builds it (vocab: 256 byte characters, the same with `</w>`,
    one token per merge - the merge's two halves joined -, the specials; a token that occurs
    twice keeps its last id), without building it: a merged token's id is 512 + the largest
    rank among the merges that join to it, found by trying each split of the token. Building
    the 49,408-entry vocabulary (a join per merge, then a dict) was most of the tables' cost
    on a cold search; a query needs a dozen tokens."""

    def __init__(self, merges: dict[str, int], lines: int) -> None:
        byte_chars = list(_bytes_to_unicode().values())
        self._base = {t: i for i, t in enumerate(byte_chars + [v + "</w>" for v in byte_chars])}
        self._merges, self._lines = merges, lines
        self._specials = {t: lines + 512 + i for i, t in enumerate(_SPECIALS)}

    def get(self, token: str, default: Any = None) -> Any:
        if token in self._specials:
            return self._specials[token]
        if " " not in token:
            ranks = (self._merges.get(token[:k] + " " + token[k:]) for k in range(1, len(token)))
            best = max((r for r in ranks if r is not None), default=None)
            if best is not None:
                return 512 + best
        return self._base.get(token, default)

    def __getitem__(self, token: str) -> int:
        found = self.get(token)
        if found is None:
            raise KeyError(token)
        return int(found)

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and self.get(token) is not None

    def __iter__(self) -> Iterator[str]:
        order = sorted(self._merges, key=self._merges.__getitem__)  # each line once, by rank
        return iter(dict.fromkeys(_vocab(order)))

    def __len__(self) -> int:
        return len(set(self))


CACHE_MAGIC = b"anagnorisis-bpe 2"


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _read_merges(path: Path) -> tuple[bytes, list[str]]:
    """The vocabulary file's bytes and its merges as "left right" lines."""
    raw = path.read_bytes()
    lines = gzip.decompress(raw).decode("utf-8").split("\n")
    return raw, lines[1 : 49152 - 256 - 2 + 1]


def _vocab(merges: list[str]) -> list[str]:
    byte_chars = list(_bytes_to_unicode().values())
    vocab = byte_chars + [v + "</w>" for v in byte_chars]
    vocab += [m.replace(" ", "") for m in merges]  # tokens never hold a space: bytes are mapped
    return vocab + list(_SPECIALS)


def _tables(merges: list[str]) -> Tables:
    vocab = _vocab(merges)
    encoder = dict(zip(vocab, range(len(vocab)), strict=True))
    return encoder, dict(zip(merges, range(len(merges)), strict=True))


def _lazy_tables(body: str) -> Tables:
    """The same maps as `_tables(body.split("\n"))`: the ranks built, the encoder looked up
    through them on demand (_LazyEncoder)."""
    lines = body.split("\n")
    merges = dict(zip(lines, range(len(lines)), strict=True))
    return _LazyEncoder(merges, len(lines)), merges


def _load_cache(cache: Path | None, source: Path | None) -> Tables | None:
    """The tables from the cache: one header line (format, the SHA-256 of the vocabulary file it
    was made from, the SHA-256 of the body) and the merges, one a line. Building the dicts from
    these lines was 5-9x faster than unmarshalling them (0.09-0.12 s against 0.66-1.1 s at
    load 7-9 on 2 cores); now only the ranks are built, the
    encoder is looked up through them (_lazy_tables). None when missing, made from
    another vocabulary file, or changed since it was written (a tampered or truncated file is
    never used: it is rebuilt)."""
    if cache is None:
        return None
    try:
        data = cache.read_bytes()
        header, _, body = data.partition(b"\n")
        magic, source_hash, body_hash = header.rsplit(b" ", 2)
        if magic != CACHE_MAGIC or _sha256(body) != body_hash.decode("ascii"):
            return None
        if (
            source is not None
            and source.exists()
            and _sha256(source.read_bytes()) != (source_hash.decode("ascii"))
        ):
            return None  # made from another open_clip's vocabulary: rebuild
        return _lazy_tables(body.decode("utf-8"))
    except (OSError, ValueError, UnicodeError):
        return None


def _save_cache(cache: Path | None, source_bytes: bytes, merges: list[str]) -> None:
    if cache is None:
        return
    body = "\n".join(merges).encode("utf-8")
    header = b" ".join([CACHE_MAGIC, _sha256(source_bytes).encode(), _sha256(body).encode()])
    tmp = cache.with_suffix(".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o600)  # private to its user, whatever the umask
            f.write(header + b"\n" + body)
        os.replace(tmp, cache)
    except OSError:
        pass  # a cache only


# Printable ASCII without `&`: ftfy.fix_text and html.unescape leave it as it is (ftfy's fixes
# act on HTML entities, mojibake, non-ASCII forms and control characters), so the common query
# needs neither ftfy's import nor `regex`'s (tests/embed/test_textnp.py checks both claims).
_PLAIN = frozenset(chr(c) for c in range(0x20, 0x7F)) - {"&"}
_ASCII_PATTERN = re.compile(
    "|".join(_SPECIALS) + r"""|'s|'t|'re|'ve|'m|'ll|'d|[a-z]+|[0-9]|[^\sa-z0-9]+"""
)


def _clean(text: str) -> str:
    if _PLAIN.issuperset(text):
        return " ".join(text.split()).lower()
    import ftfy

    text = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
    return " ".join(text.split()).strip().lower()


class BPETokenizer:
    def __init__(
        self, context_length: int = 77, path: Path | None = None, cache: Path | None = None
    ) -> None:
        source = path
        if source is None:
            try:
                source = vocab_path()
            except FileNotFoundError:
                source = None  # a verified cache still serves
        tables = _load_cache(cache, source)
        if tables is None:
            if source is None:
                source = vocab_path()  # raises: no vocabulary anywhere
            raw, merges = _read_merges(source)
            tables = _tables(merges)
            _save_cache(cache, raw, merges)
        self.encoder, self.ranks = tables
        self.cache: dict[str, str] = {t: t for t in _SPECIALS}
        self._pattern: Any = None
        self.sot, self.eot = (self.encoder[t] for t in _SPECIALS)
        self.context_length = context_length
        self.byte_encoder = _bytes_to_unicode()

    def _split(self, text: str) -> list[str]:
        """The pre-tokens of cleaned text: open_clip's `regex` pattern; for printable ASCII the
        same pattern in `re` (\\p{L} is [a-z] there, text being lowercased, \\p{N} is [0-9])."""
        if _PLAIN.issuperset(text):
            return _ASCII_PATTERN.findall(text)
        if self._pattern is None:
            import regex

            self._pattern = regex.compile(
                "|".join(_SPECIALS)
                + r"""|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
                regex.IGNORECASE,
            )
        return list(self._pattern.findall(text))

    def _bpe(self, token: str) -> str:
        if token in self.cache:
            return self.cache[token]
        word = (*token[:-1], token[-1] + "</w>")
        pairs = {f"{a} {b}" for a, b in zip(word, word[1:], strict=False)}
        if not pairs:
            return token + "</w>"
        while True:
            bigram = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if bigram not in self.ranks:
                break
            first, second = bigram.split(" ")
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
            pairs = {f"{a} {b}" for a, b in zip(word, word[1:], strict=False)}
        out = " ".join(word)
        self.cache[token] = out
        return out

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for token in self._split(_clean(text)):
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
