"""Shared fixtures: every test gets its own data dir and config file, never the user's."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from anagnorisis_tui.core.base.config import Settings, load_settings
from anagnorisis_tui.core.demo.shapes import ShapeSpec, write_library
from anagnorisis_tui.core.library import Library


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("ANAGNORISIS_DATA_DIR", str(state / "data"))
    monkeypatch.setenv("ANAGNORISIS_CONFIG", str(state / "config.toml"))
    for var in (
        "ANAGNORISIS_MODEL",
        "ANAGNORISIS_PRETRAINED",
        "ANAGNORISIS_DEVICE",
        "ANAGNORISIS_ENGINE",
        "ANAGNORISIS_GRAPHICS",
        "ANAGNORISIS_LIBRARY",
    ):
        monkeypatch.delenv(var, raising=False)
    # The model hub: nothing listens on port 9, so no test ever reaches the real hub, and
    # downloads land in the test's own cache (tests that download start tests/support/hubserver.py).
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("HF_HUB_CACHE", str(state / "hub-cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    # The hub client reads HF_HUB_OFFLINE once, when first imported: had a test that set it
    # imported the client first, every later test in the process would be offline too.
    from huggingface_hub import constants as hub_constants

    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    yield


@pytest.fixture
def trash_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the freedesktop trash at a folder inside the test (send2trash reads it at import)."""
    from send2trash import plat_other

    home = tmp_path / "home"
    data = home / ".local" / "share"
    data.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", os.fsencode(data))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", os.fsencode(data / "Trash"))
    monkeypatch.setattr(plat_other, "HOMETRASH", str(data / "Trash"))
    return data / "Trash"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", config_file=tmp_path / "config.toml")


# -- Embeddings: a real library of generated shapes, embedded by the shipped tiny CLIP.
# Session-scoped work happens once; each test gets its own copy of the catalogue.
SHAPES_COUNT = 320  # two of each of the 160 (colour, shape, background) specs


@pytest.fixture(scope="session")
def shapes_images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ShapeSpec]:
    """{absolute path: ShapeSpec} of 320 generated 96 px PNGs in 4 subfolders (read-only!)."""
    folder = tmp_path_factory.mktemp("shapes") / "library"
    return write_library(folder, SHAPES_COUNT, size=96, seed=0, subfolders=4)


@pytest.fixture(scope="session")
def shapes_root(shapes_images: dict[str, ShapeSpec]) -> Path:
    return Path(next(iter(shapes_images))).parent.parent


@pytest.fixture(scope="session")
def tiny_embedder():
    """The shipped tiny CLIP (`--model tiny-clip`), loaded once: an embeddings.Embedder."""
    from anagnorisis_tui.core.semantic import engine as embeddings
    from anagnorisis_tui.core.semantic import model_choice

    return embeddings.load(model_choice.resolve(model_choice.TINY_CLIP, "", "cpu"))


@pytest.fixture(scope="session")
def _shapes_catalogue(tmp_path_factory, shapes_root, tiny_embedder) -> Path:
    state = tmp_path_factory.mktemp("shapes-state")
    settings = _shapes_settings(state)
    settings.save()  # the model in the settings file too: CLI tests run with this config
    lib = Library(settings)
    lib.catalogue.set_root(shapes_root)
    lib.catalogue.scan(shapes_root)
    lib.semantic.use_embedder(
        tiny_embedder
    )  # reuse the session's model instead of loading it again
    summary = lib.semantic.embed()
    assert summary.embedded == SHAPES_COUNT, summary
    lib.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    lib.close()
    return state


def _shapes_settings(state: Path) -> Settings:
    return load_settings(
        data_dir=state / "data",
        config_file=state / "config.toml",
        overrides={"model": "tiny-clip", "pretrained": "", "device": "cpu"},
    )


@pytest.fixture
def shapes_library(_shapes_catalogue: Path, tmp_path: Path, tiny_embedder) -> Library:
    """A Library over the shapes folder: scanned and embedded with tiny-clip, model set to it.

    Each test gets its own copy of the catalogue (ratings, index, ... are private); the image
    files are shared, so copy them first if a test moves or deletes files.
    """
    shutil.copytree(_shapes_catalogue, tmp_path / "shapes-state")
    lib = Library(_shapes_settings(tmp_path / "shapes-state"))
    lib.semantic.use_embedder(tiny_embedder)
    yield lib
    lib.close()


_TESTS = Path(__file__).parent
_APP_FOLDERS = {"functional", "snapshots", "tmux"}  # the real app: Pilot, snapshots, tmux


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    # The fast lane does not even import the real app's test folders (every test there is slow):
    # importing them was a third of its time.
    fast_lane = " ".join(str(config.getoption("markexpr", "")).split()) == "not slow"
    if fast_lane and collection_path.parent == _TESTS and collection_path.name in _APP_FOLDERS:
        return True
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The tests that drive the real app in tmux or behind a slow link run first: they are the
    # longest (mostly waiting), and run last they were the tail of a parallel run.
    items.sort(key=lambda item: item.get_closest_marker("tmux") is None)
    # The fast lane (-m "not slow", README) is the UI-free core's unit tests, the state machines
    # and the parsers. Never in it: the real app, in tmux or through Pilot (seconds a test), and
    # what needs the tiny CLIP (loading torch, then scanning and embedding the shapes library
    # once per process). Other slow tests are marked in their modules.
    for item in items:
        path = Path(str(item.path))
        folder = path.relative_to(_TESTS).parts[0] if _TESTS in path.parents else ""
        if (
            item.get_closest_marker("tmux") is not None
            or folder in _APP_FOLDERS
            or "tiny_embedder" in getattr(item, "fixturenames", ())
        ):
            item.add_marker(pytest.mark.slow)
