"""Perceptual hashes and similarity groups on real images with transformed copies."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from anagnorisis_tui.core.duplicates import neighbours, phash, verify
from anagnorisis_tui.core.duplicates.groups import (
    GroupError,
    Member,
    _vector_edges,
    group_report,
    keeper_order,
)
from anagnorisis_tui.core.duplicates.options import GroupOptions
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.semantic import vectors
from bench import dupset
from tests.support.rows import add_file

pytestmark = pytest.mark.slow  # see README: the two test lanes

SOURCES = ("astronaut", "coffee", "chelsea", "china")


@pytest.fixture(scope="session")
def dupdir(tmp_path_factory) -> tuple[Path, dict[Path, str]]:
    root = tmp_path_factory.mktemp("dups")
    truth = dupset.build(root, side=160, names=SOURCES, with_distractors=False)
    return root, truth


@pytest.fixture
def catalogued(settings, dupdir):
    root, truth = dupdir
    library = Library(settings)
    summary = library.catalogue.scan(root)
    assert summary.files == len(truth) and summary.errors == 0
    hashes = {
        Path(path): h for path, h in library.db.execute("SELECT path, hash FROM files").fetchall()
    }
    yield library, truth, hashes
    library.close()


def _by_source(groups, truth) -> list[set[str]]:
    return [{truth[Path(m.path)] for m in g.members} for g in groups]


def test_phash_survives_copies_and_exif_orientation(dupdir):
    root, truth = dupdir
    folder = root / "astronaut"
    original = phash.phash_file(folder / "astronaut.jpg")
    for name in ("astronaut-small.jpg", "astronaut-q35.jpg", "astronaut.png", "astronaut-exif.jpg"):
        assert phash.hamming(original, phash.phash_file(folder / name)) <= 6, name
    # The EXIF-rotated file's raw pixels are turned; read without orientation it differs a lot.
    with Image.open(folder / "astronaut-exif.jpg") as raw:
        assert phash.hamming(original, phash.phash_image(raw.convert("RGB"))) > 16
    other = phash.phash_file(root / "coffee" / "coffee.jpg")
    assert phash.hamming(original, other) > 16


def test_phash_pass_fills_missing_records_failures_and_cancels(catalogued, tmp_path):
    library, truth, _ = catalogued
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff not really a jpeg")
    add_file(library.db, str(broken), root=str(tmp_path), content_hash="broken", size=30)
    cancel = threading.Event()
    seen = []

    def progress(p):
        seen.append(p)
        if p.done >= 3:
            cancel.set()

    first = library.duplicates.compute_phashes(progress=progress, cancel=cancel)
    assert first.cancelled and first.done >= 3
    assert phash.pending(library.db) == len(truth) + 1 - first.done - first.failed
    rest = library.duplicates.compute_phashes(progress=seen.append)
    assert not rest.cancelled
    assert first.done + rest.done == len(truth)
    assert rest.failed + first.failed == 1
    assert phash.pending(library.db) == 0  # the broken file is not retried every pass
    reason = library.db.execute(
        "SELECT reason FROM embed_errors WHERE hash = 'broken' AND model_id = 'phash'"
    ).fetchone()[0]
    assert reason
    assert seen[-1].stage == "phash" and seen[-1].total is not None


def test_verified_groups_match_the_sources(catalogued):
    library, truth, _ = catalogued
    groups = library.duplicates.groups(GroupOptions(method="phash", phash_distance=10))
    assert groups, "expected duplicate groups"
    for sources in _by_source(groups, truth):
        assert len(sources) == 1  # never mixes two different photos
    grouped = {Path(m.path): m for g in groups for m in g.members}
    for path in truth:
        if "-crop" not in path.name:  # a 10% crop may fall outside 10 bits; all else must group
            assert path in grouped, path
    for name in ("-small.jpg", "-q35.jpg", "-exif.jpg", ".png"):
        tiers = {m.tier for p, m in grouped.items() if p.name.endswith(name)}
        assert tiers <= {"keeper", "bytes", "pixels", "same"}, (name, tiers)
    assert len({next(iter(s)) for s in _by_source(groups, truth)}) == len(SOURCES)
    ranks = [verify.TIERS.index(g.tier) for g in groups]
    assert ranks == sorted(ranks)  # strongest evidence first
    assert all(set(g.reasons) <= set(verify.TIERS) for g in groups)


def test_groups_use_vectors_and_fall_back_to_phash_without_them(catalogued):
    library, truth, hashes = catalogued
    db = library.db
    rng = np.random.default_rng(0)
    base = {s: rng.standard_normal(16) for s in SOURCES}
    # Vectors only for astronaut and coffee: near copies of one base vector per source.
    with_vectors = [p for p, s in truth.items() if s in ("astronaut", "coffee")]
    vectors.register_model(db, "m", 16)
    matrix = np.array([base[truth[p]] + 0.05 * rng.standard_normal(16) for p in with_vectors])
    vectors.put_vectors(db, "m", [hashes[p] for p in with_vectors], matrix)
    by_vectors = library.duplicates.groups(GroupOptions(method="vectors", threshold=0.95))
    assert sorted(_by_source(by_vectors, truth), key=sorted) == [{"astronaut"}, {"coffee"}]
    for group in by_vectors:
        # Vectors only propose pairs: each member was verified on its rendition.
        assert len(group.members) >= 6
        assert set(group.reasons) <= set(verify.TIERS)
    both = library.duplicates.groups(GroupOptions(method="both", threshold=0.95, phash_distance=10))
    sources = _by_source(both, truth)
    assert {"chelsea"} in sources and {"china"} in sources  # no vectors: phash only
    assert all(len(s) == 1 for s in sources)


def test_same_content_at_two_paths_is_always_a_group(settings):
    library = Library(settings)
    h = add_file(library.db, "/lib/x/one.jpg", content_hash="same", size=10)
    add_file(library.db, "/lib/y/two.jpg", content_hash="same", size=10)
    add_file(library.db, "/lib/z/other.jpg", content_hash="other", size=10, phash=12345)
    for method in ("phash", "vectors", "both"):
        groups = library.duplicates.groups(GroupOptions(method=method))
        assert len(groups) == 1 and groups[0].reasons == ("bytes",)
        assert groups[0].others[0].why == "identical bytes"
        assert {m.hash for m in groups[0].members} == {h}
        assert groups[0].similarity == 1.0
    library.close()


def test_scope_limits_groups(catalogued):
    library, truth, _ = catalogued
    root = str(next(iter(truth)).parents[1])
    groups = library.duplicates.groups(GroupOptions(method="phash", folder="coffee", root=root))
    assert _by_source(groups, truth) == [{"coffee"}]


def test_keeper_is_highest_resolution_then_more_metadata_then_largest_then_oldest():
    a = Member("/a", "1", size=100, width=10, height=10, mtime_ns=5)
    b = Member("/b", "2", size=50, width=20, height=10, mtime_ns=9)
    c = Member("/c", "3", size=200, width=20, height=10, mtime_ns=9)
    d = Member("/d", "4", size=200, width=20, height=10, mtime_ns=1)
    e = Member("/e", "5", size=10, width=20, height=10, mtime_ns=9, metadata=12)
    assert sorted([a, b, c, d], key=keeper_order)[0] == d
    assert sorted([a, b, c], key=keeper_order)[0] == c
    assert sorted([a, b], key=keeper_order)[0] == b
    assert sorted([a, b, c, d, e], key=keeper_order)[0] == e


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"threshold": 1.5}, "in \\(0, 1\\]"),
        ({"threshold": 0}, "in \\(0, 1\\]"),
        ({"method": "magic"}, "unknown grouping method"),
        ({"phash_distance": -1}, "from 0 to"),
        ({"phash_distance": 64}, "from 0 to"),
    ],
)
def test_bad_group_parameters(settings, kwargs, message):
    library = Library(settings)
    with pytest.raises(GroupError, match=message):
        group_report(library.db, GroupOptions(**kwargs))
    library.close()


def test_multi_index_hashing_equals_brute_force():
    rng = np.random.default_rng(3)
    base = rng.integers(-(2**63), 2**63 - 1, size=200, dtype=np.int64)
    codes = base[rng.integers(0, 200, 1500)]
    for _ in range(5):
        flip = rng.random(len(codes)) < 0.5
        codes[flip] ^= np.int64(1) << rng.integers(0, 63, int(flip.sum())).astype(np.int64)
    codes = np.unique(codes)
    u = codes.view(np.uint64)
    dist = phash.popcount64(u[:, None] ^ u[None, :])
    for d in (0, 2, 5, 8, 9, 14):
        i, j, got = neighbours.phash_pairs(codes, d)
        bi, bj = np.nonzero(np.triu(dist <= d, 1))
        assert set(zip(i.tolist(), j.tolist(), strict=True)) == set(
            zip(bi.tolist(), bj.tolist(), strict=True)
        )
        assert (got == dist[i, j]).all()
    # Every plan the chooser can make (any chunk count, any radius) is exact to its bound.
    for m, radius in ((9, 0), (7, 1), (3, 2), (5, 1)):
        bound = m * (radius + 1) - 1
        real = neighbours.plan_chunks
        neighbours.plan_chunks = lambda n, d, m=m, r=radius: (m, r)
        try:
            i, j, _ = neighbours.phash_pairs(codes, bound)
        finally:
            neighbours.plan_chunks = real
        bi, bj = np.nonzero(np.triu(dist <= bound, 1))
        assert set(zip(i.tolist(), j.tolist(), strict=True)) == set(
            zip(bi.tolist(), bj.tolist(), strict=True)
        ), (m, radius)


def test_annoy_finds_the_planted_neighbours_exact_does():
    rng = np.random.default_rng(5)
    centres = rng.standard_normal((100, 32))
    x = centres[rng.integers(0, 100, 3000)] + 0.6 * rng.standard_normal((3000, 32))
    x[1500:1600] = x[:100] + 0.01 * rng.standard_normal((100, 32))  # planted duplicates
    x = vectors.normalise(x)
    idx, sims = neighbours.exact_knn(x, 5, block=128)
    brute = x @ x.T
    np.fill_diagonal(brute, -np.inf)
    assert (idx[:, 0] == brute.argmax(axis=1)).all() or np.allclose(
        sims.max(axis=1), brute.max(axis=1), atol=1e-5
    )
    cut_idx, cut_sims = neighbours.exact_knn(x, 5, block=128, threshold=0.5)
    for row in range(0, 3000, 97):
        expect = [(j, s) for j, s in zip(idx[row], sims[row], strict=True) if s >= 0.5]
        got = [(j, s) for j, s in zip(cut_idx[row], cut_sims[row], strict=True) if j >= 0]
        assert sorted(got, key=lambda t: -t[1]) == pytest.approx(
            sorted(expect, key=lambda t: -t[1])
        )
    blocks = iter([(np.arange(3000), x)])
    aidx, asims = neighbours.annoy_knn(blocks, 3000, 32, 5)
    ei, ej, _ = neighbours.knn_pairs(idx, sims, 0.98)
    ai, aj, _ = neighbours.knn_pairs(aidx, asims, 0.98)
    planted = {(a, a + 1500) for a in range(100)}
    assert planted <= set(zip(ei.tolist(), ej.tolist(), strict=True))
    found = planted & set(zip(ai.tolist(), aj.tolist(), strict=True))
    assert len(found) >= 98


def test_grouping_reports_progress_and_can_be_cancelled(catalogued):
    from anagnorisis_tui.core.base.progress import Cancelled

    library, _, _ = catalogued
    stages = set()
    library.duplicates.groups(GroupOptions(method="phash"), progress=lambda p: stages.add(p.stage))
    assert {"phash pairs", "verifying"} <= stages
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        library.duplicates.groups(GroupOptions(method="phash"), cancel=cancel)


def test_mutual_neighbours_keep_a_hub_from_chaining(settings):
    library = Library(settings)
    db = library.db
    names = ["a", "b", "hub"]
    for name in names:
        add_file(db, f"/lib/{name}.jpg", content_hash=name)
    vectors.register_model(db, "m", 3)
    # a and b are both close to the hub (cosine 0.90) but not to each other (0.62).
    vectors.put_vectors(
        db, "m", names, np.array([[1, 0.35, 0], [0.35, 1, 0], [1, 1, 0]], dtype=np.float32)
    )
    position = {h: p for p, h in enumerate(names)}
    args = (db, names, "m", 0.85, 1, "exact", False, None, None, None)
    i, j, _ = _vector_edges(*args)
    assert len(i) == 2  # each of a, b proposes the hub
    i, j, _ = _vector_edges(*args[:6], True, *args[7:])
    assert list(zip(i.tolist(), j.tolist(), strict=True)) in (
        [(position["a"], position["hub"])],
        [(position["b"], position["hub"])],
    )
    library.close()
