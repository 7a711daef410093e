"""Search, text concepts and vector groups with the shipped tiny CLIP on generated shapes."""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image, ImageEnhance

from anagnorisis_tui.core.duplicates.options import GroupOptions
from anagnorisis_tui.core.views.filters import Concept, Filters
from anagnorisis_tui.core.views.paging import ViewSpec


def _colours(entries, shapes_images) -> list[str]:
    return [shapes_images[e.path].colour for e in entries]


def test_search_composes_with_scope_and_filters(shapes_library, shapes_images):
    lib = shapes_library
    spec = ViewSpec(search="red", sort="score", descending=True)
    top = lib.views.page(spec, 0, 10)
    assert sum(c == "red" for c in _colours(top, shapes_images)) >= 8
    assert all(a.score >= b.score for a, b in zip(top, top[1:], strict=False))
    assert lib.views.count(spec) == len(shapes_images)  # every image is embedded, all are ranked
    folder = top[0].folder
    scoped = ViewSpec(search="red", sort="score", descending=True, folder=folder)
    entries = lib.views.page(scoped, 0, 500)
    assert entries and all(e.folder == folder for e in entries)
    assert lib.views.count(scoped) == sum(1 for p in shapes_images if Path(p).parent.name == folder)
    # The search decides the order; a filter narrows it without reordering the rest.
    small = ViewSpec(
        search="red", sort="score", descending=True, filters=Filters(max_bytes=top[3].size)
    )
    narrowed = [e.path for e in lib.views.page(small, 0, 1000)]
    expected = [e.path for e in lib.views.page(spec, 0, 1000) if e.size <= top[3].size]
    assert narrowed == expected


def test_concept_keep_and_exclude_split_the_library(shapes_library, shapes_images):
    lib = shapes_library
    ranked = lib.views.page(
        ViewSpec(sort="score", descending=True, filters=Filters(concept=Concept("blue", -1.0))),
        0,
        1000,
    )
    assert len(ranked) == len(shapes_images)
    threshold = ranked[39].score  # the 40 most blue-looking images
    keep = lib.views.page(ViewSpec(filters=Filters(concept=Concept("blue", threshold))), 0, 1000)
    assert len(keep) >= 40 and all(e.score >= threshold for e in keep)
    assert sum(c == "blue" for c in _colours(keep, shapes_images)) >= 0.8 * len(keep)
    drop = ViewSpec(filters=Filters(concept=Concept("blue", threshold, exclude=True)))
    assert lib.views.count(drop) + len(keep) == len(shapes_images)
    assert all(e.concept < threshold for e in lib.views.page(drop, 0, 1000))


def test_images_without_vectors_are_left_out_of_search_and_concepts(
    shapes_library, shapes_images, tmp_path
):
    lib = shapes_library
    root = tmp_path / "lib"
    shutil.copytree(Path(next(iter(shapes_images))).parent.parent, root)
    new = root / "new.png"
    Image.new("RGB", (64, 64), "red").save(new)
    lib.catalogue.scan(root)  # catalogued, not embedded
    in_root = ViewSpec(root=str(root))
    assert lib.views.count(in_root) == len(shapes_images) + 1
    for flt in (Concept("red", -1.0), Concept("red", 1.0, exclude=True)):
        spec = ViewSpec(root=str(root), filters=Filters(concept=flt))
        assert lib.views.count(spec) == len(shapes_images)
    assert lib.views.count(ViewSpec(root=str(root), search="red")) == len(shapes_images)
    lib.semantic.embed()
    assert lib.views.count(ViewSpec(root=str(root), search="red")) == len(shapes_images) + 1


def test_vector_groups_join_transformed_copies(shapes_library, shapes_images, tmp_path):
    lib = shapes_library
    root = tmp_path / "lib"
    originals = list(shapes_images)[:60:12]
    root.mkdir()
    for n, path in enumerate(originals):
        image = Image.open(path).convert("RGB")
        image.save(root / f"{n}.png")
        image.resize((72, 72)).save(root / f"{n}-small.jpg", quality=80)
        ImageEnhance.Brightness(image).enhance(1.2).save(root / f"{n}-bright.jpg", quality=90)
    lib.catalogue.scan(root)
    lib.semantic.embed()
    groups = lib.duplicates.groups(GroupOptions(method="vectors", threshold=0.97, root=str(root)))
    by_name = {Path(m.path).name: g.id for g in groups for m in g.members}
    joined = sum(
        by_name.get(f"{n}.png") is not None
        and by_name.get(f"{n}.png") == by_name.get(f"{n}-small.jpg")
        for n in range(len(originals))
    )
    assert joined >= len(originals) - 1
    for group in groups:
        stems = {Path(m.path).name.split("-")[0].split(".")[0] for m in group.members}
        assert len(stems) == 1, [m.path for m in group.members]
