"""Copies the verified tiers used to miss, on real generated images: 10% crops beyond the pHash
radius (crop-box candidates), icons resampled by uneven factors (compared at the smaller size)
and edits that clip highlights (a clip-aware brightness/contrast fit)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from anagnorisis_tui.core.base.config import load_settings
from anagnorisis_tui.core.duplicates import phash, probes, verify
from anagnorisis_tui.core.duplicates.options import DEFAULT_PHASH_DISTANCE, GroupOptions
from anagnorisis_tui.core.library import Library
from bench import hardset

pytestmark = pytest.mark.slow  # see README: the two test lanes


def _shown(path: Path) -> verify.Rendition:
    with Image.open(path) as image:
        image.load()
        return verify.of_image(image)


@pytest.fixture
def library(tmp_path):
    data = tmp_path / "data"
    settings = load_settings(data_dir=data, config_file=data / "none.toml", overrides={})
    with Library(settings) as lib:
        yield lib


def _crop(image: Image.Image, left: float, top: float, right: float, bottom: float):
    w, h = image.size
    return image.crop((round(w * left), round(h * top), round(w * right), round(h * bottom)))


def test_crops_beyond_the_phash_radius_are_proposed_and_verified_edited(library, tmp_path):
    root = tmp_path / "lib"
    root.mkdir()
    photo = hardset._fit(hardset.photo_sources(["coffee"])["coffee"], 384)
    photo.save(root / "coffee.jpg", quality=92)
    # 10% of each side, from the centre and from one corner; another photo stays apart.
    _crop(photo, 0.05, 0.05, 0.95, 0.95).save(root / "centre-crop.jpg", quality=92)
    _crop(photo, 0.1, 0.1, 1.0, 1.0).save(root / "corner-crop.jpg", quality=92)
    hardset._fit(hardset.photo_sources(["chelsea"])["chelsea"], 384).save(root / "cat.jpg")
    original = phash.phash_file(root / "coffee.jpg")
    for name in ("centre-crop.jpg", "corner-crop.jpg"):
        # The pHash alone never proposes these pairs at the default radius.
        assert phash.hamming(original, phash.phash_file(root / name)) > DEFAULT_PHASH_DISTANCE
    library.catalogue.scan(root)
    report = library.duplicates.group_report(GroupOptions(method="phash"))
    [group] = [g for g in report.groups if len(g.members) > 1]
    assert Path(group.keeper.path).name == "coffee.jpg"
    tiers = {Path(m.path).name: (m.tier, m.why) for m in group.others}
    assert set(tiers) == {"centre-crop.jpg", "corner-crop.jpg"}
    for tier, why in tiers.values():
        assert tier == "edited" and "crop" in why


def test_box_codes_of_the_whole_rendition_match_the_crop_box_of_the_original(tmp_path):
    photo = hardset._fit(hardset.photo_sources(["astronaut"])["astronaut"], 384)
    whole = verify.of_image(photo).pixels[None]
    crop = verify.of_image(_crop(photo, 0.05, 0.05, 0.95, 0.95)).pixels[None]
    codes = probes.box_codes(np.concatenate([whole, crop]))
    centre10 = [n for n, box in enumerate(probes.BOXES) if box == (0.1, 0.5, 0.5)][0]
    assert phash.hamming(int(codes[0, centre10]), int(codes[1, 0])) <= probes.PROBE_DISTANCE
    assert phash.hamming(int(codes[0, 0]), int(codes[1, 0])) > probes.PROBE_DISTANCE


@pytest.mark.parametrize("side", [16, 24, 32, 48, 64, 128])
def test_icons_at_every_size_are_the_same_picture_and_other_icons_are_not(side):
    icons = dict(hardset.icon_designs(3))
    big = {name: verify.of_image(icon) for name, icon in icons.items()}
    for name, icon in icons.items():
        small = verify.of_image(icon.resize((side, side), Image.Resampling.LANCZOS))
        assert verify.verify(big[name], small).tier == "same", (name, side)
        for other, shown in big.items():
            if other != name:
                assert verify.verify(shown, small).tier not in verify.DUPLICATE_TIERS


def test_an_edit_that_clips_highlights_is_lightly_edited_not_similar(tmp_path):
    wheel = hardset._fit(hardset.photo_sources(["colorwheel"])["colorwheel"], 384)
    wheel.save(tmp_path / "wheel.jpg", quality=92)
    ImageEnhance.Contrast(wheel).enhance(1.15).save(tmp_path / "contrast.jpg", quality=92)
    raw = np.asarray(Image.open(tmp_path / "contrast.jpg").convert("RGB"))
    assert (raw >= 254).mean() > 0.1  # the white around the wheel and its brightest colours
    verdict = verify.verify(_shown(tmp_path / "wheel.jpg"), _shown(tmp_path / "contrast.jpg"))
    assert verdict.tier == "edited", verdict


def test_colour_variants_stay_apart_under_the_clip_aware_fit(tmp_path):
    variants = [im for _, im in hardset.colour_variants(2, 4, 192)]
    shown = [verify.of_image(ImageEnhance.Brightness(v).enhance(1.3)) for v in variants[:4]]
    plain = [verify.of_image(v) for v in variants[:4]]
    for x in range(4):
        for y in range(4):
            if x != y:
                assert verify.verify(plain[x], shown[y]).tier not in verify.DUPLICATE_TIERS


@pytest.mark.parametrize("distance", [3, 5, 7])
def test_crop_box_search_equals_brute_force(distance):
    rng = np.random.default_rng(distance)
    index = rng.integers(0, 2**63, 3000, dtype=np.int64).view(np.uint64)
    queries = index[rng.integers(0, len(index), 2000)].copy()
    for row in range(len(queries)):  # near copies: 0 to 9 bits flipped
        for bit in rng.choice(64, rng.integers(0, 10), replace=False):
            queries[row] ^= np.uint64(1) << np.uint64(bit)
    q, i = probes._cross(queries, index, distance, None)
    got = set(zip(q.tolist(), i.tolist(), strict=True))
    close = np.bitwise_count(queries[:, None] ^ index[None, :]) <= distance
    assert got == set(zip(*(a.tolist() for a in np.nonzero(close)), strict=True))
