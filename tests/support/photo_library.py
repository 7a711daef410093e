"""A library of photo-like JPEGs with a scanned catalogue and warm thumbnails, for the tests and
benchmarks that run the real app over a (simulated) link."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def photo(path: Path, seed: int) -> None:
    """A photo-like JPEG: smooth colour fields with fine texture (sixel cannot run-length it)."""
    rng = np.random.default_rng(seed)
    base = Image.fromarray(rng.integers(0, 255, (5, 7, 3), dtype=np.uint8)).resize(
        (640, 480), Image.Resampling.BICUBIC
    )
    grain = rng.normal(0, 10, (480, 640, 3))
    pixels = np.clip(np.asarray(base, dtype=np.float32) + grain, 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, quality=88)


def library(base: Path, images: int) -> tuple[Path, dict[str, str]]:
    from anagnorisis_tui.core.base.config import load_settings
    from anagnorisis_tui.core.catalogue.thumbnails import ThumbnailStore, cache_dir
    from anagnorisis_tui.core.library import Library
    from anagnorisis_tui.core.views.paging import ViewSpec

    root = base / "Pictures"
    for i in range(images):
        target = root / f"{i // 100:02d}" / f"photo{i:04d}.jpg"
        if not target.exists():
            photo(target, i)
    data, config = base / "data", base / "config.toml"
    settings = load_settings(data_dir=data, config_file=config)
    with Library(settings) as lib:
        lib.catalogue.set_root(root)
        lib.catalogue.scan(root)
        store = ThumbnailStore(cache_dir(data))
        for entry in lib.views.page(ViewSpec(), 0, images):
            store.get(entry.hash, entry.os_path)  # warm: the grid reads them from disk
    env = {
        "ANAGNORISIS_DATA_DIR": str(data),
        "ANAGNORISIS_CONFIG": str(config),
        "ANAGNORISIS_PRETRAINED": str(base / "no-such-weights.safetensors"),
    }
    return root, env
