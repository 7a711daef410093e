"""`[ui] pictures` (auto, high, low): read from the file, the environment and the command line,
saved back, and a value outside those is a clear error."""

from __future__ import annotations

import pytest

from anagnorisis_tui.core.base.config import ConfigError, load_settings


def test_pictures_setting_from_file_env_and_overrides(tmp_path, monkeypatch):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[ui]\npictures = "low"\n')
    settings = load_settings(data_dir=tmp_path / "d", config_file=cfg)
    assert settings.pictures == "low"
    settings.save()
    assert load_settings(data_dir=tmp_path / "d", config_file=cfg).pictures == "low"
    monkeypatch.setenv("ANAGNORISIS_PICTURES", "high")
    assert load_settings(config_file=cfg).pictures == "high"
    assert load_settings(config_file=cfg, overrides={"pictures": "auto"}).pictures == "auto"


def test_unknown_pictures_value_is_a_clear_error(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[ui]\npictures = "ultra"\n')
    with pytest.raises(ConfigError, match="pictures must be one of auto, high, low"):
        load_settings(config_file=cfg)
