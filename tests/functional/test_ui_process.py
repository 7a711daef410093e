"""The UI process never loads the model: scanning and embedding run in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

# Runs in a fresh interpreter: the test process itself has loaded torch for other tests.
SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
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
    app = make_app(settings, library=library, graphics="unicode", root=str(root),
                   scan_on_start=True, embed_after_scan=True)

    async def main():
        async with app.run_test(size=(120, 40)) as pilot:
            while "scan" not in app.jobs.jobs or app.jobs.running("scan"):
                await pilot.pause(0.05)
            await pilot.pause(0.2)
            result = app.jobs.jobs["scan"].result
            await pilot.press("q")
        return result

    result = asyncio.run(main())
    vectors = library.db.execute("SELECT count(*) FROM vectors").fetchone()[0]
    heavy = sorted(m for m in ("torch", "onnxruntime", "open_clip") if m in sys.modules)
    notices = [n.message for n in app._notifications]
    print(json.dumps({"vectors": vectors, "heavy": heavy, "embed": result.get("embed"),
                      "notices": notices}))
    """
)


def test_scan_and_embed_from_the_app_never_import_torch_in_it(tmp_path: Path):
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["heavy"] == [], report
    assert report["vectors"] == 24, report  # embedded, by the child
    assert report["embed"]["embedded"] == 24
