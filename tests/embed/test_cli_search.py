"""`anagnorisis-tui search/similar/embed` from the command line, JSON lines and clear errors."""

from __future__ import annotations

import json

import pytest

from anagnorisis_tui.cli import main
from anagnorisis_tui.core.base.config import DEFAULT_MODEL, DEFAULT_PRETRAINED

pytestmark = pytest.mark.slow  # see README: the two test lanes


def _args(lib) -> list[str]:
    return ["--data-dir", str(lib.data_dir), "--config", str(lib.settings.config_file)]


def test_search_json_lines(shapes_library, shapes_images, capsys):
    code = main(
        ["search", *_args(shapes_library), "red", "circle", "-blue", "--top", "3", "--json"]
    )
    out = capsys.readouterr().out.splitlines()
    assert code == 0 and len(out) == 3
    records = [json.loads(line) for line in out]
    assert set(records[0]) >= {"path", "hash", "score"}
    assert all(shapes_images[r["path"]].colour == "red" for r in records)


def test_similar_text_output(shapes_library, shapes_images, capsys):
    path = next(iter(shapes_images))
    assert main(["similar", *_args(shapes_library), path, "-k", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and path not in lines[0]
    float(lines[0].split()[0])  # "score  path"


def test_user_errors_exit_2(shapes_library, tmp_path, capsys):
    assert main(["search", *_args(shapes_library), "--", "-red"]) == 2
    assert "only negative terms" in capsys.readouterr().err
    assert main(["search", *_args(shapes_library)]) == 2
    assert "empty query" in capsys.readouterr().err
    assert main(["similar", *_args(shapes_library), str(tmp_path / "gone.jpg")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_search_before_embedding_says_what_to_do(tmp_path, capsys):
    args = ["--data-dir", str(tmp_path / "d"), "--config", str(tmp_path / "c.toml")]
    assert main(["search", *args, "--model", "tiny-clip", "cat"]) == 2
    assert "embed" in capsys.readouterr().err


def test_embed_command_end_to_end(tmp_path, capsys):
    from anagnorisis_tui.core.demo.shapes import write_library

    write_library(tmp_path / "lib", 12, size=64)
    args = ["--data-dir", str(tmp_path / "d"), "--config", str(tmp_path / "c.toml")]
    assert main(["embed", *args, str(tmp_path / "lib"), "--model", "tiny-clip"]) == 0
    out = capsys.readouterr().out
    assert "embedded 12 images" in out and "12 of 12 present images" in out
    assert main(["embed", *args, str(tmp_path / "lib"), "--model", "tiny-clip"]) == 0
    assert "embedded 0 images" in capsys.readouterr().out


def test_offline_model_is_a_clear_error(tmp_path, capsys, monkeypatch):
    from anagnorisis_tui.core.demo.shapes import write_library

    # The tests' hub endpoint (tests/conftest.py) is a port nothing listens on: no network.
    write_library(tmp_path / "lib", 3, size=64)
    args = ["--data-dir", str(tmp_path / "d"), "--config", str(tmp_path / "c.toml")]
    assert main(["embed", *args, str(tmp_path / "lib")]) == 2  # default model, no network
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: cannot get the weights for {DEFAULT_MODEL} ({DEFAULT_PRETRAINED})"
    )
    assert "--pretrained" in err and "CLIP-ViT-B-32-256x256-DataComp-s34B-b86K" in err
    assert "cannot reach http://127.0.0.1:9" in err and "HTTPS_PROXY" in err
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["embed", *args, str(tmp_path / "lib")]) == 2
    assert "HF_HUB_OFFLINE" in capsys.readouterr().err


def test_the_demo_from_the_command_line_uses_its_model_and_names_it(tmp_path, capsys):
    """`--demo` works on the demo library (its own catalogue) with the shipped model, as the
    app does, and says so; the user's own data dir never sees it, whether or not a library of
    their own is saved."""
    import os
    from pathlib import Path

    demo = Path(os.environ["ANAGNORISIS_DATA_DIR"]) / "demo" / "library"
    assert main(["embed"]) == 2  # no library of one's own: an error that names --demo
    assert "embed --demo" in capsys.readouterr().err
    assert main(["embed", "--demo"]) == 0  # the demo is made, scanned and embedded
    captured = capsys.readouterr()
    assert "the demo library: tiny-clip, the demo's shipped model" in captured.err
    assert "with tiny-clip" in captured.out and "tiny-clip" in captured.out.splitlines()[-1]
    assert main(["search", "--demo", "red", "circle", "--top", "5", "--json"]) == 0
    captured = capsys.readouterr()
    assert "the demo library: tiny-clip, the demo's shipped model" in captured.err
    hits = [json.loads(line) for line in captured.out.splitlines()]
    assert len(hits) == 5 and all(Path(h["path"]).is_relative_to(demo) for h in hits)
    assert any("red-circle" in Path(h["path"]).name for h in hits)
    probe = next((demo / "shapes" / "blue").glob("blue-star-*"))
    assert main(["similar", "--demo", str(probe), "-k", "1"]) == 0
    assert "/shapes/blue/" in capsys.readouterr().out  # the tiny model knows its colours

    assert main(["list", "--count"]) == 0  # the user's own catalogue holds nothing of it
    assert capsys.readouterr().out.strip() == "0"
    photos = tmp_path / "photos"
    from tests.support.imagefiles import jpeg_bytes, write

    write(photos / "a.jpg", jpeg_bytes(1, (40, 30)))
    assert main(["scan", str(photos), "--quiet"]) == 0  # now a library of its own is saved
    capsys.readouterr()
    assert main(["search", "red", "circle"]) == 2
    err = capsys.readouterr().err
    assert "demo" not in err and DEFAULT_MODEL in err  # never the tiny model silently


def test_search_counts_images_without_vectors_and_shows_only_present_files(shapes_library, capsys):
    db = shapes_library.db
    args = ["search", *_args(shapes_library), "red", "circle", "--top", "5", "--json"]
    assert main(args) == 0
    captured = capsys.readouterr()
    first = [json.loads(line) for line in captured.out.splitlines()]
    assert "no vector yet" not in captured.err
    # the best hit's file is gone (not present; its vector stays), two images lost theirs
    model_id = shapes_library.semantic.model_id
    with db.transaction():
        db.execute("UPDATE files SET present = 0 WHERE path = ?", [first[0]["path"]])
        for gone in first[-2:]:
            db.execute(
                "DELETE FROM vectors WHERE model_id = ? AND hash = ?", [model_id, gone["hash"]]
            )
    total = db.execute("SELECT count(DISTINCT hash) FROM files WHERE present = 1").fetchone()[0]
    assert main(args) == 0
    captured = capsys.readouterr()
    after = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["path"] for r in after[:2]] == [r["path"] for r in first[1:3]]
    assert first[0]["path"] not in {r["path"] for r in after}
    assert f"about 1 of {total:,} images have no vector yet" in captured.err
