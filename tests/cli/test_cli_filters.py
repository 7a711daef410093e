"""The `list`, `groups`, `dedupe` and `undo` commands, end to end on a scanned folder."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from anagnorisis_tui.cli import main

pytestmark = pytest.mark.slow  # see README: the two test lanes


@pytest.fixture
def library(tmp_path, monkeypatch) -> Path:
    from send2trash import plat_other

    data = tmp_path / "home" / ".local" / "share"
    data.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", os.fsencode(data))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", os.fsencode(data / "Trash"))
    root = tmp_path / "pics"
    rng = np.random.default_rng(0)
    for name, (w, h), seed in [
        ("wide.jpg", (240, 80), 1),
        ("tall.jpg", (60, 180), 2),
        ("square.png", (100, 100), 3),
        ("big.jpg", (300, 200), 4),
    ]:
        tiles = np.random.default_rng(seed).integers(0, 255, (5, 5, 3), dtype=np.uint8)
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(tiles).resize((w, h), Image.Resampling.BICUBIC).save(path)
    # A smaller copy of big.jpg and a byte-identical copy in a subfolder: one group.
    with Image.open(root / "big.jpg") as big:
        big.resize((150, 100), Image.Resampling.LANCZOS).save(root / "big-small.jpg", quality=80)
    (root / "sub").mkdir()
    shutil.copy(root / "big.jpg", root / "sub" / "big copy.jpg")
    del rng
    assert main(["scan", str(root), "--quiet"]) == 0
    return root


def _lines(capsys) -> list[str]:
    return capsys.readouterr().out.splitlines()


def test_list_sorts_filters_and_prints_json(library, capsys, monkeypatch):
    assert main(["list", "--sort", "proportion", "--desc", "--json"]) == 0
    rows = [json.loads(line) for line in _lines(capsys)]
    assert [Path(r["path"]).name for r in rows][0] == "wide.jpg"
    assert [Path(r["path"]).name for r in rows][-1] == "tall.jpg"
    assert {"path", "hash", "size", "width", "height", "rating", "score"} <= set(rows[0])
    assert main(["list", "--shape", "portrait"]) == 0
    assert [Path(line.split("\t")[0]).name for line in _lines(capsys)] == ["tall.jpg"]
    assert main(["list", "--folder", "sub", "--count"]) == 0
    assert _lines(capsys) == ["1"]
    # --root as the user types it: relative, with a trailing slash.
    monkeypatch.chdir(library.parent)
    assert main(["list", "--root", "pics/", "--count"]) == 0
    assert _lines(capsys) == ["6"]
    assert main(["list", "--sort", "resolution", "--min-mp", "0.015", "--limit", "2"]) == 0
    names = [Path(line.split("\t")[0]).name for line in _lines(capsys)]
    assert names == ["big-small.jpg", "wide.jpg"]


def test_names_with_escape_sequences_are_printed_as_text(library, capsys):
    shutil.copy(library / "wide.jpg", library / "evil\x1b[2Jname.jpg")
    assert main(["scan", str(library), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["list", "--sort", "name"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "evil\\x1b[2Jname.jpg" in out
    assert main(["groups", "--method", "phash"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "evil\\x1b[2Jname.jpg" in out


def test_list_random_is_stable_per_seed(library, capsys):
    main(["list", "--sort", "random", "--seed", "4"])
    first = _lines(capsys)
    main(["list", "--sort", "random", "--seed", "4"])
    assert _lines(capsys) == first


@pytest.mark.parametrize(
    "argv, message",
    [
        (["list", "--min-size=-1k"], "negative"),
        (["list", "--min-mp", "5", "--max-mp", "1"], "above the maximum"),
        (["list", "--min-ratio", "0"], "above 0"),
        (["list", "--limit", "-3"], "must not be negative"),
        (["list", "--concept-threshold", "0.3"], "needs --concept"),
        (["groups", "--threshold", "2"], "in (0, 1]"),
        (["groups", "--phash-distance", "40"], "from 0 to"),
        (["undo", "nope"], "no batch"),
    ],
)
def test_nonsense_is_a_clear_error(library, capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_unknown_sort_key_is_refused_by_the_parser(library, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["list", "--sort", "colour"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_groups_json_dedupe_dry_run_trash_and_undo(library, capsys):
    assert main(["groups", "--method", "phash", "--json"]) == 0
    groups = [json.loads(line) for line in _lines(capsys)]
    assert len(groups) == 1
    group = groups[0]
    names = sorted(Path(m["path"]).name for m in group["members"])
    assert names == ["big copy.jpg", "big-small.jpg", "big.jpg"]
    assert Path(group["keeper"]).name == "big.jpg"  # same pixels as the copy, but older
    assert group["members"][0]["keeper"] and all(m["hash"] for m in group["members"])
    assert group["reasons"] == ["bytes", "same"] and group["tier"] == "same"
    tiers = {Path(m["path"]).name: (m["tier"], m["why"]) for m in group["members"]}
    assert tiers["big copy.jpg"] == ("bytes", "identical bytes")
    assert tiers["big-small.jpg"][0] == "same" and "50% size" in tiers["big-small.jpg"][1]

    assert main(["groups", "--method", "phash"]) == 0
    out = capsys.readouterr().out
    assert "tier same" in out and "identical bytes" in out and "keeper" in out
    assert main(["groups", "--method", "phash", "--tier", "similar"]) == 0
    assert capsys.readouterr().out == ""
    with pytest.raises(SystemExit):
        main(["groups", "--tier", "alike"])
    assert "unknown tier 'alike'" in capsys.readouterr().err

    assert main(["dedupe", "--method", "phash", "--trash", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would trash" in out and "nothing was touched" in out
    assert "(same picture, 50% size)" in out
    assert (library / "big-small.jpg").exists() and (library / "sub" / "big copy.jpg").exists()

    assert main(["dedupe", "--method", "phash", "--trash", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["done"]) == 2 and report["skipped"] == []
    assert not (library / "big-small.jpg").exists()
    assert main(["list", "--count"]) == 0
    assert _lines(capsys) == ["4"]

    assert main(["undo"]) == 0
    assert report["batch"] in capsys.readouterr().out
    assert main(["undo", "--last"]) == 0
    assert "restored" in capsys.readouterr().out
    assert (library / "big-small.jpg").exists() and (library / "sub" / "big copy.jpg").exists()
    assert main(["list", "--count"]) == 0
    assert _lines(capsys) == ["6"]


def test_dedupe_move_to_and_group_selection(library, tmp_path, capsys):
    dest = tmp_path / "dupes"
    assert main(["dedupe", "--method", "phash", "--move-to", str(dest), "--group", "1"]) == 0
    out = capsys.readouterr().out
    assert "batch " in out
    assert (dest / "sub" / "big copy.jpg").exists() and (dest / "big-small.jpg").exists()
    assert main(["dedupe", "--method", "phash", "--trash", "--group", "9"]) == 2
    assert "no group 9" in capsys.readouterr().err


def test_dedupe_leaves_large_groups_alone(library, capsys):
    assert main(["dedupe", "--method", "phash", "--trash", "--max-group", "2", "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert "left alone: group 1 has 3 images" in captured.err
    assert "would trash" not in captured.out
    assert main(["dedupe", "--method", "phash", "--trash", "--max-group", "1"]) == 2


def test_search_says_when_images_have_no_vector_yet(library, capsys):
    assert main(["list", "--search", "red", "--model", "tiny-clip", "--count"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["0"]
    assert "5 of 5 images have no vector" in captured.err  # 6 files, 5 contents
    assert main(["embed", str(library), "--model", "tiny-clip", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["list", "--search", "red", "--model", "tiny-clip", "--json"]) == 0
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert len(rows) == 6 and "note:" not in captured.err
    assert all(a["score"] >= b["score"] for a, b in zip(rows, rows[1:], strict=False))
