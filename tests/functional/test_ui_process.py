"""The UI process never loads the model: scanning and embedding run in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


# Runs in a fresh interpreter: the test process itself has loaded torch for other tests.
SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    import contextlib
    from pathlib import Path
    from anagnorisis_tui.core.base.config import load_settings
    from anagnorisis_tui.core.demo.shapes import write_library
    from anagnorisis_tui.core.library import Library
    from anagnorisis_tui.ui.app import make_app

    tmp = Path(sys.argv[1])
    root = tmp / "lib"
    write_library(root, 24, size=80, seed=5)
    settings = load_settings(
        data_dir=tmp / "data", config_file=tmp / "c.toml",
        overrides={"model": "tiny-clip", "pretrained": "", "device": "cpu"},
    )
    library = Library(settings)
    library.catalogue.set_root(root)
    app = make_app(settings, library=library, graphics="unicode",
                   scan_on_start=True, embed_after_scan=True)

    async def main():
        async with app.run_test(size=(120, 40)) as pilot:
            while "scan" not in app.jobs.jobs or app.jobs.running("scan"):
                await pilot.pause(0.05)
            # What the finished scan set off (thumbnails, a warm-up) has run too.
            with contextlib.suppress(Exception):
                await app.workers.wait_for_complete()
            await pilot.pause()
            result = app.jobs.jobs["scan"].result
            await pilot.press("q")
        return result

    result = asyncio.run(main())
    vectors = library.db.execute("SELECT count(*) FROM vectors").fetchone()[0]
    heavy = sorted(m for m in ("torch", "onnxruntime", "open_clip") if m in sys.modules)
    notices = [n.message for n in app._notifications]
    embedded = result.embed.embedded if result.embed is not None else None
    print(json.dumps({"vectors": vectors, "heavy": heavy, "embedded": embedded,
                      "notices": notices}))
    """
)


def _report(script: str, tmp_path: Path) -> dict:
    """Run `script` in a fresh interpreter; the JSON line it ends with."""
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_scan_and_embed_from_the_app_never_import_torch_in_it(tmp_path: Path):
    report = _report(SCRIPT, tmp_path)
    assert report["heavy"] == [], report
    assert report["vectors"] == 24, report  # embedded, by the child
    assert report["embedded"] == 24


QUERY_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from anagnorisis_tui.core.base.config import load_settings
    from anagnorisis_tui.core.library import Library
    from anagnorisis_tui.ui.app import make_app

    tmp = Path(sys.argv[1])
    settings = load_settings(
        data_dir=tmp / "data", config_file=tmp / "c.toml",
        overrides={"model": "tiny-clip", "pretrained": "", "device": "cpu"},
    )
    library = Library(settings)
    app = make_app(settings, library=library, graphics="unicode",
                   scan_on_start=False, embed_after_scan=False)
    vector = library.semantic.query_vector(str(tmp / "outside.png"))
    try:
        library.semantic.query_vector(str(tmp / "broken.png"))
        error = None
    except Exception as exc:
        error = [type(exc).__name__, str(exc)]
    heavy = sorted(m for m in ("torch", "onnxruntime", "open_clip") if m in sys.modules)
    print(json.dumps({"vector": vector.tolist(), "heavy": heavy, "error": error}))
    """
)


def test_a_query_by_an_image_with_no_vector_is_encoded_in_a_child(tmp_path: Path):
    import numpy as np

    from anagnorisis_tui.core.base.config import load_settings
    from anagnorisis_tui.core.demo.shapes import write_library
    from anagnorisis_tui.core.library import Library

    write_library(tmp_path / "lib", 3, size=80, seed=2)
    outside = tmp_path / "outside.png"
    next((tmp_path / "lib").rglob("*.png")).rename(outside)  # not in any catalogue
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    report = _report(QUERY_SCRIPT, tmp_path)
    assert report["heavy"] == [], report
    assert report["error"][0] == "QueryError" and "broken.png" in report["error"][1], report
    settings = load_settings(
        data_dir=tmp_path / "data",
        config_file=tmp_path / "c.toml",
        overrides={"model": "tiny-clip", "pretrained": "", "device": "cpu"},
    )
    with Library(settings) as lib:  # the same engine (the export the child made), here
        expected = lib.semantic.query_vector(str(outside))
    assert float(np.dot(np.asarray(report["vector"]), expected)) > 0.999
