""" "Best matches for red circles, newest first": a search with a cutoff, sorted by capture date,
in the CLI and through the views; a date range narrows it."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from PIL import Image

from anagnorisis_tui.cli import main
from anagnorisis_tui.core.base.config import load_settings
from anagnorisis_tui.core.demo.shapes import ShapeSpec, render
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.views import paging as query
from anagnorisis_tui.core.views.filters import Filters, parse_date

SPECS = [
    ShapeSpec("red", "circle", "white"),
    ShapeSpec("blue", "square", "white"),
    ShapeSpec("green", "triangle", "black"),
]


@pytest.fixture
def dated(tmp_path: Path, tiny_embedder) -> tuple[Path, Path]:
    root = tmp_path / "photos"
    root.mkdir()
    for i in range(12):
        spec = SPECS[i % 3]
        exif = Image.Exif()
        exif[0x8769] = {0x9003: f"{2012 + i}:06:01 12:00:00", 0x9011: "+00:00"}
        image = render(spec, size=96, rng=random.Random(i))
        image.save(root / f"{spec.slug}-{i:02d}.jpg", quality=92, exif=exif.tobytes())
    data = tmp_path / "data"
    settings = load_settings(
        data_dir=data,
        config_file=tmp_path / "c.toml",
        overrides={"model": "tiny-clip", "pretrained": "", "device": "cpu"},
    )
    lib = Library(settings)
    lib.catalogue.scan(root)
    lib.semantic.use_embedder(tiny_embedder)
    lib.semantic.embed()
    lib.close()
    return root, data


def listed(capsys, *args: str) -> list[dict]:
    capsys.readouterr()
    assert main(["list", *args, "--json", "--model", "tiny-clip"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_matches_above_the_cutoff_newest_first(dated, capsys, monkeypatch):
    root, data = dated
    monkeypatch.setenv("ANAGNORISIS_DATA_DIR", str(data))
    by_score = listed(capsys, "--search", "a red circle", "--cutoff", "0.2")
    assert by_score and all(r["score"] >= 0.2 for r in by_score)
    newest = listed(
        capsys, "--search", "a red circle", "--cutoff", "0.2", "--sort", "taken", "--desc"
    )
    assert {r["path"] for r in newest} == {r["path"] for r in by_score}
    years = [r["taken"] for r in newest]
    assert years == sorted(years, reverse=True) and len(newest) < 12
    assert all("red-circle" in Path(r["path"]).name for r in newest[:4])

    ranged = listed(
        capsys, "--search", "a red circle", "--cutoff", "0.2", "--sort", "taken",
        "--taken-from", "2015", "--taken-to", "2019-12",
    )  # fmt: skip
    low, high = parse_date("2015"), parse_date("2019-12", end=True)
    assert ranged and [r["path"] for r in ranged] == [
        r["path"] for r in reversed(newest) if low <= r["taken"] <= high
    ]


def test_the_views_give_the_same_order(dated, tiny_embedder):
    root, data = dated
    lib = Library(
        load_settings(
            data_dir=data,
            config_file=data.parent / "c.toml",
            overrides={"model": "tiny-clip", "pretrained": "", "device": "cpu"},
        )
    )
    lib.semantic.use_embedder(tiny_embedder)
    spec = query.ViewSpec(
        sort="taken",
        descending=True,
        search="a red circle",
        search_cutoff=0.2,
        filters=Filters(min_taken=parse_date("2013")),
    )
    entries = lib.views.page(spec, 0, 50)
    assert entries and [e.taken for e in entries] == sorted(
        (e.taken for e in entries), reverse=True
    )
    assert all(e.score is not None and e.score >= 0.2 for e in entries)
    lib.close()
