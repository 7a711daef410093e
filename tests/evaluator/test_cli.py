"""The evaluator's commands: rate, train, next, explain, ratings export/import."""

from __future__ import annotations

import json
import re

import pytest

from anagnorisis_tui.cli import main as cli_main
from tests.support.preference import rate_first


def _cli(library):
    settings = library.settings
    common = ["--data-dir", str(settings.data_dir), "--config", str(settings.config_file)]
    return lambda argv: cli_main([*common, *argv])


@pytest.fixture
def main(pref_library):
    return _cli(pref_library.library)


@pytest.fixture
def shapes_main(shapes_pref):
    return _cli(shapes_pref.library)


def test_rate_a_library_image_and_refuse_bad_input(pref_library, main, capsys, tmp_path):
    path = pref_library.paths[3]
    assert main(["rate", path, "7"]) == 0
    assert "rated" in capsys.readouterr().out
    assert pref_library.library.ratings.get(pref_library.hashes[3]) == 7
    assert main(["rate", path, "6.5"]) == 0
    assert pref_library.library.ratings.get(pref_library.hashes[3]) == 6.5
    for value, message in (("11", "from 0 to 10"), ("abc", "a number"), ("nan", "0 to 10")):
        assert main(["rate", path, value]) == 2
        assert message in capsys.readouterr().err
    stray = tmp_path / "stray.png"
    stray.write_bytes(b"x")
    assert main(["rate", str(stray), "5"]) == 2
    assert "not in the library" in capsys.readouterr().err
    assert main(["rate", str(tmp_path / "missing.png"), "5"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert pref_library.library.ratings.get(pref_library.hashes[3]) == 6.5
    assert main(["rate", path, "clear"]) == 0
    assert pref_library.library.ratings.get(pref_library.hashes[3]) is None


def test_train_next_and_explain(shapes_pref, shapes_main, capsys):
    assert shapes_main(["train"]) == 2
    assert "at least 15" in capsys.readouterr().err
    rate_first(shapes_pref, 160)
    assert shapes_main(["train", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["beats_baseline"] and report["chosen"] and report["evaluator_id"]
    assert {c["kind"] for c in report["candidates"]} == {"ridge", "mlp", "softmax_mlp"}
    assert shapes_main(["train"]) == 0
    out = capsys.readouterr().out
    assert "held out" in out and "baseline" in out and "<- chosen" in out
    assert shapes_main(["next", "--top", "3", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert len(items) == 3 and all(i["path"] for i in items)
    rated = set(shapes_pref.hashes[:160])
    assert not {i["hash"] for i in items} & rated
    assert shapes_main(["next", "--top", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    for line in lines:  # the model's prediction as a rating, then the reason in words
        assert re.match(r"^\s*\d+  model ~\d{1,2}\.\d\s+\S.*\((.+)\)$", line), line
    assert shapes_main(["explain", shapes_pref.paths[200]]) == 0
    out = capsys.readouterr().out
    assert re.search(r"model's prediction: ~\d{1,2}\.\d$", out, re.M), out
    assert "similar rated images" in out


def test_list_shows_predictions_as_ratings_marked_as_the_models(shapes_pref, shapes_main, capsys):
    # One decimal after a tilde for the model's guess (not 4.51688*), the user's own as given.
    rate_first(shapes_pref, 40)
    assert shapes_main(["train"]) == 0
    capsys.readouterr()
    assert shapes_main(["list", "--sort", "rating", "--desc"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.strip().splitlines()]
    # Columns: path, size, dimensions, when taken, rating (yours, or ~ the model's).
    mine = set(shapes_pref.paths[:40])
    rated = [row[4] for row in rows if row[0] in mine]
    guessed = [row[4] for row in rows if row[0] not in mine]
    assert len(rated) == 40
    assert all(re.fullmatch(r"\d{1,2}", c) for c in rated), rated[:5]
    assert len(guessed) == len(shapes_pref.hashes) - 40
    assert all(re.fullmatch(r"~\d{1,2}\.\d", c) for c in guessed), guessed[:5]


def test_ratings_export_and_import_commands(pref_library, main, capsys, tmp_path):
    rate_first(pref_library, 5)
    out = tmp_path / "r.csv"
    assert main(["ratings", "export", str(out)]) == 0
    assert "exported 5" in capsys.readouterr().out
    broken = tmp_path / "broken.csv"
    broken.write_text(f"hash,rating\n{pref_library.hashes[9]},4\n{pref_library.hashes[8]},99\n")
    assert main(["ratings", "import", str(broken)]) == 1
    captured = capsys.readouterr()
    assert "1 added" in captured.out
    assert f"{broken}:3:" in captured.err and "1 broken rows skipped" in captured.err
    assert main(["ratings", "import"]) == 2
    assert "FILE or --xmp" in capsys.readouterr().err
    assert main(["ratings", "import", str(tmp_path / "none.json")]) == 2
    assert main(["ratings", "export", "--xmp"]) == 0
    assert len(list(pref_library.root.glob("*.xmp"))) == 6
    assert main(["ratings", "import", "--xmp"]) == 0
    assert "6 with a rating" in capsys.readouterr().out
