"""What a newcomer tripped over on the command line (issue 22, section 3)."""

from __future__ import annotations

from anagnorisis_tui.cli import main


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
