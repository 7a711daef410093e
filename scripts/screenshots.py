"""Make the SVG screenshots in screenshots/ from the demo library (shown in the README).

    python scripts/screenshots.py [--out screenshots]

Runs the real app headless (App.run_test) with the unicode image renderer, on the demo library
built into a temporary data dir, and saves one SVG per screen.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SIZE = (130, 40)


async def _settle(pilot) -> None:
    app = pilot.app
    for _ in range(40):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            break
    await pilot.pause(0.2)
    app.clear_notifications()
    await pilot.pause()


async def shoot(out: Path, data: Path) -> list[Path]:
    from anagnorisis_tui.core.base.config import load_settings
    from anagnorisis_tui.core.demo.generate import demo_root, demo_settings, make_demo
    from anagnorisis_tui.core.library import Library
    from anagnorisis_tui.ui.app import make_app

    settings = load_settings(data_dir=data, config_file=data / "config.toml")
    shown = demo_settings(settings)  # the demo library, in its own catalogue
    root = make_demo(demo_root(shown))
    library = Library(shown)
    library.catalogue.set_root(root)
    library.catalogue.scan(str(root))
    app = make_app(
        settings,
        library=library,
        graphics="unicode",
        scan_on_start=False,
        embed_after_scan=False,
    )
    saved: list[Path] = []

    def save(name: str) -> None:
        saved.append(Path(app.save_screenshot(f"{name}.svg", path=str(out))))

    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        save("library")
        await pilot.press("right", "right", "enter")
        await _settle(pilot)
        await pilot.press("a", "8", "a")  # rate 8 without moving on
        await _settle(pilot)
        save("viewer")
        await pilot.press("question_mark")
        await _settle(pilot)
        save("help")
        await pilot.press("escape", "f2")
        await _settle(pilot)
        save("search")
        await pilot.press("f4")
        await _settle(pilot)
        save("train")
        await pilot.press("f1", "o")
        await _settle(pilot)
        save("set-library")
    library.close()
    return saved


# -- Search, duplicates and training: a library of generated shapes, embedded by the
# shipped tiny CLIP, so a query means something; a few resized copies make duplicate groups, and a
# simulated user (likes red) has rated half of it.
async def shoot_workflows(out: Path, data: Path) -> list[Path]:
    import shutil

    from PIL import Image

    from anagnorisis_tui.core.base.config import load_settings
    from anagnorisis_tui.core.demo.shapes import write_library
    from anagnorisis_tui.core.library import Library
    from anagnorisis_tui.ui.app import make_app

    shutil.rmtree(data, ignore_errors=True)
    root = data / "shapes"
    specs = write_library(root, 120, size=96, seed=3, subfolders=3)
    for path in sorted(specs)[:12:3]:  # resized JPEG copies: near-duplicates
        source = Path(path)
        Image.open(source).convert("RGB").resize((72, 72)).save(
            source.with_name(source.stem + "-copy.jpg"), quality=85
        )
    settings = load_settings(
        data_dir=data / "data",
        config_file=data / "config.toml",
        overrides={"model": "tiny-clip", "device": "cpu"},
    )
    library = Library(settings)
    library.catalogue.set_root(root)
    library.catalogue.scan(root)
    library.semantic.embed()
    for path, spec in sorted(specs.items())[::2]:
        library.ratings.set(library.views.entry(path).hash, 8 if spec.colour == "red" else 3)
    app = make_app(settings, library=library, graphics="unicode", scan_on_start=False)
    saved: list[Path] = []

    def save(name: str) -> None:
        saved.append(Path(app.save_screenshot(f"{name}.svg", path=str(out))))

    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        await pilot.press("slash", *"red circle", "enter")
        await _settle(pilot)
        save("search-query")
        screen = app.screen
        screen.query_one("#shape").value = "square"
        screen.query_one("#min_size").value = "5k"
        await pilot.press("escape")
        await _settle(pilot)
        screen.query_one("#filters").apply_now()
        await _settle(pilot)
        save("search-filters")
        await pilot.press("x", "escape", "D")
        await _settle(pilot)
        save("groups")
        await pilot.press("escape", "f4", "t")
        await _settle(pilot)
        save("train-trained")
    library.close()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # Paths appear on screen: a fixed temp location keeps re-made screenshots comparable.
    data = Path(tempfile.gettempdir()) / "anagnorisis-screenshots"
    os.environ["ANAGNORISIS_DATA_DIR"] = str(data)
    for path in asyncio.run(shoot(out, data)):
        print(path)
    workflows = Path(tempfile.gettempdir()) / "anagnorisis-screenshots-workflows"
    for path in asyncio.run(shoot_workflows(out, workflows)):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
