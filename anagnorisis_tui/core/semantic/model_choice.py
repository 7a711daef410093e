"""Which CLIP model to use, and its stable id - decided without importing torch.

A model is chosen by name (an open_clip architecture such as `ViT-B-32`, the shipped
`tiny-clip`, `local-dir:/folder`, or `hf-hub:org/repo[@revision]` for an open_clip repo on the
model hub, at a branch, tag or commit; `main` when none is named)
plus `pretrained`: an open_clip tag (downloaded on a
machine with internet), or a local weights file, or a folder holding one. Vectors are stored
per model id, so the id names the weights, not just the architecture: a local file's id carries
a fingerprint of its bytes, so replacing the file re-embeds.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import xxhash

from anagnorisis_tui.core.base.config import Settings
from anagnorisis_tui.core.errors import UserError

SHIPPED_WEIGHTS = Path(__file__).resolve().parents[2] / "weights"
CONFIGS_DIR = SHIPPED_WEIGHTS / "configs"  # open_clip model configs registered at run time
TINY_CLIP = "tiny-clip"
TINY_CLIP_DIR = SHIPPED_WEIGHTS / TINY_CLIP
LOCAL_DIR = "local-dir:"
HF_HUB = "hf-hub:"  # `hf-hub:org/repo[@rev]`: an open_clip repo on the model hub (config + weights)
HUB_DEFAULT_REVISION = "main"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
# Preferred checkpoint names inside a folder, as open_clip's own `local-dir:` loader orders them.
_DIR_CHECKPOINTS = (
    "open_clip_model.safetensors",
    "open_clip_pytorch_model.safetensors",
    "open_clip_pytorch_model.bin",
    "open_clip_pytorch_model.pth",
    "model.safetensors",
    "pytorch_model.bin",
)


class ModelUnavailable(UserError, RuntimeError):
    """The chosen model cannot be loaded; the message says why and how to fix it.

    Everything that does not need vectors (browsing, rating, filters on size/resolution) keeps
    working; only search, similarity and the evaluator need a model.
    """


class WeightsError(ModelUnavailable):
    """A weights file that is missing, truncated, or made for another architecture."""


@dataclass(frozen=True)
class ModelChoice:
    name: str  # open_clip architecture name, or "local-dir:/path"
    pretrained: str  # a tag, or "" when the weights come from `weights`
    weights: Path | None  # a local checkpoint file, when weights are local
    config_dir: Path | None  # a local-dir folder holding open_clip_config.json
    device: str  # "auto", "cpu", "cuda", "cuda:1", "mps"
    model_id: str

    @property
    def is_local(self) -> bool:
        return self.weights is not None

    @property
    def label(self) -> str:
        """Human-readable: `ViT-B-32-256 (datacomp_s34b_b86k)` or `tiny-clip (…/tiny-clip)`."""
        source = str(self.weights) if self.weights else self.pretrained
        return f"{self.display_name} ({source})" if source else self.display_name

    @property
    def display_name(self) -> str:
        return self.name if not self.name.startswith(LOCAL_DIR) else Path(self.name[10:]).name


def fingerprint(path: Path) -> str:
    """A cheap, stable fingerprint of a weights file: size + 3 x 1 MiB samples (xxh3).

    Hashing a whole 600 MB checkpoint on every start would cost seconds on a NAS disk; the
    sampled bytes plus the exact size change whenever the weights do.
    """
    size = path.stat().st_size
    h = xxhash.xxh3_64()
    h.update(str(size).encode())
    chunk = 1 << 20
    with path.open("rb") as f:
        for offset in (0, max(0, size // 2 - chunk // 2), max(0, size - chunk)):
            f.seek(offset)
            h.update(f.read(chunk))
    return h.hexdigest()[:12]


def _checkpoint_in(folder: Path) -> Path | None:
    for name in _DIR_CHECKPOINTS:
        if (folder / name).is_file():
            return folder / name
    found = sorted(p for p in folder.iterdir() if p.suffix in WEIGHT_SUFFIXES and p.is_file())
    return found[0] if found else None


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "model"


def resolve(
    name: str | None = None,
    pretrained: str | None = None,
    device: str | None = None,
    *,
    settings: Settings | None = None,
) -> ModelChoice:
    """The model a command should use: explicit arguments, else the settings (file, env).

    Raises ModelUnavailable for local paths that do not exist or hold no weights; a tag is only
    checked when the model loads (that needs open_clip, hence torch).
    """
    if not name and settings is not None and settings.session_model:
        name, pretrained = settings.session_model, pretrained or ""
    name = (name or (settings.model if settings else "") or "").strip()
    pretrained = pretrained if pretrained is not None else (settings.pretrained if settings else "")
    pretrained = (pretrained or "").strip()
    device = (device or (settings.device if settings else "") or "auto").strip()
    if not name:
        raise ModelUnavailable("no model chosen: pass --model NAME (e.g. ViT-B-32 or tiny-clip)")

    if name.startswith(LOCAL_DIR):
        folder = Path(name[len(LOCAL_DIR) :]).expanduser().resolve()
        return _from_folder(folder, name=f"{LOCAL_DIR}{folder}", device=device)
    if name.startswith(HF_HUB):
        repo, revision = hub_repo(name)
        # The revision is part of the id: vectors and the ONNX export are kept per revision.
        at = f"@{revision}" if revision != HUB_DEFAULT_REVISION else ""
        return ModelChoice(f"{HF_HUB}{repo}{at}", "", None, None, device, f"hf-hub/{repo}{at}")

    looks_like_path = (
        os.sep in pretrained
        or pretrained.startswith((".", "~"))
        or pretrained.endswith(WEIGHT_SUFFIXES)
    )
    if name == TINY_CLIP and not looks_like_path:
        # tiny-clip has no hub tags: a tag here is the one saved with another model (today's
        # default or an earlier one) and means "the shipped weights".
        pretrained = str(TINY_CLIP_DIR)
        looks_like_path = True
    if looks_like_path or (pretrained and Path(pretrained).exists()):
        path = Path(pretrained).expanduser().resolve()
        if path.is_dir():
            return _from_folder(path, name=name, device=device)
        if not path.is_file():
            raise WeightsError(
                f"weights file {path} not found; pass --pretrained with the path of an open_clip "
                "checkpoint (.safetensors/.bin/.pt) or a folder holding one"
            )
        model_id = f"{name}/{_safe(path.stem)}-{fingerprint(path)}"
        return ModelChoice(name, "", path, None, device, model_id)

    if not pretrained:
        raise ModelUnavailable(
            f"no weights chosen for {name}: pass --pretrained with an open_clip tag (needs "
            "internet once) or the path of a local weights file; a model with random weights "
            "cannot search"
        )
    return ModelChoice(name, pretrained, None, None, device, f"{name}/{pretrained}")


def hub_repo(name: str) -> tuple[str, str]:
    """`hf-hub:org/repo@rev` as ("org/repo", "rev"); the revision is `main` when none is named.

    The `@revision` form is the one timm and the hub's own URLs use; a revision is a branch, a
    tag or a commit hash.
    """
    spec = name[len(HF_HUB) :] if name.startswith(HF_HUB) else name
    repo, at, revision = spec.strip().partition("@")
    repo, revision = repo.strip("/"), revision.strip()
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise ModelUnavailable(f"{name!r}: name a model hub repo as hf-hub:org/name[@revision]")
    if at and (not revision or any(c.isspace() for c in revision)):
        raise ModelUnavailable(
            f"{name!r}: after @ name a revision (a branch, a tag or a commit hash), e.g. "
            f"hf-hub:{repo}@main"
        )
    return repo, revision or HUB_DEFAULT_REVISION


def _from_folder(folder: Path, *, name: str, device: str) -> ModelChoice:
    if not folder.is_dir():
        raise WeightsError(f"model folder {folder} not found")
    weights = _checkpoint_in(folder)
    if weights is None:
        raise WeightsError(
            f"no weights file (.safetensors/.bin/.pt) in {folder}; copy the checkpoint there or "
            "pass its path with --pretrained"
        )
    config_dir = folder if (folder / "open_clip_config.json").is_file() else None
    if name.startswith(LOCAL_DIR) and config_dir is None:
        raise WeightsError(
            f"{folder} has no open_clip_config.json; a `local-dir:` model needs one, or use "
            "--model ARCH --pretrained with the weights file"
        )
    label = TINY_CLIP if folder == TINY_CLIP_DIR.resolve() else _safe(folder.name)
    if name.startswith(LOCAL_DIR):
        model_id = f"local-dir/{label}-{fingerprint(weights)}"
    else:
        model_id = f"{name}/{label}-{fingerprint(weights)}"
    return ModelChoice(name, "", weights, config_dir, device, model_id)


def local_config(choice: ModelChoice) -> dict[str, Any] | None:
    """The model_cfg from a folder's open_clip_config.json, if the choice has one."""
    if choice.config_dir is None:
        return None
    try:
        doc = json.loads((choice.config_dir / "open_clip_config.json").read_text("utf-8"))
        return cast(dict[str, Any], doc["model_cfg"])
    except (OSError, ValueError, KeyError) as exc:
        raise WeightsError(
            f"{choice.config_dir / 'open_clip_config.json'} is not a valid open_clip config: {exc}"
        ) from exc


def index_name(model_id: str) -> str:
    """A file-name-safe stem for per-model files (the Annoy index)."""
    digest = xxhash.xxh3_64_hexdigest(model_id.encode())[:8]
    return f"{_safe(model_id)[:80]}-{digest}"


def describe(choice: ModelChoice, *, demo: bool) -> str:
    """What the screen says about the model in use; the tiny model always says what it is."""
    if choice.name == TINY_CLIP:
        if demo:
            return "tiny-clip, the demo's shipped model: it knows coloured shapes only"
        return "tiny-clip: knows coloured shapes only, not photos (choose a model: model.name)"
    return choice.label


def engine_info(
    choice: ModelChoice, image_size: int, resize_mode: str, engine: str
) -> dict[str, Any]:
    """What every engine reports about itself (`embed` prints it; tests compare engines)."""
    return {
        "name": choice.name,
        "pretrained": choice.pretrained,
        "weights": str(choice.weights) if choice.weights else None,
        "image_size": image_size,
        "resize_mode": resize_mode,
        "engine": engine,
    }
