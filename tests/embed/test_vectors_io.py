"""`vectors export` on one machine, `vectors import` on another: the "embed on a desktop with a
GPU, use the vectors on the NAS" plan, end to end through the CLI with real images."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from anagnorisis_tui.cli import main
from anagnorisis_tui.core.demo.shapes import write_library

pytestmark = pytest.mark.slow  # see README: the two test lanes


def _dirs(tmp_path, name: str) -> list[str]:
    return ["--data-dir", str(tmp_path / name), "--config", str(tmp_path / f"{name}.toml")]


def test_embed_export_import_search(tmp_path, capsys):
    images = write_library(tmp_path / "desktop-photos", 24, size=64, seed=3)
    desktop, nas = _dirs(tmp_path, "desktop"), _dirs(tmp_path, "nas")
    tiny = ["--model", "tiny-clip"]
    assert main(["embed", *desktop, str(tmp_path / "desktop-photos"), *tiny]) == 0
    exported = tmp_path / "vectors.sqlite"
    assert main(["vectors", "export", *desktop, str(exported), *tiny]) == 0
    assert "exported 24 vectors" in capsys.readouterr().out

    # The NAS mounts the same photos elsewhere, plus one the desktop never saw.
    shutil.copytree(tmp_path / "desktop-photos", tmp_path / "nas-photos")
    write_library(tmp_path / "nas-photos" / "new", 1, size=64, seed=99)
    assert main(["scan", *nas, str(tmp_path / "nas-photos")]) == 0
    capsys.readouterr()
    assert main(["vectors", "import", *nas, str(exported), *tiny]) == 0
    out = capsys.readouterr().out
    assert "imported 24 vectors" in out and "24 of them for images in this library" in out
    assert "24 of 25 present images have vectors" in out

    # Search works on the NAS straight away and ranks as on the desktop.
    search = ["search", "a red circle", "--top", "5", "--json", *tiny]
    assert main([*search[:1], *desktop, *search[1:]]) == 0
    on_desktop = [json.loads(line)["path"] for line in capsys.readouterr().out.splitlines()]
    assert main([*search[:1], *nas, *search[1:]]) == 0
    on_nas = [json.loads(line)["path"] for line in capsys.readouterr().out.splitlines()]
    assert len(on_nas) == 5 and all(p.startswith(str(tmp_path / "nas-photos")) for p in on_nas)
    relative = lambda paths: [p.split("photos", 1)[1] for p in paths]  # noqa: E731
    assert relative(on_nas) == relative(on_desktop)
    assert images[on_desktop[0]].colour == "red"

    # Only the image the desktop never saw is left to embed on the NAS; importing again adds none.
    assert main(["embed", *nas, str(tmp_path / "nas-photos"), *tiny]) == 0
    assert "embedded 1 images" in capsys.readouterr().out
    assert main(["vectors", "import", *nas, str(exported), *tiny]) == 0
    assert "imported 0 vectors" in capsys.readouterr().out


def test_model_mismatch_and_bad_files_are_clear_errors(tmp_path, capsys):
    write_library(tmp_path / "photos", 4, size=64)
    desktop = _dirs(tmp_path, "desktop")
    assert main(["embed", *desktop, str(tmp_path / "photos"), "--model", "tiny-clip"]) == 0
    exported = tmp_path / "v.sqlite"
    assert main(["vectors", "export", *desktop, str(exported), "--model", "tiny-clip"]) == 0
    capsys.readouterr()

    # The same weights named as a folder are another model id: refused, with both ids named.
    from anagnorisis_tui.core.semantic.model_choice import TINY_CLIP_DIR

    other = ["--model", f"local-dir:{TINY_CLIP_DIR}"]
    assert main(["vectors", "import", *_dirs(tmp_path, "nas"), str(exported), *other]) == 2
    err = capsys.readouterr().err
    assert "holds vectors for tiny-clip/" in err and "this library uses local-dir/" in err
    con = sqlite3.connect(tmp_path / "nas" / "library.db")
    assert con.execute("SELECT count(*) FROM vectors").fetchone()[0] == 0

    (tmp_path / "junk.sqlite").write_text("not a database")
    assert main(["vectors", "import", *desktop, str(tmp_path / "junk.sqlite")]) == 2
    assert "is not a vectors file" in capsys.readouterr().err
    assert main(["vectors", "import", *desktop, str(tmp_path / "absent.sqlite")]) == 2
    assert "not found" in capsys.readouterr().err
    empty = _dirs(tmp_path, "empty")
    assert main(["vectors", "export", *empty, str(tmp_path / "e.sqlite"), "--model", "tiny-clip"])
    assert "has no vectors for tiny-clip/" in capsys.readouterr().err
    assert not (tmp_path / "e.sqlite").exists()
