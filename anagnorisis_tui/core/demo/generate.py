"""The demo library, and which library `anagnorisis-tui [LIBRARY]` opens.

The demo lives apart from the user's library: in a data dir of its own under the user's
(`paths.demo_dir`: its own catalogue, thumbnails and index; `demo_settings` gives the settings
that open it), so nothing the user does on their own library (search, groups, training, the
rate-next queue, every command) sees it, and its ratings never train the user's model.
`anagnorisis-tui --demo` opens it again (`--demo` on any command works on it).

Its pictures are made under its data dir (never inside an installed package, which is only
read) from sample images that ship inside installed packages: scikit-learn's sample photos,
scikit-image's data (when installed) and textual-image's sample, plus images drawn with Pillow
in nested folders (EXIF rotation, transparency, animation, 16-bit, CMYK, WebP) and a folder of
coloured shapes (`shapes/`) that the shipped tiny model knows. `make_demo` reports each file
as it is made, so the app's empty grid can say so while it works.

The demo is searched with that tiny model unless a model was chosen (`demo_settings`): it
works offline and on any machine, and the screen names it. A photo library never gets it
without being asked: the tiny model knows coloured shapes and nothing else.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from anagnorisis_tui.core.base import paths
from anagnorisis_tui.core.base.config import Settings
from anagnorisis_tui.core.base.progress import Progress, ProgressCallback, Timer, check
from anagnorisis_tui.core.errors import UserError

STAGE = "demo"  # the progress stage of making the demo's pictures

_SAMPLE_EXTS = {".jpg", ".jpeg", ".png", ".gif", ".tif", ".tiff", ".webp", ".bmp"}


def _package_dir(name: str) -> Path | None:
    """Where a top-level package is installed, found without importing it (sklearn is slow)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def sample_sources() -> list[tuple[Path, str]]:
    """(file inside an installed package, destination relative to the demo library)."""
    found: list[tuple[Path, str]] = []
    places = [
        ("sklearn", "datasets/images", "photos/scikit-learn"),
        ("skimage", "data", "photos/scikit-image"),
        ("textual_image", "", "photos/textual-image"),
    ]
    for package, sub, dest in places:
        base = _package_dir(package)
        if base is None or not (base / sub).is_dir():
            continue
        for file in sorted((base / sub).iterdir()):
            if file.is_file() and file.suffix.lower() in _SAMPLE_EXTS:
                found.append((file, f"{dest}/{file.name}"))
    return found


GENERATED = 16  # the files _generated draws
SHAPE_FILES = 80  # the files _shapes draws (every colour and shape, twice)


def _generated(target: Path, made: Callable[[str], None]) -> None:
    """Images drawn with Pillow: deterministic, small, covering odd-but-valid cases."""
    import numpy as np
    from PIL import Image, ImageDraw

    def save(rel: str, image: Image.Image, **kw: Any) -> None:
        out = target / rel
        made(rel)
        if out.exists():
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        # Written aside (hidden, so a scan meanwhile skips it) and renamed: never half a file.
        tmp = out.with_name(f".{out.name}.part")
        image.save(tmp, format=Image.registered_extensions()[out.suffix.lower()], **kw)
        os.replace(tmp, out)

    # Smooth ramps scaled to 0..255 (a wrap-around would look like a rendering bug).
    y, x = np.mgrid[0:240, 0:320]
    xs, ys, ds = x * 255 // 319, y * 255 // 239, (x + y) * 255 // (319 + 239)
    for i, (r, g, b) in enumerate([(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0)]):
        grad = np.stack([xs * r, ys * g, ds * b], axis=-1)
        save(f"generated/gradients/gradient-{i}.png", Image.fromarray(grad.astype("uint8")))
    for i, colour in enumerate(["tomato", "seagreen", "royalblue", "gold", "orchid"]):
        im = Image.new("RGB", (300, 200), "white")
        draw = ImageDraw.Draw(im)
        draw.ellipse((40 + i * 20, 30, 200 + i * 10, 170), fill=colour, outline="black")
        draw.rectangle((10, 10, 60 + i * 30, 50), fill="gray")
        save(f"generated/shapes/shape-{i}.jpg", im, quality=90)
    rotated = Image.new("RGB", (320, 180), "skyblue")
    ImageDraw.Draw(rotated).text((10, 10), "EXIF orientation 6", fill="black")
    exif = Image.Exif()
    exif[0x0112] = 6
    save("generated/odd/exif-rotated.jpg", rotated, exif=exif.tobytes())
    rgba = Image.new("RGBA", (160, 160), (0, 0, 0, 0))
    ImageDraw.Draw(rgba).ellipse((20, 20, 140, 140), fill=(200, 30, 90, 200))
    save("generated/odd/transparent.png", rgba)
    save("generated/odd/palette.png", rgba.convert("P"), transparency=0)
    frames = [Image.new("RGB", (120, 80), c) for c in ("red", "green", "blue")]
    for n, frame in enumerate(frames):
        ImageDraw.Draw(frame).text((10, 30), f"frame {n + 1}", fill="white")
    save(
        "generated/odd/animated.gif",
        frames[0],
        save_all=True,
        append_images=frames[1:],
        duration=300,
        loop=0,
    )
    deep = Image.fromarray((y * 200).astype("uint16"))
    save("generated/odd/sixteen-bit.png", deep)
    save("generated/odd/cmyk.jpg", Image.new("CMYK", (200, 120), (0, 120, 200, 0)))
    save("generated/odd/lossless.webp", rotated, lossless=True)


def _readable(file: Path) -> bool:
    from PIL import Image

    try:
        with Image.open(file) as im:
            im.size  # noqa: B018 - the header parsed
        return True
    except Exception:
        return False


def build_demo(data_dir: Path) -> Path:
    """Create (or complete) the demo library of the user's data dir; returns its folder."""
    return make_demo(paths.demo_library_dir(data_dir))


def is_complete(target: Path) -> bool:
    """Whether the demo's pictures in `target` were all made (its shapes come last)."""
    return (target / "shapes" / ".complete").exists()


def make_demo(
    target: Path,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Create (or complete) the demo's pictures in `target`, each reported to `progress`
    (stage "demo") as it is made; returns `target`. Raises Cancelled when `cancel` is set."""
    target.mkdir(parents=True, exist_ok=True)
    samples = sample_sources()
    timer = Timer()
    total = len(samples) + GENERATED + SHAPE_FILES
    done = [0]

    def made(rel: str) -> None:
        check(cancel)
        done[0] += 1
        if progress is not None:
            progress(Progress(STAGE, min(done[0], total), total, elapsed=timer.elapsed, detail=rel))

    for source, rel in samples:
        made(rel)
        out = target / rel
        if out.exists() and out.stat().st_size == source.stat().st_size:
            continue
        if not _readable(source):
            continue  # e.g. scikit-image's multipage_rgb.tif, which Pillow cannot open
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.part")
        shutil.copyfile(source, tmp)
        os.replace(tmp, out)
    _generated(target, made)
    _shapes(target / "shapes", made)
    return target


def _shapes(folder: Path, made: Callable[[str], None]) -> None:
    """Every colour and shape the tiny model knows, twice on other backgrounds, one folder per
    colour, named by their captions: what its search finds can be checked by eye."""
    import random

    from anagnorisis_tui.core.demo.shapes import BACKGROUNDS, COLOURS, SHAPES, ShapeSpec, render

    done = folder / ".complete"
    if done.exists():
        for _ in range(SHAPE_FILES):
            made("shapes")
        return
    # Written aside and renamed, as the other demo files: a scan never sees half of them.
    tmp = folder.with_name(f".{folder.name}.part")
    shutil.rmtree(tmp, ignore_errors=True)
    backgrounds = list(BACKGROUNDS)
    n = 0
    for colour in COLOURS:
        (tmp / colour).mkdir(parents=True)
        for shape in SHAPES:
            for k in range(2):
                spec = ShapeSpec(colour, shape, backgrounds[(n + k) % len(backgrounds)])
                made(f"shapes/{colour}/{spec.slug}-{k + 1}.jpg")
                image = render(spec, size=160, rng=random.Random(n * 2 + k))
                image.save(tmp / colour / f"{spec.slug}-{k + 1}.jpg", "JPEG", quality=90)
            n += 1
    (tmp / ".complete").touch()
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)


DEMO_MODEL = "tiny-clip"  # the shipped model's name (core/semantic/model_choice.py TINY_CLIP)


def demo_settings(settings: Settings) -> Settings:
    """The settings that open the demo library: the demo's own data dir under the user's, and
    the shipped tiny model for this session where no model was chosen (never saved)."""
    if settings.demo:
        return settings
    return dataclasses.replace(
        settings,
        data_dir=paths.demo_dir(settings.data_dir),
        demo=True,
        library_roots=(),
        session_model="" if settings.model_chosen else DEMO_MODEL,
    )


def demo_root(settings: Settings) -> Path:
    """The demo's pictures for `demo_settings(...)`."""
    return paths.demo_pictures(settings.data_dir)


class LibraryNotFound(UserError, ValueError):
    """The saved or given library folder is missing; the message says what to do."""


def resolve_library(
    settings: Settings, arg: str | os.PathLike[str] | None, library: Any
) -> Path | None:
    """Which folder of the user's library `anagnorisis-tui [LIBRARY]` opens, for `library`
    (a core.library.Library on the user's data dir); None: none is saved (the demo then).

    LIBRARY given: validated, saved as the library root of this data dir's catalogue, returned.
    Else the catalogue's saved root. A saved root that has gone missing is an error, not a
    silent switch to the demo: on a NAS it usually means a share is not mounted.
    """
    from anagnorisis_tui.core.catalogue.scan import ScanError, normalise_root

    if arg is not None:
        try:
            root = normalise_root(arg)
        except ScanError as exc:
            raise LibraryNotFound(str(exc)) from None
        if library.catalogue.roots()[:1] != [root]:
            library.catalogue.set_root(root)
        return Path(root)
    saved = library.catalogue.roots()
    if saved:
        try:
            return Path(normalise_root(saved[0]))
        except ScanError as exc:
            raise LibraryNotFound(
                f"saved library: {exc} (is the share mounted? open another folder with "
                "`anagnorisis-tui FOLDER`, or the demo with `anagnorisis-tui --demo`)"
            ) from None
    return None
