"""Shared fixtures: every test gets its own data dir and config file, never the user's."""

from __future__ import annotations

from pathlib import Path

import pytest

from anagnorisis_tui.core.config import Settings, load_settings


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("ANAGNORISIS_DATA_DIR", str(state / "data"))
    monkeypatch.setenv("ANAGNORISIS_CONFIG", str(state / "config.toml"))
    for var in (
        "ANAGNORISIS_MODEL",
        "ANAGNORISIS_PRETRAINED",
        "ANAGNORISIS_DEVICE",
        "ANAGNORISIS_GRAPHICS",
        "ANAGNORISIS_LIBRARY",
    ):
        monkeypatch.delenv(var, raising=False)
    yield


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", config_file=tmp_path / "config.toml")
