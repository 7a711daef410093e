"""Duplicates you can trust: verification tiers on real generated images (bench/hardset.py),
the renditions store, groups that never chain, and dedupe plans that never take a distinct
picture."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from anagnorisis_tui.core.base import db as dbmod
from anagnorisis_tui.core.duplicates import renditions, tiers, verify
from anagnorisis_tui.core.duplicates.groups import Group, Member
from anagnorisis_tui.core.duplicates.options import GroupOptions
from anagnorisis_tui.core.duplicates.plan import plan_group_action
from anagnorisis_tui.core.library import Library
from bench import hardset

pytestmark = pytest.mark.slow  # see README: the two test lanes


@pytest.fixture(scope="session")
def hard(tmp_path_factory) -> tuple[Path, dict[Path, hardset.Item]]:
    root = tmp_path_factory.mktemp("hardset")
    return root, hardset.build(root, small=True)


@pytest.fixture(scope="module")
def grouped(hard, tmp_path_factory):
    from anagnorisis_tui.core.base.config import load_settings

    root, truth = hard
    data = tmp_path_factory.mktemp("hard-data")
    settings = load_settings(data_dir=data, config_file=data / "none.toml", overrides={})
    with Library(settings) as library:
        library.catalogue.scan(root)
        report = library.duplicates.group_report(GroupOptions(method="phash"))
        plan = library.duplicates.plan_group_action(report.groups)
        yield library, truth, report, plan


def _item(truth, path: str) -> hardset.Item:
    return truth[Path(path)]


def test_dedupe_plan_never_moves_a_hard_negative_or_a_last_copy(grouped):
    _, truth, report, plan = grouped
    moved = {item.path for item in plan.items}
    assert moved, "the true copies should be planned"
    assert not [p for p in moved if not _item(truth, p).positive]
    left = {item.label for p, item in truth.items() if str(p) not in moved}
    assert all(_item(truth, p).label in left for p in moved)  # a copy always stays
    for group in report.groups:
        labels = {_item(truth, m.path).label for m in (group.keeper, *group.duplicates())}
        assert len(labels) == 1, [m.path for m in group.members]


def test_copies_are_verified_in_their_tiers(grouped):
    _, truth, report, _ = grouped
    tier = {m.path: m.tier for g in report.groups for m in g.members}
    for path, item in truth.items():
        if item.kind != "photo" or item.transform not in (
            "copy",
            "png-pixels",
            "png-text",
            "resized-50",
            "q35",
            "webp",
            "exif-rotated",
        ):
            continue
        assert tier.get(str(path)) in ("keeper", "bytes", "pixels", "same"), (
            path,
            tier.get(str(path)),
        )
    whys = {m.why for g in report.groups for m in g.others}
    assert "identical pixels" in {w.split(",")[0] for w in whys}
    assert any("50% size" in w for w in whys)
    assert any("% crop" in w for w in whys)


def test_alpha_only_and_colour_variants_are_never_duplicates(hard):
    root, truth = hard

    def load(path: Path) -> verify.Rendition:
        with Image.open(path) as image:
            image.load()
            return verify.of_image(image)

    for kind in ("alpha-overlay", "alpha-logo", "colour-variant"):
        paths = sorted(p for p, item in truth.items() if item.kind == kind)
        shown = [load(p) for p in paths]
        for x in range(len(paths)):
            for y in range(x + 1, len(paths)):
                verdict = verify.verify(shown[x], shown[y])
                assert verdict.tier not in verify.DUPLICATE_TIERS, (paths[x], paths[y], verdict)


def test_rendition_ignores_hidden_colour_under_transparency():
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[10:30, 10:30] = (255, 255, 255, 255)
    hidden = rgba.copy()
    hidden[rgba[..., 3] == 0, :3] = (200, 30, 90)  # invisible: alpha 0
    a = verify.of_image(Image.fromarray(rgba, "RGBA"))
    b = verify.of_image(Image.fromarray(hidden, "RGBA"))
    assert verify.verify(a, b).tier == "same"
    moved = rgba.copy()
    moved[..., 3] = 0
    moved[5:25, 5:25, 3] = 255  # the same white, another shape of alpha
    c = verify.of_image(Image.fromarray(moved, "RGBA"))
    assert verify.verify(a, c).tier not in verify.DUPLICATE_TIERS


def test_low_detail_pictures_are_only_trusted_on_identical_pixels():
    rng = np.random.default_rng(1)
    flat = [
        np.full((64, 64, 3), 180, np.uint8) + rng.integers(0, 3, (64, 64, 3)).astype(np.uint8)
        for _ in range(2)
    ]
    a, b = (verify.of_image(Image.fromarray(f)) for f in flat)
    assert a.low_detail and b.low_detail
    verdict = verify.verify(a, b)
    # The renditions alone never call them copies; equal without any fit, the thumbnails decide.
    assert verdict.tier not in verify.DUPLICATE_TIERS and verdict.low_detail and verdict.flat_copy


def test_clusters_never_chain_and_break_a_large_cluster():
    # 0 ~ 1 ~ 2 ~ 3 in a chain: only 1 is verified against 0, the best (keeper) image.
    edges = {(0, 1): tiers.Edge("same"), (1, 2): tiers.Edge("same"), (2, 3): tiers.Edge("edited")}
    found, split = tiers.clusters(edges, order=lambda n: (n,))
    assert [(c.keeper, sorted(c.members)) for c in found] == [(0, [1]), (2, [3])]
    assert split == 2
    # Similar members join a keeper they are similar to, never a duplicate tier.
    found, _ = tiers.clusters(
        {(0, 1): tiers.Edge("same"), (0, 4): tiers.Edge("similar")}, order=lambda n: (n,)
    )
    assert found[0].members[4].tier == "similar"


def _group(*tiers_: str) -> Group:
    members = [Member("/k.jpg", "k", 10, 20, 20, 1, "/", "keeper")]
    members += [Member(f"/m{n}.jpg", f"m{n}", 10, 20, 20, 1, "/", t) for n, t in enumerate(tiers_)]
    return Group(1, tuple(members), 0.99, tiers_)


def test_plan_acts_on_verified_tiers_only_unless_asked():
    group = _group("same", "similar", "edited")
    assert [i.path for i in plan_group_action([group]).items] == ["/m0.jpg", "/m2.jpg"]
    only_same = plan_group_action([group], tiers=("same",))
    assert [i.path for i in only_same.items] == ["/m0.jpg"]
    chosen = plan_group_action([group], include={1: {"/m1.jpg"}})
    assert [i.path for i in chosen.items] == ["/m0.jpg", "/m1.jpg", "/m2.jpg"]
    # A "similar" member chosen as keeper: the original is only similar to it, so it stays.
    swapped = plan_group_action([group], keepers={1: "/m1.jpg"})
    assert "/k.jpg" not in [i.path for i in swapped.items]


def test_why_says_what_differs():
    same = verify.Verdict("same", 1.0, 4.0, 0.0, 1.0, False)
    assert (
        tiers.describe("same", same, (500, 400, "JPEG"), (1000, 800, "JPEG"))
        == "same picture, 50% size"
    )
    assert (
        tiers.describe("same", same, (1000, 800, "JPEG"), (1000, 800, "JPEG"))
        == "same picture, re-encoded"
    )
    assert (
        tiers.describe("same", same, (1000, 800, "WEBP"), (1000, 800, "JPEG"))
        == "same picture, WEBP not JPEG"
    )
    cropped = verify.Verdict("edited", 2.0, 9.0, 0.05, 1.0, False)
    assert "5% crop" in tiers.describe("edited", cropped, (950, 760, "JPEG"), (1000, 800, "JPEG"))


def test_renditions_table_store_load_and_lazy_pass(grouped, tmp_path):
    library, truth, _, _ = grouped
    db = library.db
    assert renditions.pending(db) == 0  # grouping made every missing one
    some = [h for (h,) in db.execute("SELECT hash FROM renditions LIMIT 3").fetchall()]
    loaded = renditions.load(db, some)
    assert set(loaded) == set(some)
    assert all(r.pixels.shape == (verify.SIDE, verify.SIDE, 4) for r in loaded.values())
    with db.conn:
        db.execute("DELETE FROM renditions WHERE hash = ?", [some[0]])
    summary = renditions.compute_missing(db)
    assert (summary.done, summary.failed) == (1, 0)
    assert renditions.load(db, some[:1])[some[0]].pixels.shape == (verify.SIDE, verify.SIDE, 4)


def test_an_old_catalogue_gains_the_renditions_table(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for statement in dbmod._statements(dbmod.MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version=1")
    conn.commit()
    conn.close()
    db = dbmod.connect(path)
    dbmod.migrate(db)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "renditions" in tables
    assert dbmod.schema_version(db) == len(dbmod.MIGRATIONS)


def test_what_grouping_left_out_is_said_in_one_line():
    from anagnorisis_tui.core.duplicates.groups import GroupReport
    from anagnorisis_tui.ui.state.group_view import left_out_text

    assert left_out_text(GroupReport([], 0, 0, 0)) == ""
    text = left_out_text(GroupReport([], 3, 2, 1))
    assert text.startswith("3 low-detail pictures") and "2 images not verified" in text
