"""Hostile files, made at test time (no binary fixtures): bombs, entity attacks, crafted vectors
files, planted links, FIFOs, devices, awkward names."""

from __future__ import annotations

import os
import sqlite3
import stat
import struct
import zlib
from pathlib import Path

import numpy as np


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bomb(width: int, height: int, *, colour_type: int = 6, seed: int = 0) -> bytes:
    """A real, decodable PNG of width x height (RGBA by default) that compresses to almost
    nothing: one row of a few noisy pixels, the rest zeros. Streamed, so a 100 MP bomb costs
    the builder only its compressed bytes."""
    channels = {6: 4, 2: 3, 0: 1}[colour_type]
    rng = np.random.default_rng(seed)
    head = rng.integers(0, 255, size=min(width, 16) * channels, dtype=np.uint8).tobytes()
    first = b"\0" + head + b"\0" * (width * channels - len(head))
    zero = b"\0" * (width * channels + 1)
    comp = zlib.compressobj(9)
    parts = [comp.compress(first)]
    step = max(1, (8 << 20) // len(zero))
    for start in range(1, height, step):
        parts.append(comp.compress(zero * min(step, height - start)))
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height over Pillow's pixel limit, with a few bytes of
    data: refused from the header alone."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE x [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
]>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="4">
   <xmp:Label>&g;</xmp:Label>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


def external_entity(target: Path) -> str:
    """An XMP sidecar whose rating comes from an external entity (XXE) naming `target`."""
    return f"""<?xml version="1.0"?>
<!DOCTYPE x [ <!ENTITY secret SYSTEM "file://{target}"> ]>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
   <xmp:Rating>&secret;</xmp:Rating>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


def sidecar(stars: str, exact: str | None = None) -> str:
    """A minimal XMP sidecar with xmp:Rating `stars` (any text) and optionally ours."""
    ours = (
        f' xmlns:anagnorisis="https://anagnorisis-tui.invalid/ns/1.0/" anagnorisis:Rating="{exact}"'
        if exact is not None
        else ""
    )
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
        f'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="{stars}"{ours}/>'
        "</rdf:RDF></x:xmpmeta>\n"
    )


# -- vectors files -------------------------------------------------------------------------------
def vectors_file(
    path: Path,
    rows: list[tuple[object, object]],
    *,
    model_id: str,
    dim: object = 8,
    dtype: object = "float32",
    info: object = "{}",
    extra_meta: dict[str, str] | None = None,
    extra_sql: str = "",
    drop: tuple[str, ...] = (),
) -> Path:
    """A vectors file as `vectors export` writes it, with whatever fields and rows a test
    chooses, and any extra schema (views, triggers, virtual tables) run after."""
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    con.execute("CREATE TABLE vectors(hash TEXT PRIMARY KEY, vector BLOB NOT NULL)")
    meta: dict[str, object] = {
        "format": "1",
        "model_id": model_id,
        "dim": dim,
        "dtype": dtype,
        "info": info,
        "count": str(len(rows)),
    }
    meta.update(extra_meta or {})
    for key in drop:
        meta.pop(key, None)
    con.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))
    con.executemany("INSERT INTO vectors VALUES (?, ?)", rows)
    if extra_sql:
        con.executescript(extra_sql)
    con.commit()
    con.close()
    return path


def unit_vectors(n: int, dim: int, seed: int = 0) -> np.ndarray:
    m = np.random.default_rng(seed).normal(size=(n, dim)).astype("<f4")
    return m / np.linalg.norm(m, axis=1, keepdims=True)


# A view named like a table the import reads, running a query without end (issue 23, item 4).
RECURSIVE_VIEW = """
ALTER TABLE vectors RENAME TO vectors_data;
CREATE VIEW vectors AS
  WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r)
  SELECT printf('%032x', i) AS hash, zeroblob(32) AS vector FROM r;
"""

TRIGGER = """
CREATE TABLE log(x);
CREATE TRIGGER t AFTER INSERT ON meta BEGIN INSERT INTO log VALUES (1); END;
"""

VIRTUAL = "CREATE VIRTUAL TABLE fts USING fts5(x);"


# -- places -------------------------------------------------------------------------------------
def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def null_device(path: Path) -> Path:
    """A character device like /dev/null, under an image's name (needs root)."""
    os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))
    return path


def odd_names(folder: Path) -> list[str]:
    """Names that are not UTF-8, or hold control characters (an escape sequence, a newline)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        os.fsdecode(b"caf\xe9-latin1.jpg"),
        "evil\x1b[31mred\x1b[0m.jpg",
        "two\nlines.jpg",
        "tab\there.jpg",
    ]


def tree_state(
    *roots: Path, skip: tuple[Path, ...] = ()
) -> dict[str, tuple[int, int, bytes | str]]:
    """Every entry under roots: mode, size and content (a link's target): proves nothing there
    changed. Entries under `skip` (the data dir) are left out."""
    out: dict[str, tuple[int, int, bytes | str]] = {}
    skipped = tuple(str(s) for s in skip)
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            if dirpath.startswith(skipped):
                dirnames[:] = []
                continue
            for name in dirnames + filenames:
                full = os.path.join(dirpath, name)
                if full.startswith(skipped):
                    continue
                st = os.lstat(full)
                if stat.S_ISLNK(st.st_mode):
                    body: bytes | str = os.readlink(full)
                elif stat.S_ISREG(st.st_mode):
                    with open(full, "rb") as fh:
                        body = fh.read()
                else:
                    body = ""
                out[full] = (st.st_mode, st.st_size, body)
    return out
