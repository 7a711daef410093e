"""Where state lives: the user data dir and config dir (platformdirs), overridable by env.

Nothing is ever written inside a library folder.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "anagnorisis-tui"

ENV_DATA_DIR = "ANAGNORISIS_DATA_DIR"
ENV_CONFIG_FILE = "ANAGNORISIS_CONFIG"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The data dir: an explicit override, else $ANAGNORISIS_DATA_DIR, else platformdirs."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser()
    import platformdirs  # ~10 ms of imports, not paid when the place is given

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_file(override: str | os.PathLike[str] | None = None) -> Path:
    """The settings file: an explicit override, else $ANAGNORISIS_CONFIG, else platformdirs."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get(ENV_CONFIG_FILE)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def database_path(data: Path) -> Path:
    return data / "library.db"


def thumbnails_dir(data: Path) -> Path:
    return data / "thumbnails"


def index_dir(data: Path) -> Path:
    return data / "index"


def models_dir(data: Path) -> Path:
    return data / "models"


def demo_dir(data: Path) -> Path:
    """The demo library's own data dir (its catalogue, thumbnails, index), apart from the
    user's library: nothing of the demo is ever in the user's catalogue."""
    return data / "demo"


def demo_pictures(demo_data: Path) -> Path:
    """The demo's pictures, inside its data dir `demo_data` (a `demo_dir`)."""
    return demo_data / "library"


def demo_library_dir(data: Path) -> Path:
    """The demo's pictures, for the user's data dir `data`."""
    return demo_pictures(demo_dir(data))


def legacy_demo_library_dir(data: Path) -> Path:
    """Where versions before kept the demo's pictures (scanned into the user's catalogue)."""
    return data / "demo-library"
