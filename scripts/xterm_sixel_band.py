"""xterm as a VT340 drawing the app's sixel pictures, before and after the palette goes first.

textual-image defines each colour register where the picture first uses it, most of them in
the first band (the top 6 pixel rows); xterm drew that band (and new colours further down)
wrong. ui/sixel_palette.py moves every definition before the first pixel. This shows both in
a real xterm (`-ti vt340`, 256 colour registers) on a virtual display (Xvfb), takes a
screenshot of each and compares the pictures drawn with the pictures encoded: the mean error
in the top 6 rows and in the rows below.

    python scripts/xterm_sixel_band.py [--out DIR]

Needs Xvfb, xterm, xwd and ImageMagick's convert. Photos: scikit-image's data (coffee, chelsea).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402
from textual_image._sixel import image_to_sixels  # noqa: E402

from anagnorisis_tui.ui.sixel_palette import palette_first  # noqa: E402

PHOTOS = {"coffee": 1, "chelsea": 42}  # photo: the column it is drawn at (6-pixel cells)
DISPLAY = ":77"
XTERM = [
    "xterm", "-ti", "vt340", "-xrm", "XTerm*decTerminalID: vt340",
    "-xrm", "XTerm*numColorRegisters: 256", "-geometry", "100x16+0+0", "-fn", "fixed",
]  # fmt: skip


def photos(folder: Path) -> dict[str, Image.Image]:
    out = {}
    for name in PHOTOS:
        image = Image.fromarray(getattr(data, name)()).convert("RGB")
        image.thumbnail((240, 160))  # a grid thumbnail's size
        out[name] = image
        sixel = image_to_sixels(image)
        (folder / f"{name}.before.six").write_text(sixel)
        (folder / f"{name}.after.six").write_text(palette_first(sixel))
    return out


def screenshot(folder: Path, mode: str) -> np.ndarray:
    show = "".join(
        f"printf '\\033[1;{col}H'; cat {folder / f'{name}.{mode}.six'}; "
        for name, col in PHOTOS.items()
    )
    script = f"printf '\\033[2J'; {show} printf '\\033[14;1H{mode}'; sleep 60"
    env = {**os.environ, "DISPLAY": DISPLAY}
    term = subprocess.Popen([*XTERM, "-e", "sh", "-c", script], env=env)
    try:
        time.sleep(4)  # xterm up and drawn (a screenshot, nothing is asserted on it)
        xwd = subprocess.run(["xwd", "-root"], env=env, capture_output=True, check=True).stdout
        png = folder / f"shot-{mode}.png"
        subprocess.run(["convert", "xwd:-", str(png)], input=xwd, check=True)
    finally:
        term.terminate()
        term.wait()
    return np.asarray(Image.open(png).convert("RGB")).astype(int)


def locate(shot: np.ndarray, image: np.ndarray, col: int) -> tuple[int, int]:
    """Where `image` is drawn in `shot`: the offset (x, y) with the least error near its cell."""
    h, w = image.shape[:2]
    x0 = (col - 1) * 6
    tries = [(x, y) for y in range(8) for x in range(x0, x0 + 8)]
    return min(tries, key=lambda p: np.abs(shot[p[1] : p[1] + h, p[0] : p[0] + w] - image).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="keep the screenshots here (cropped to the pictures)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        images = photos(folder)
        server = subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", "700x300x24"])
        try:
            time.sleep(2)
            shots = {mode: screenshot(folder, mode) for mode in ("before", "after")}
        finally:
            server.terminate()
            server.wait()
        print(f"{'photo':8} {'palette':18} {'top 6 rows':>11} {'rows below':>11}  (mean |error|)")
        for name, col in PHOTOS.items():
            image = np.asarray(images[name]).astype(int)
            x, y = locate(shots["after"], image, col)
            h, w = image.shape[:2]
            for mode, shot in shots.items():
                rows = np.abs(shot[y : y + h, x : x + w] - image).mean(axis=(1, 2))
                where = "where first used" if mode == "before" else "first (ui/)"
                print(f"{name:8} {where:18} {rows[:6].mean():11.1f} {rows[6:].mean():11.1f}")
        if args.out:
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            for mode, shot in shots.items():
                crop = shot[:170, :560].astype(np.uint8)
                Image.fromarray(crop).save(out / f"xterm-sixel-band-{mode}.png", optimize=True)


if __name__ == "__main__":
    main()
