"""What a newcomer tripped over on the command line (issue 22, section 3)."""

from __future__ import annotations

import pytest

from anagnorisis_tui.cli import main
from tests.support.waiting import PROCESS_HANG_S

pytestmark = pytest.mark.slow  # see README: the two test lanes


def _args(lib) -> list[str]:
    return ["--data-dir", str(lib.data_dir), "--config", str(lib.settings.config_file)]


def test_list_is_tab_separated_score_included(shapes_library, capsys):
    assert main(["list", *_args(shapes_library), "--search", "red circle", "--limit", "5"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 5
    # path, size, dimensions, when taken, rating, score: one tab between each, nothing else.
    assert all(len(row) == 6 for row in rows), rows
    assert all(cell == cell.strip() and cell for row in rows for cell in row), rows
    scores = [float(row[5]) for row in rows]
    assert scores == sorted(scores, reverse=True)


def test_top_level_help_shows_the_apps_own_options(capsys):
    import pytest

    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--graphics {auto|kitty|sixel|halfcell|unicode}" in out
    assert "--pictures {auto|high|low}" in out
    assert "Open the app: anagnorisis-tui [LIBRARY]" in out


def test_the_first_embed_writes_nothing_outside_the_data_dir(tmp_path):
    """A fresh HOME, the default data and config dirs: only they hold what `embed` wrote (no
    onnxruntime device id under ~/.cache/Microsoft)."""
    import os
    import subprocess
    import sys

    from tests.support.imagefiles import jpeg_bytes, write

    home = tmp_path / "home"
    home.mkdir()
    photos = tmp_path / "photos"
    for i in range(3):
        write(photos / f"p{i}.jpg", jpeg_bytes(i, (48, 32)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "ANAGNORISIS_"))}
    env.pop("ORT_DISABLE_TELEMETRY", None)
    env["HOME"] = str(home)
    out = subprocess.run(
        [sys.executable, "-m", "anagnorisis_tui", "embed", str(photos), "--model", "tiny-clip"],
        capture_output=True,
        text=True,
        env=env,
        timeout=PROCESS_HANG_S,
    )
    assert out.returncode == 0, out.stderr
    assert "embedded 3 images" in out.stdout
    data = home / ".local" / "share" / "anagnorisis-tui"
    config = home / ".config" / "anagnorisis-tui"  # the settings file, if one was written
    assert (data / "library.db").is_file()
    written = [p for p in home.rglob("*") if p.is_file()]
    outside = [p for p in written if data not in p.parents and config not in p.parents]
    assert written and not outside, outside


def test_embed_counts_images_and_says_when_copies_make_more_files(tmp_path, capsys):
    import shutil

    from tests.support.imagefiles import jpeg_bytes, write

    lib = tmp_path / "lib"
    for i in range(3):
        write(lib / f"p{i}.jpg", jpeg_bytes(i, (48, 32)))
    shutil.copy(lib / "p0.jpg", lib / "p0-copy.jpg")  # the same bytes: one image, two files
    args = ["--data-dir", str(tmp_path / "d"), "--config", str(tmp_path / "c.toml")]
    assert main(["embed", *args, str(lib), "--model", "tiny-clip"]) == 0
    out = capsys.readouterr().out
    assert "3 of 3 present images have vectors for " in out
    assert "(4 files: identical copies are one image)" in out


def test_one_file_is_one_file():
    from anagnorisis_tui.cli.groups_cmd import _files

    assert (_files(1), _files(3)) == ("1 file", "3 files")


def test_search_names_the_model_that_has_vectors(tmp_path, capsys):
    from tests.support.imagefiles import jpeg_bytes, write

    lib = tmp_path / "lib"
    for i in range(3):
        write(lib / f"p{i}.jpg", jpeg_bytes(i, (48, 32)))
    args = ["--data-dir", str(tmp_path / "d"), "--config", str(tmp_path / "c.toml")]
    assert main(["embed", *args, str(lib), "--model", "tiny-clip"]) == 0
    capsys.readouterr()
    for command in (["search", *args, "sea"], ["similar", *args, str(lib / "p1.jpg")]):
        assert main(command) == 2  # the default model: no vectors, no weights here
        err = capsys.readouterr().err
        assert "3 images that have vectors for tiny-clip/" in err and "`--model tiny-clip`" in err
    assert main(["search", *args, "sea", "--model", "tiny-clip"]) == 0  # as it says


def test_train_says_which_models_vectors_it_learned_from():
    import numpy as np

    from anagnorisis_tui.cli.train_cmd import format_report
    from anagnorisis_tui.core.evaluator.training import fit_best

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 8)).astype(np.float32)
    y = np.clip(np.round(5 + 2 * x[:, 0]), 0, 10)
    report, _ = fit_best(x, y, kinds=("ridge",), embed_model_id="tiny-clip/shapes-0123")
    assert "vectors of tiny-clip/shapes-0123" in format_report(report)
