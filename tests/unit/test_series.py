"""A copy or another moment: series made from real photos (bench/seriesset.py: bursts with a
moving subject, pans, exposure brackets, a changed region, animation frames, icon states) are
never in a default trash plan, and are shown as `series` groups with the why; flat pictures'
copies are found on the thumbnails."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from anagnorisis_tui.core.duplicates import evidence, moments, shots, tiers, verify
from anagnorisis_tui.core.duplicates.options import TONE_OR_BRACKET, GroupOptions
from anagnorisis_tui.core.library import Library
from bench import hardset, seriesset


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    from anagnorisis_tui.core.base.config import load_settings

    root = tmp_path_factory.mktemp("series")
    truth = seriesset.build(root)
    data = tmp_path_factory.mktemp("series-data")
    settings = load_settings(data_dir=data, config_file=data / "none.toml", overrides={})
    with Library(settings) as library:
        library.catalogue.scan(root)
        report = library.duplicates.group_report(GroupOptions(method="phash"))
        plan = library.duplicates.plan_group_action(report.groups)
        yield library, truth, report, plan


def _truth(truth: dict[Path, hardset.Item], path: str) -> hardset.Item:
    return truth[Path(path)]


@pytest.mark.slow
def test_the_default_plan_moves_no_frame_of_a_series(series):
    _, truth, _, plan = series
    moved = [_truth(truth, item.path) for item in plan.items]
    assert not [item.label for item in moved if item.kind == "series"]
    # Each planned file leaves a copy of its picture behind.
    kept = {_truth(truth, item.keeper).label for item in plan.items}
    assert all(item.label in kept for item in moved)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("scene", "why"),
    [
        ("burst-astronaut", "a region differs"),  # no EXIF: the pixels tell
        ("burst-coffee", "apart"),  # EXIF with sub-seconds
        ("pan-chelsea", "a pan, not a crop"),
        ("pan-rocket", "a pan, not a crop"),
        ("bracket-china", "apart"),
        ("region-camera", "a region differs"),
        ("region-retina", "a region differs"),
        ("anim-china", "a region differs"),
        # Its texture is busier: frames 6 degrees apart leave a median block residual over
        # the one-scene limit as registered (a turn is no scale and shift), under it once each
        # block may move a little. Two groups before.
        ("anim-flower", "a region differs"),
    ],
)
def test_each_series_is_one_series_group_that_says_why(series, scene, why):
    _, truth, report, _ = series
    frames = {str(p) for p, item in truth.items() if item.scene == scene}
    holding = [g for g in report.groups if frames & {m.path for m in g.members}]
    assert len(holding) == 1, [[m.path for m in g.members] for g in holding]
    group = holding[0]
    assert {m.path for m in group.members} == frames
    assert group.tier == "series"
    assert all(m.tier == "series" for m in group.others)
    assert any(why in m.why for m in group.others), [m.why for m in group.others]


@pytest.mark.slow
def test_a_series_is_planned_only_when_named(series):
    library, truth, report, _ = series
    plan = library.duplicates.plan_group_action(report.groups, tiers=("series",))
    assert {_truth(truth, i.path).kind for i in plan.items} == {"series"}


@pytest.mark.slow
def test_flat_pictures_copies_are_found_on_the_thumbnails(series):
    _, truth, report, plan = series
    flat = {str(p): item for p, item in truth.items() if item.kind == "flat"}
    for label in {item.label for item in flat.values()}:
        files = {p for p, item in flat.items() if item.label == label}
        holding = [g for g in report.groups if files & {m.path for m in g.members}]
        # One group per flat picture, its copies verified "same": distinct gradients never join.
        assert len(holding) == 1 and {m.path for m in holding[0].members} == files, label
        assert holding[0].tier == "same"
    planned = {i.path for i in plan.items}
    assert len(planned & set(flat)) == 2 * len({item.label for item in flat.values()})


def _thumb(image: Image.Image) -> Image.Image:
    image = image.convert("RGB")
    image.thumbnail((256, 256))
    return image


@pytest.mark.slow
def test_moments_tell_a_moved_subject_from_a_re_encode():
    photo = hardset.photo_sources(["coffee"])["coffee"].resize((512, 341))
    subject = photo.crop((0, 0, 64, 64)).transpose(Image.Transpose.ROTATE_180)
    first, moved = photo.copy(), photo.copy()
    first.paste(subject, (100, 140))
    moved.paste(subject, (140, 140))  # 40 px further along
    assert not moments.compare(_thumb(first), _thumb(moved)).copy
    smaller = first.resize((256, 170), Image.Resampling.LANCZOS)
    assert moments.compare(_thumb(first), _thumb(smaller)).copy


def test_frames_of_a_turning_subject_are_one_scene_but_not_copies():
    photos = hardset.photo_sources(["china", "flower"])
    frames = [f for scene, _, f, _ in seriesset.animation(photos) if scene == "anim-flower"]
    assert len(frames) == 4
    for first, second in zip(frames, frames[1:], strict=False):  # 6 degrees apart
        moment = moments.compare(_thumb(first), _thumb(second))
        assert moment.scene and not moment.copy, moment
    # A different scene is found nowhere near, however much its blocks may move.
    other = hardset.photo_sources(["coffee"])["coffee"].resize(frames[0].size)
    assert not moments.compare(_thumb(frames[0]), _thumb(other)).scene


def test_a_pan_is_not_a_crop_but_a_crop_is():
    wide = hardset.photo_sources(["chelsea"])["chelsea"]
    w, h = wide.size
    frame = wide.crop((0, 0, int(w * 0.9), h))
    panned = wide.crop((int(w * 0.02), 0, int(w * 0.92), h))
    pan = moments.compare(_thumb(frame), _thumb(panned))
    assert not pan.copy and "pan" in pan.why and pan.scene
    cropped = frame.crop((int(w * 0.03), int(h * 0.03), int(w * 0.85), int(h * 0.95)))
    assert moments.compare(_thumb(frame), _thumb(cropped)).copy


def _exif(second: str, sub: str, exposure: tuple[int, int]) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = f"2024:06:01 12:00:{second}"
    ifd[0x9291] = sub
    ifd[0x829A] = exposure
    return exif


def test_shots_say_another_moment_only_when_both_record_one(tmp_path):
    picture = Image.new("RGB", (32, 32), (120, 80, 40))
    paths = {}
    for name, exif in (
        ("a", _exif("05", "10", (1, 250))),
        ("a-copy", _exif("05", "10", (1, 250))),
        ("b", _exif("05", "42", (1, 250))),  # a third of a second later
        ("c", _exif("05", "10", (1, 60))),  # same instant, other exposure
        ("none", None),
    ):
        paths[name] = tmp_path / f"{name}.jpg"
        picture.save(paths[name], exif=exif) if exif else picture.save(paths[name])
    read = {name: shots.read(str(path)) for name, path in paths.items()}
    assert shots.other_moment(read["a"], read["a-copy"]) == ""
    assert "0.32 s apart" in shots.other_moment(read["a"], read["b"])
    assert "exposure" in shots.other_moment(read["a"], read["c"])
    assert shots.other_moment(read["a"], read["none"]) == ""


def test_an_unchecked_pair_is_never_a_copy():
    same = verify.Verdict("same", 1.0, 2.0, 0.0, 1.0, False)
    edge = tiers.Edge("same", same)
    picture = Image.new("RGB", (64, 64))
    looked = evidence.second_look(edge, picture, None, shots.Shot(), shots.Shot())
    assert looked.tier not in verify.DUPLICATE_TIERS


def test_distinct_flat_pictures_stay_apart():
    a = Image.fromarray(np.full((90, 120, 3), (200, 40, 40), np.uint8))
    b = Image.fromarray(np.full((90, 120, 3), (190, 48, 40), np.uint8))
    assert not moments.compare(a, b, flat=True).copy
    assert moments.compare(a, a.resize((40, 30)), flat=True).copy


@pytest.mark.slow
def test_mirrored_and_rotated_copies_are_edited_and_say_how(series):
    _, truth, report, plan = series
    # hubble_deep_field is near-black: its keeper is the copy rotated 180 degrees, so its mirrored
    # copy must be found upside down (a reflection the probes once lacked).
    for name in ("immunohistochemistry", "coins", "hubble_deep_field"):
        files = {str(p) for p, item in truth.items() if item.label == f"turned-{name}"}
        holding = [g for g in report.groups if files & {m.path for m in g.members}]
        assert len(holding) == 1 and {m.path for m in holding[0].members} == files, name
        group = holding[0]
        assert {m.tier for m in group.others} == {"edited"}
        whys = " | ".join(m.why for m in group.others)
        assert "rotated 180°" in whys and "mirrored" in whys, whys
        assert len(files & {i.path for i in plan.items}) == len(files) - 1


def test_every_reflection_of_a_picture_is_probed():
    """A copy flipped upside down (mirrored and rotated 180 degrees) is proposed and verified
    like the other six turns: its turned code equals the picture's own."""
    from anagnorisis_tui.core.duplicates import probes

    photo = hardset.photo_sources(["coffee"])["coffee"].resize((300, 200))
    for transpose in Image.Transpose:
        turned = photo.transpose(transpose)
        codes = probes.box_codes(np.stack([verify.of_image(photo).pixels]))
        mine = probes.box_codes(np.stack([verify.of_image(turned).pixels]))[0, 0]
        bits = [bin(int(c) ^ int(mine)).count("1") for c in codes[0, len(probes.BOXES) :]]
        assert min(bits) <= probes.PROBE_DISTANCE, (transpose, bits)
        edge = tiers._turned(verify.of_image(photo), verify.of_image(turned))
        assert edge is not None and edge.tier == "edited", transpose


def test_the_best_of_a_series_is_yours_else_the_models():
    from anagnorisis_tui.core.views.paging import ImageEntry
    from anagnorisis_tui.ui.state.group_view import best_member

    def entry(name: str, rating: float | None, predicted: float | None) -> ImageEntry:
        return ImageEntry(name, name, name, "", "", 1, 10, 10, "JPEG", 0, rating, None, predicted)

    shots_ = [entry("a", None, 8.5), entry("b", 6, 3.0), entry("c", 7, None)]
    assert best_member(shots_).path == "c"  # your rating wins over the model's higher guess
    assert best_member([entry("a", None, 8.5), entry("b", None, 9.1)]).path == "b"
    assert best_member([entry("a", None, None)]) is None


@pytest.mark.slow
def test_a_bracket_without_exif_is_never_planned_but_an_edit_of_one_shot_is(tmp_path):
    """Exposure brackets stripped of their EXIF differ from each other by a tone curve, as a
    brightness edit does: nothing tells which. Such a pair is found (`edited`, saying so: most
    often it is a copy) but never in the default plan nor marked in the app's review; named
    with `--tier edited` it is. A brightness edit that keeps its shot's capture time is planned."""
    from PIL import ImageEnhance

    from anagnorisis_tui.core.base.config import load_settings

    photos = hardset.photo_sources(seriesset.USE["bracket"] + ("coffee",))
    root = tmp_path / "photos"
    root.mkdir()
    for _scene, label, image, _exif in seriesset.brackets(photos):
        image.save(root / f"{label}.jpg", quality=92)  # no EXIF
    shot = seriesset._exif(30, 0, 1 / 125)
    coffee = photos["coffee"].resize((512, 341))
    coffee.save(root / "coffee.jpg", quality=92, exif=shot)
    brighter = ImageEnhance.Brightness(coffee).enhance(1.15)
    brighter.save(root / "coffee-brighter.jpg", quality=92, exif=shot)
    data = tmp_path / "data"
    settings = load_settings(data_dir=data, config_file=data / "none.toml", overrides={})
    with Library(settings) as library:
        library.catalogue.scan(root)
        report = library.duplicates.group_report(GroupOptions(method="phash"))
        plan = library.duplicates.plan_group_action(report.groups)
    planned = {Path(item.path).name for item in plan.items}
    assert not [name for name in planned if name.startswith("bracket")], planned
    assert planned & {"coffee.jpg", "coffee-brighter.jpg"}, planned
    members = {Path(m.path).name: m for g in report.groups for m in g.others}
    brackets = [m for name, m in members.items() if name.startswith("bracket")]
    assert brackets and all(m.tier in ("edited", "series", "similar") for m in brackets)
    unproven = [m for m in brackets if m.tier == "edited"]
    assert unproven and all(TONE_OR_BRACKET in m.why for m in unproven)
    marked = {m.path for g in report.groups for m in g.duplicates()}  # the app's review
    assert not [m for m in brackets if m.path in marked]
    with Library(settings) as library:
        named = library.duplicates.plan_group_action(report.groups, tiers=("edited",))
    assert {m.path for m in unproven} <= {item.path for item in named.items}
