"""Grouping at scale: time, peak memory and recall of planted duplicates, beside exact baselines.

Builds a catalogue of N images (default 100,000) with structured 512-d vectors (scenes of
related images, cosine ~0.6 within a scene, as CLIP gives for similar photos) and planted
near-duplicates (cosine ~0.98), plus 64-bit perceptual hashes with planted near-copies (a few
bits flipped). Then, each in its own process so peak memory is its own:

- vectors/annoy : core.groups with the Annoy forest (what the app uses beyond a few thousand)
- vectors/exact : the baseline, blockwise exact kNN over the same vectors (block x N at a time)
- phash/mih     : core.duplicates.groups: multi-index hashing for candidates, then every
                  candidate pair verified on its stored rendition, keeper-verified groups
- phash/unverified : the grouping before verification, in the same run: the same candidates
                  joined into connected components (union-find)
- phash/brute   : the baseline, blockwise all-pairs Hamming distances, connected components

Every image gets a stored rendition (verify.py's 4 KiB), a copy its original's plus noise, so
the verification runs at full scale.

- phash/look    : phash/mih with the second look (core/duplicates/evidence.py) as a library
                  meets it: a 256-pixel thumbnail in the cache for each image that has a
                  planted copy (a window of a real photo; its copy's thumbnail made from a
                  smaller re-encode of it), so every planted pair is compared on its thumbnails
                  (moments.py). phash/mih, in the same run, is the path before the second look
                  (no thumbnail: the look is skipped): the ratio look / mih is the look's cost.
                  It starts with no look remembered (core/duplicates/looks.py): the first
                  grouping of a library.
- phash/look-warm : phash/look again on the same catalogue, after it: every look remembered
                  (the second grouping: `dedupe` after `groups`, the app's review). Run it
                  after phash/look; the decisions of the two must be identical.

For each: seconds, peak RSS, recall of planted duplicate pairs (both ends in one group) and
the pairs grouped that were not planted. The original Anagnorisis builds an N x N float32
matrix: N*N*4 bytes (40 GB at 100,000), printed for reference, not run.

    python bench/bench_groups_scale.py            # 100,000 images
    python bench/bench_groups_scale.py --n 20000  # quicker
    python bench/bench_groups_scale.py --methods phash/mih,phash/look  # the second look's cost
    python bench/bench_groups_scale.py --methods phash/mih,phash/look,phash/look-warm  # + remembered
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DIM = 512
THRESHOLD = 0.92
PHASH_DISTANCE = 10


def build(db_path: Path, n: int, seed: int = 0) -> None:
    from anagnorisis_tui.core.base import db as dbmod
    from anagnorisis_tui.core.semantic import vectors

    rng = np.random.default_rng(seed)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    db = dbmod.connect(db_path)
    vectors.register_model(db, "bench", DIM)
    scenes = rng.standard_normal((max(1, n // 100), DIM)).astype(np.float32)
    scenes /= np.linalg.norm(scenes, axis=1, keepdims=True)
    # ~5% of the images get one or two near-copies; "original" says whose copy each one is.
    n_orig = int(n / 1.075)
    copies = rng.choice(n_orig, size=n - n_orig, replace=True)
    original = np.concatenate([np.arange(n_orig), copies])
    scene_of = rng.integers(0, len(scenes), n_orig)
    codes_orig = rng.integers(-(2**63), 2**63 - 1, size=n_orig, dtype=np.int64)
    codes = codes_orig[original].copy()
    flips = rng.integers(0, 5, n - n_orig)  # 0..4 bits differ in a copy's pHash
    for c in range(n - n_orig):
        for bit in rng.choice(64, flips[c], replace=False):
            codes[n_orig + c] ^= np.int64(1) << np.int64(bit) if bit < 63 else np.int64(-(2**63))
    now = time.time()
    with db.conn:
        db.conn.executemany(
            "INSERT INTO images(hash, size, width, height, format, phash, first_seen) "
            "VALUES (?, 1000, 640, 480, 'JPEG', ?, ?)",
            ((f"h{i:07d}", int(codes[i]), now) for i in range(n)),
        )
        db.conn.executemany(
            "INSERT INTO files(path, root, folder, name, hash, size, mtime_ns, added, updated) "
            "VALUES (?, '/lib', '', ?, ?, 1000, 0, ?, ?)",
            ((f"/lib/{i:07d}.jpg", f"{i:07d}.jpg", f"h{i:07d}", now, now) for i in range(n)),
        )
    block = 10_000
    for start in range(0, n, block):
        ids = np.arange(start, min(n, start + block))
        base = scenes[scene_of[original[ids]]]
        # The same within-scene offset for an original and its copies (seeded per original).
        offset = np.stack(
            [np.random.default_rng(int(o) + 1).standard_normal(DIM) for o in original[ids]]
        ).astype(np.float32) * (0.8 / np.sqrt(DIM))
        noise = rng.standard_normal((len(ids), DIM)).astype(np.float32) * (0.2 / np.sqrt(DIM))
        noise[ids < n_orig] = 0.0
        vectors.put_vectors(db, "bench", [f"h{i:07d}" for i in ids], base + offset + noise)
    for start in range(0, n, block):
        ids = np.arange(start, min(n, start + block))
        base = np.stack(
            [
                np.random.default_rng(10_000_000 + int(o)).integers(0, 256, (32, 32, 4))
                for o in original[ids]
            ]
        ).astype(np.int16)
        base[..., 3] = 255
        jitter = rng.integers(-3, 4, base.shape).astype(np.int16)
        jitter[ids < n_orig] = 0
        data = np.clip(base + jitter, 0, 255).astype(np.uint8)
        with db.conn:
            db.conn.executemany(
                "INSERT INTO renditions(hash, data, width, height) VALUES (?, ?, 640, 480)",
                ((f"h{i:07d}", data[k].tobytes()) for k, i in enumerate(ids.tolist())),
            )
    np.save(db_path.with_suffix(".truth.npy"), original)
    db.conn.close()


def thumbnail_cache(db_path: Path) -> Path:
    """The 256-pixel thumbnails of every image that has a planted copy, made once (a cache of
    the catalogue's content hashes, as the scan writes it)."""
    from PIL import Image

    from anagnorisis_tui.core.catalogue import thumbnails
    from bench.hardset import photo_sources

    cache = db_path.with_suffix(".thumbs")
    done = cache / "complete"
    if done.exists():
        return cache
    original = np.load(db_path.with_suffix(".truth.npy"))
    counts = np.bincount(original)
    photos = list(photo_sources().values())
    rng = np.random.default_rng(1)
    for i, o in enumerate(original.tolist()):
        if counts[o] < 2:
            continue
        # Each original its own window of a real photo; a copy the same window, its thumbnail
        # made from a smaller re-encode (what a resized, recompressed copy's thumbnail is).
        pick = np.random.default_rng(20_000_000 + o)
        photo = photos[int(pick.integers(len(photos)))]
        w, h = photo.size
        side = int(min(w, h) * pick.uniform(0.45, 0.9))
        x, y = int(pick.integers(0, w - side + 1)), int(pick.integers(0, h - side + 1))
        window = photo.crop((x, y, x + side, y + int(side * 0.75))).resize((256, 192))
        if i != o:
            scale = float(rng.uniform(0.4, 0.8))
            small = window.resize((int(256 * scale), int(192 * scale)), Image.Resampling.BOX)
            window = small.resize((256, 192), Image.Resampling.BICUBIC)
        thumbnails.save_thumbnail(cache, f"h{i:07d}", window)
    done.write_text("")
    return cache


def components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Connected components (union-find, single linkage): how groups were formed unverified."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n)).tocsr()
    return connected_components(graph, directed=False)[1]


def peak_rss_mb() -> float:
    """This process's own peak resident memory (VmHWM; ru_maxrss can carry a parent's peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def planted_pairs(original: np.ndarray) -> set[tuple[int, int]]:
    out = set()
    by: dict[int, list[int]] = {}
    for i, o in enumerate(original.tolist()):
        by.setdefault(o, []).append(i)
    for members in by.values():
        for a in members:
            for b in members:
                if a < b:
                    out.add((a, b))
    return out


def child(method: str, db_path: Path, workdir: Path) -> dict:
    from anagnorisis_tui.core.base import db as dbmod
    from anagnorisis_tui.core.duplicates import groups, neighbours, phash
    from anagnorisis_tui.core.duplicates.options import GroupOptions

    db = None if method.startswith("phash-only/") else dbmod.connect(db_path)
    tiers: Counter[str] = Counter()
    start = time.perf_counter()
    looked = [0]
    if method.startswith("phash/look"):
        from anagnorisis_tui.core.duplicates import moments

        compare = moments.compare

        def counted(*args: object, **kwargs: object) -> object:
            looked[0] += 1
            return compare(*args, **kwargs)

        moments.compare = counted  # type: ignore[assignment]
        if method == "phash/look":  # cold: nothing remembered from an earlier run
            with db.transaction():
                db.execute("DELETE FROM looks")
    if method in ("vectors/annoy", "vectors/exact", "phash/mih", "phash/look", "phash/look-warm"):
        # Made by the parent before any child runs: not in this child's time or memory.
        cache = str(db_path.with_suffix(".thumbs")) if method.startswith("phash/look") else None
        start = time.perf_counter()
        found = groups.group_report(
            db,
            GroupOptions(
                method="vectors" if method.startswith("vectors") else "phash",
                threshold=THRESHOLD,
                phash_distance=PHASH_DISTANCE,
            ),
            neighbour_search="annoy" if method == "vectors/annoy" else "exact",
            workdir=str(workdir),
            thumbnail_cache=cache,
        ).groups
        tiers = Counter(m.tier for g in found for m in g.others)
        members = [[int(m.hash[1:]) for m in g.members] for g in found]
        decided = sorted((m.hash, m.tier, m.why, g.keeper.hash) for g in found for m in g.members)
    elif method.startswith("phash-only/"):
        # Codes straight from memory (no catalogue): the pHash candidate search alone at scale.
        n = int(method.split("/")[1])
        rng = np.random.default_rng(0)
        n_orig = int(n / 1.075)
        original = np.concatenate([np.arange(n_orig), rng.choice(n_orig, n - n_orig)])
        codes = rng.integers(-(2**63), 2**63 - 1, size=n_orig, dtype=np.int64)[original]
        for c in range(n_orig, n):
            for bit in rng.choice(63, rng.integers(0, 5), replace=False):
                codes[c] ^= np.int64(1) << np.int64(bit)
        start = time.perf_counter()
        i, j, d = neighbours.phash_pairs(codes, PHASH_DISTANCE)
        labels = components(n, i, j)
        seconds = time.perf_counter() - start
        truth = planted_pairs(original)
        found = sum(1 for a, b in truth if labels[a] == labels[b])
        sizes = np.bincount(labels)
        return {
            "method": method,
            "seconds": round(seconds, 1),
            "peak_rss_mb": round(peak_rss_mb()),
            "groups": int((sizes > 1).sum()),
            "largest": int(sizes.max()),
            "recall": round(found / len(truth), 4),
            "planted_pairs": len(truth),
            "unplanted_pairs": int((original[i] != original[j]).sum()),
        }
    elif method == "phash/unverified":
        hashes_codes = db.execute("SELECT hash, phash FROM images ORDER BY hash").fetchall()
        ids = np.array([int(h[1:]) for h, _ in hashes_codes])
        codes = np.array([c for _, c in hashes_codes], dtype=np.int64)
        i, j, _ = neighbours.phash_pairs(codes, PHASH_DISTANCE)
        labels = components(len(codes), i, j)
        by_label: dict[int, list[int]] = {}
        for pos, label in enumerate(labels.tolist()):
            by_label.setdefault(label, []).append(int(ids[pos]))
        members = [m for m in by_label.values() if len(m) > 1]
    elif method == "phash/brute":
        hashes_codes = db.execute("SELECT hash, phash FROM images ORDER BY hash").fetchall()
        ids = np.array([int(h[1:]) for h, _ in hashes_codes])
        codes = np.array([c for _, c in hashes_codes], dtype=np.int64).view(np.uint64)
        n = len(codes)
        ii, jj, ss = [], [], []
        for s in range(0, n, 2048):
            d = phash.popcount64(codes[s : s + 2048, None] ^ codes[None, :])
            r, c = np.nonzero(d <= PHASH_DISTANCE)
            keep = s + r < c
            ii.append(s + r[keep])
            jj.append(c[keep])
            ss.append(1 - d[r[keep], c[keep]] / 64)
        labels = components(n, np.concatenate(ii), np.concatenate(jj))
        by: dict[int, list[int]] = {}
        for pos, label in enumerate(labels.tolist()):
            by.setdefault(label, []).append(int(ids[pos]))
        members = [m for m in by.values() if len(m) > 1]
    else:
        raise SystemExit(f"unknown method {method}")
    seconds = time.perf_counter() - start
    peak_mb = peak_rss_mb()
    truth = planted_pairs(np.load(db_path.with_suffix(".truth.npy")))
    grouped = set()
    for m in members:
        m = sorted(m)
        if len(m) > 200:  # a giant chain would be a failure in itself; count it, skip pairs
            grouped.add((-1, len(m)))
            continue
        for a_i, a in enumerate(m):
            for b in m[a_i + 1 :]:
                grouped.add((a, b))
    found_pairs = len(truth & grouped)
    return {
        "method": method,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak_mb),
        "groups": len(members),
        "largest": max((len(m) for m in members), default=0),
        "recall": round(found_pairs / max(1, len(truth)), 4),
        "planted_pairs": len(truth),
        "unplanted_pairs": len(grouped - truth),
        **({"tiers": dict(tiers)} if method.startswith(("phash/mih", "phash/look")) else {}),
        **(
            {
                "looked": looked[0],
                "decisions": hashlib.sha256(repr(decided).encode()).hexdigest()[:16],
            }
            if method.startswith("phash/look")
            else {}
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--child")
    parser.add_argument("--db")
    parser.add_argument(
        "--methods", default="vectors/annoy,vectors/exact,phash/mih,phash/unverified,phash/brute"
    )
    args = parser.parse_args()
    out = ROOT / "bench" / "out"
    if args.child:
        print(json.dumps(child(args.child, Path(args.db), out)))
        return
    db_path = out / f"groups-{args.n}.db"
    if not db_path.with_suffix(".truth.npy").exists():
        t = time.perf_counter()
        build(db_path, args.n)
        print(f"built {args.n} images in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    if "phash/look" in args.methods:
        t = time.perf_counter()
        thumbnail_cache(db_path)
        print(f"thumbnails ready in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    print(f"N = {args.n}, dim {DIM}, threshold {THRESHOLD}, phash distance {PHASH_DISTANCE}")
    print(f"full N x N float32 matrix (the original's approach): {args.n**2 * 4 / 1e9:.1f} GB")
    results = {}
    for method in args.methods.split(","):
        proc = subprocess.run(
            [sys.executable, __file__, "--child", method.split("#")[0], "--db", str(db_path)],
            capture_output=True,
            text=True,
        )
        if proc.returncode:
            print(proc.stderr, file=sys.stderr)
            continue
        results[method] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(json.dumps(results[method]))
    # phash/mih may run more than once (phash/mih#2 after the looks: the catalogue's pages as
    # warm as theirs); the baseline is the mean of its runs.
    mih_runs = [r for m, r in results.items() if m.split("#")[0] == "phash/mih"]
    mih = {
        key: sum(r[key] for r in mih_runs) / max(1, len(mih_runs))
        for key in ("seconds", "peak_rss_mb")
    }
    if len(mih_runs) > 1:
        print(f"phash/mih: mean of {len(mih_runs)} runs, {mih['seconds']:.1f} s")
    if "phash/look" in results and mih_runs:
        look = results["phash/look"]
        print(
            f"second look: {look['seconds'] / max(mih['seconds'], 1e-9):.2f}x the time, "
            f"{look['peak_rss_mb'] / max(mih['peak_rss_mb'], 1):.2f}x the peak memory of "
            f"phash/mih without it (same run; load {os.getloadavg()[0]:.1f})"
        )
    if "phash/look-warm" in results and mih_runs:
        warm = results["phash/look-warm"]
        print(
            f"second look remembered: {warm['seconds'] / max(mih['seconds'], 1e-9):.2f}x the "
            f"time, {warm['peak_rss_mb'] / max(mih['peak_rss_mb'], 1):.2f}x the peak memory of "
            f"phash/mih ({warm['looked']} pairs looked at; load {os.getloadavg()[0]:.1f})"
        )
        if "phash/look" in results:
            same = results["phash/look"]["decisions"] == warm["decisions"]
            print(f"cold and warm decisions identical: {'yes' if same else 'NO'}")
    for ours, base in (
        ("vectors/annoy", "vectors/exact"),
        ("phash/mih", "phash/brute"),
        ("phash/mih", "phash/unverified"),
    ):
        if ours in results and base in results:
            r = results[base]["seconds"] / max(results[ours]["seconds"], 1e-9)
            print(f"{ours}: {r:.1f}x faster than {base}")


if __name__ == "__main__":
    main()
