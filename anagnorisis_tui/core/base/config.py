"""Settings: a TOML file under the user config dir, overridden by ANAGNORISIS_* env vars.

Loaded in main() (never at import time) so tests can point everything at their own dirs.
`Settings` is immutable once loaded: code that needs other settings (the demo library's, a
test's) makes a changed copy with `replace`, and only a caller that means to keep a change
writes it (`save`). The library folders are not settings: the catalogue of the data dir owns
them (core/catalogue/roots.py); `library_roots` is a session's override (ANAGNORISIS_LIBRARY)
and `legacy_roots` what an older settings file listed, both read by the catalogue.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anagnorisis_tui.core.base import paths
from anagnorisis_tui.core.errors import UserError

GRAPHICS_CHOICES = ("auto", "kitty", "sixel", "halfcell", "unicode")
DEFAULT_MODEL = "ViT-B-32-256"
DEFAULT_PRETRAINED = "datacomp_s34b_b86k"
PICTURES_CHOICES = ("auto", "high", "low")

# Folders users expect a scan to skip: Synology/QNAP metadata, thumbnail caches, trash.
DEFAULT_EXCLUDES = [
    "@eaDir",
    "#recycle",
    "#snapshot",
    ".@__thumb",
    "@Recycle",
    "@Recently-Snapshot",
    "$RECYCLE.BIN",
    "System Volume Information",
    "lost+found",
    ".thumbnails",
    ".thumbs",
    "Thumbs.db",
]


class ConfigError(UserError, ValueError):
    """A settings file or value that cannot be used; the message says what and where."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    config_file: Path
    # Library folders for this session only (ANAGNORISIS_LIBRARY); never written anywhere.
    # The saved libraries belong to the catalogue of the data dir (core/catalogue/roots.py).
    library_roots: tuple[str, ...] = ()
    # `[library] roots` of a settings file from before roots lived in the catalogue: kept until
    # a catalogue holding files under them adopts them (core/catalogue/roots.py).
    legacy_roots: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    # Follow symbolic links whose target is outside every library folder (off: skipped).
    follow_links_outside: bool = False
    # Memory one image's decoded pixels may take, in MB; 0: a share of the available memory
    # (core/catalogue/decode_budget.py). Larger images are refused before decoding.
    decode_memory_mb: int = 0
    model: str = DEFAULT_MODEL
    pretrained: str = DEFAULT_PRETRAINED
    # Whether the model was chosen (settings file, env or a flag) rather than defaulted.
    model_chosen: bool = False
    # A model for this session only, never saved: the demo library's shipped tiny model.
    session_model: str = ""
    # These settings open the demo library's own data dir (core/demo/generate.py demo_settings).
    demo: bool = False
    device: str = "auto"
    engine: str = "auto"  # "auto": ONNX Runtime on a CPU, torch on a GPU; or "torch"
    graphics: str = "auto"
    pictures: str = "auto"  # picture quality: auto (by the link's speed), high, low
    keymap: Mapping[str, str] = field(default_factory=dict)
    # [duplicates]: protected (reference) folders and the keeper rules (core/duplicates/keepers.py)
    duplicates_reference: tuple[str, ...] = ()
    duplicates_prefer_formats: tuple[str, ...] = ()
    duplicates_prefer_folders: tuple[str, ...] = ()
    duplicates_prefer_rated: bool = False

    def __post_init__(self) -> None:
        # Lists given by older callers (and the child's JSON) become tuples: never shared.
        for name in (
            "library_roots",
            "legacy_roots",
            "excludes",
            "duplicates_reference",
            "duplicates_prefer_formats",
            "duplicates_prefer_folders",
        ):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        object.__setattr__(self, "keymap", dict(self.keymap))

    @property
    def database(self) -> Path:
        return paths.database_path(self.data_dir)

    def all_excludes(self) -> list[str]:
        return DEFAULT_EXCLUDES + [e for e in self.excludes if e not in DEFAULT_EXCLUDES]

    def save(self) -> None:
        """Write the user-editable part back to the TOML file, atomically."""
        library: dict[str, Any] = {"excludes": list(self.excludes)}
        if self.follow_links_outside:
            library["follow_links_outside"] = True
        if self.decode_memory_mb:
            library["decode_memory_mb"] = self.decode_memory_mb
        if self.legacy_roots:
            library["roots"] = list(self.legacy_roots)
        doc: dict[str, Any] = {
            "library": library,
            "model": {
                "name": self.model,
                "pretrained": self.pretrained,
                "device": self.device,
                "engine": self.engine,
            },
            "ui": {"graphics": self.graphics, "pictures": self.pictures},
        }
        if self.keymap:
            doc["keymap"] = dict(self.keymap)
        duplicates: dict[str, Any] = {
            key: value
            for key, value in (
                ("reference", list(self.duplicates_reference)),
                ("prefer_formats", list(self.duplicates_prefer_formats)),
                ("prefer_folders", list(self.duplicates_prefer_folders)),
                ("prefer_rated", self.duplicates_prefer_rated),
            )
            if value
        }
        if duplicates:
            doc["duplicates"] = duplicates
        self.config_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.config_file.with_suffix(".toml.tmp")
        import tomli_w

        tmp.write_text(tomli_w.dumps(doc), encoding="utf-8")
        os.replace(tmp, self.config_file)


_ENV_KEYS = {
    "ANAGNORISIS_MODEL": "model",
    "ANAGNORISIS_PRETRAINED": "pretrained",
    "ANAGNORISIS_DEVICE": "device",
    "ANAGNORISIS_ENGINE": "engine",
    "ANAGNORISIS_GRAPHICS": "graphics",
    "ANAGNORISIS_PICTURES": "pictures",
}


def load_settings(
    *,
    data_dir: str | os.PathLike[str] | None = None,
    config_file: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Settings from file, then env, then explicit overrides (CLI flags), in rising priority."""
    cfg_path = paths.config_file(config_file)
    values: dict[str, Any] = {"data_dir": paths.data_dir(data_dir), "config_file": cfg_path}
    if cfg_path.exists():
        import tomllib  # only with a file to read: a command's start-up pays for what it uses

        try:
            doc = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{cfg_path}: not valid TOML: {exc}") from exc
        except OSError as exc:
            raise ConfigError(f"{cfg_path}: cannot read: {exc.strerror}") from exc
        values.update(_from_file(doc, cfg_path))
    for env, attr in _ENV_KEYS.items():
        if os.environ.get(env):
            values[attr] = os.environ[env]
            values["model_chosen"] = values.get("model_chosen", False) or attr in _MODEL_KEYS
    if os.environ.get("ANAGNORISIS_LIBRARY"):
        values["library_roots"] = (os.environ["ANAGNORISIS_LIBRARY"],)
    known = {f.name for f in dataclasses.fields(Settings)}
    for key, value in (overrides or {}).items():
        if value is not None:
            if key not in known:
                raise ConfigError(f"unknown setting {key!r}")
            values[key] = value
            values["model_chosen"] = values.get("model_chosen", False) or key in _MODEL_KEYS
    settings = Settings(**values)
    if settings.graphics not in GRAPHICS_CHOICES:
        raise ConfigError(
            f"graphics must be one of {', '.join(GRAPHICS_CHOICES)}, not {settings.graphics!r}"
        )
    if settings.pictures not in PICTURES_CHOICES:
        raise ConfigError(
            f"pictures must be one of {', '.join(PICTURES_CHOICES)}, not {settings.pictures!r}"
        )
    return settings


_MODEL_KEYS = ("model", "pretrained")


def _from_file(doc: dict[str, Any], where: Path) -> dict[str, Any]:
    """The values a settings file sets, checked."""

    def section(name: str) -> dict[str, Any]:
        value = doc.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: [{name}] must be a table")
        return value

    lib = section("library")
    model = section("model")
    ui = section("ui")
    keymap = section("keymap")
    roots = lib.get("roots", [])
    excludes = lib.get("excludes", [])
    if not isinstance(roots, list) or not all(isinstance(r, str) for r in roots):
        raise ConfigError(f"{where}: library.roots must be a list of paths")
    if not isinstance(excludes, list) or not all(isinstance(e, str) for e in excludes):
        raise ConfigError(f"{where}: library.excludes must be a list of names or globs")
    values: dict[str, Any] = {"legacy_roots": tuple(roots), "excludes": tuple(excludes)}
    follow = lib.get("follow_links_outside", False)
    if not isinstance(follow, bool):
        raise ConfigError(f"{where}: library.follow_links_outside must be true or false")
    values["follow_links_outside"] = follow
    budget = lib.get("decode_memory_mb", 0)
    if not isinstance(budget, int) or isinstance(budget, bool) or budget < 0:
        raise ConfigError(
            f"{where}: library.decode_memory_mb must be a whole number of MB (0: automatic)"
        )
    values["decode_memory_mb"] = budget
    keys = (("name", "model"), ("pretrained", "pretrained"), ("device", "device"))
    for key, attr in (*keys, ("engine", "engine")):
        if key in model:
            if not isinstance(model[key], str):
                raise ConfigError(f"{where}: model.{key} must be a string")
            values[attr] = model[key]
            values["model_chosen"] = values.get("model_chosen", False) or attr in _MODEL_KEYS
    if "graphics" in ui:
        values["graphics"] = str(ui["graphics"])
    if "pictures" in ui:
        values["pictures"] = str(ui["pictures"])
    values["keymap"] = {str(k): str(v) for k, v in keymap.items()}
    values.update(_duplicates(section("duplicates"), where))
    return values


def _duplicates(table: dict[str, Any], where: Path) -> dict[str, Any]:
    """The values of a `[duplicates]` table, checked."""
    values: dict[str, Any] = {}
    for key in ("reference", "prefer_formats", "prefer_folders"):
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: duplicates.{key} must be a list of strings")
        values[f"duplicates_{key}"] = tuple(value)
    rated = table.get("prefer_rated", False)
    if not isinstance(rated, bool):
        raise ConfigError(f"{where}: duplicates.prefer_rated must be true or false")
    values["duplicates_prefer_rated"] = rated
    return values


def replace(settings: Settings, **changes: Any) -> Settings:
    """A copy of `settings` with `changes` (settings themselves never change)."""
    return dataclasses.replace(settings, **changes)
