"""What the user decides about duplicates, end to end through the command line on real photos:
keeper rules, protected (reference) folders, dismissals remembered by content, a RAW file and
its JPEG as a pair of their own, and the same defaults in the CLI and the app."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from anagnorisis_tui.cli import main
from anagnorisis_tui.core.duplicates.groups import Member
from anagnorisis_tui.core.duplicates.keepers import KeeperRules
from anagnorisis_tui.core.duplicates.options import GroupOptions
from bench import hardset
from tests.support import rawfiles


def _photo(name: str, width: int) -> Image.Image:
    image = hardset.photo_sources([name])[name]
    return image.resize(
        (width, round(image.height * width / image.width)), Image.Resampling.LANCZOS
    )


def _exif(date: str) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif.get_ifd(0x8769)[0x9003] = date
    return exif


@pytest.fixture
def pics(tmp_path, monkeypatch) -> Path:
    from send2trash import plat_other

    data = tmp_path / "home" / ".local" / "share"
    data.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", os.fsencode(data))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", os.fsencode(data / "Trash"))
    root = tmp_path / "pics"
    (root / "masters").mkdir(parents=True)
    (root / "raw").mkdir()
    coffee = _photo("coffee", 512)
    coffee.save(root / "coffee.jpg", quality=92)
    coffee.resize((256, 171), Image.Resampling.LANCZOS).save(root / "masters" / "coffee.jpg")
    # A camera's RAW with its embedded preview, and the camera's JPEG of the same shot.
    shot = _photo("chelsea", 384)
    date = "2024:05:04 10:11:12"
    rawfiles.write_dng(
        root / "raw" / "IMG_0001.dng", width=256, height=192, preview=shot, date=date
    )
    shot.save(root / "raw" / "IMG_0001.jpg", quality=92, exif=_exif(date))
    assert main(["scan", str(root), "--quiet"]) == 0
    return root


def _groups(capsys, *args: str) -> list[dict]:
    capsys.readouterr()
    assert main(["groups", "--method", "phash", "--json", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def _planned(capsys, *args: str) -> list[str]:
    capsys.readouterr()
    assert main(["dedupe", "--trash", "--dry-run", "--json", *args]) == 0
    return [
        Path(p).relative_to(Path.cwd().anchor).as_posix()
        for p, _ in json.loads(capsys.readouterr().out)["done"]
    ]


def _names(paths: list[str]) -> set[str]:
    return {"/".join(Path(p).parts[-2:]) for p in paths}


@pytest.mark.slow
def test_a_reference_folder_keeps_and_is_never_moved(pics, capsys):
    [coffee] = [g for g in _groups(capsys) if "coffee" in g["keeper"]]
    assert Path(coffee["keeper"]).parent == pics  # the larger copy, by default
    assert _names(_planned(capsys)) >= {"masters/coffee.jpg"}
    masters = str(pics / "masters")
    [coffee] = [g for g in _groups(capsys, "--reference", masters) if "coffee" in g["keeper"]]
    assert Path(coffee["keeper"]).parent.name == "masters"
    planned = _names(_planned(capsys, "--reference", masters))
    assert "pics/coffee.jpg" in planned and "masters/coffee.jpg" not in planned


@pytest.mark.slow
def test_the_settings_reference_folder_protects_whatever_the_keeper(pics, capsys, settings):
    from anagnorisis_tui.core.base.config import replace
    from anagnorisis_tui.core.library import Library

    settings = replace(settings, duplicates_reference=(str(pics / "masters"),))
    with Library(settings) as library:
        library.catalogue.scan(pics)
        groups = library.duplicates.group_report(GroupOptions(method="phash")).groups
        [coffee] = [g for g in groups if any("coffee" in m.path for m in g.members)]
        outside = next(m.path for m in coffee.members if "masters" not in m.path)
        # Even told to keep the other one and to trash every tier, the reference file stays.
        plan = library.duplicates.plan_group_action(
            [coffee], keepers={coffee.id: outside}, tiers=("bytes", "pixels", "same", "edited")
        )
        assert not [i.path for i in plan.items if "masters" in i.path]


@pytest.mark.slow
def test_a_raw_file_and_its_jpeg_are_a_pair_not_same(pics, capsys):
    [pair] = [g for g in _groups(capsys) if "IMG_0001" in g["keeper"]]
    other = pair["members"][1]
    assert other["tier"] == "raw-pair"
    assert "RAW" in other["why"] and "one capture time" in other["why"]
    # Not in the default plan; named, the keeper rules choose which one stays.
    assert not [p for p in _planned(capsys) if "IMG_0001" in p]
    keep_raw = _planned(capsys, "--tier", "raw-pair", "--prefer-format", "RAW,JPEG")
    assert _names(keep_raw) == {"raw/IMG_0001.jpg"}
    keep_jpeg = _planned(capsys, "--tier", "raw-pair", "--prefer-format", "JPEG")
    assert _names(keep_jpeg) == {"raw/IMG_0001.dng"}


@pytest.mark.slow
def test_a_dismissed_group_never_comes_back_until_taken_back(pics, capsys):
    before = _groups(capsys)
    number = next(g["group"] for g in before if "coffee" in g["keeper"])
    capsys.readouterr()
    assert main(["groups", "--method", "phash", "--dismiss", str(number)]) == 0
    assert "dismissed" in capsys.readouterr().out
    assert not [g for g in _groups(capsys) if "coffee" in g["keeper"]]
    # Moved and renamed, rescanned: still the same contents, still dismissed.
    shutil.move(pics / "coffee.jpg", pics / "raw" / "renamed.jpg")
    assert main(["scan", str(pics), "--quiet"]) == 0
    assert not [
        g
        for g in _groups(capsys)
        if any("coffee" in m["path"] or "renamed" in m["path"] for m in g["members"])
    ]
    capsys.readouterr()
    assert main(["groups", "--dismissed"]) == 0
    listing = capsys.readouterr().out
    assert "dismissal 1: 2 pictures" in listing and "renamed.jpg" in listing
    assert main(["groups", "--undismiss", "1"]) == 0
    assert [g for g in _groups(capsys) if any("renamed" in m["path"] for m in g["members"])]


def test_keeper_rules_come_before_the_default_order():
    big = Member("/p/a.jpg", "1", 900, 400, 300, 1, format="JPEG", rating=3.0)
    raw = Member("/p/a.dng", "2", 5000, 256, 192, 1, format="RAW")
    png = Member("/q/a.png", "3", 700, 400, 300, 1, format="PNG", rating=8.0)
    members = [big, raw, png]
    assert sorted(members, key=KeeperRules().order)[0] == big  # the default: largest picture
    rules = KeeperRules.make(formats=["raw", "png", "heic", "jpg"])
    assert [m.hash for m in sorted(members, key=rules.order)] == ["2", "3", "1"]
    assert sorted(members, key=KeeperRules.make(rated=True).order)[0] == png
    assert sorted(members, key=KeeperRules.make(folders=["/q"]).order)[0] == png
    assert sorted(members, key=KeeperRules.make(reference=["/p"], rated=True).order)[0] == big


def test_the_cli_and_the_app_share_their_grouping_defaults(capsys):
    from anagnorisis_tui.core.duplicates.options import DEFAULT_THRESHOLD
    from anagnorisis_tui.ui.widgets.filter_panel import DEFAULT_GROUP_THRESHOLD

    assert DEFAULT_GROUP_THRESHOLD == DEFAULT_THRESHOLD
    helps = {}
    for command in ("groups", "dedupe"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        helps[command] = capsys.readouterr().out
        assert "%%" not in helps[command]
        assert f"(default {DEFAULT_THRESHOLD})" in helps[command]
        assert "both (the default" in " ".join(helps[command].split())
