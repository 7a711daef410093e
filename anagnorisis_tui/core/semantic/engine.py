"""The CLIP engine: load an open_clip model once, encode image batches and text queries.

torch and open_clip are imported inside `load()` only - never when this module is imported -
so the app, `list`, `scan` and `similar` start without paying for them.

Images arrive already decoded and resized (uint8, see core/semantic/imageprep.py, done in threads);
here they are normalised in one batched op and encoded. Vectors leave as L2-normalised float32.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from anagnorisis_tui.core.base.progress import ProgressCallback
from anagnorisis_tui.core.semantic.model_choice import (
    CONFIGS_DIR,
    HF_HUB,
    ModelChoice,
    ModelUnavailable,
    WeightsError,
    engine_info,
    local_config,
)

DEFAULT_MEAN = (0.48145466, 0.4578275, 0.40821073)
DEFAULT_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass
class Embedder:
    choice: ModelChoice
    model: Any  # open_clip CLIP module (torch), eval mode
    tokenizer: Any
    device: str
    dim: int
    image_size: int
    resize_mode: str
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    random_weights: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def model_id(self) -> str:
        return self.choice.model_id

    @property
    def engine(self) -> str:
        return "torch"

    def info(self) -> dict[str, Any]:
        return engine_info(self.choice, self.image_size, self.resize_mode, self.engine)

    def encode_images(self, batch: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 -> (N, dim) L2-normalised float32."""
        import torch

        with self._lock, torch.inference_mode():
            batch = np.ascontiguousarray(batch)
            if not batch.flags.writeable:  # torch warns on read-only buffers (PIL arrays)
                batch = batch.copy()
            x = torch.from_numpy(batch).to(self.device)
            x = x.permute(0, 3, 1, 2).float().div_(255)
            mean = torch.tensor(self.mean, device=self.device).view(1, 3, 1, 1)
            std = torch.tensor(self.std, device=self.device).view(1, 3, 1, 1)
            x = (x - mean) / std
            with _autocast(torch, self.device):
                out = self.model.encode_image(x)
            return _normalised(out)

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        with self._lock, torch.inference_mode():
            tokens = self.tokenizer(texts).to(self.device)
            with _autocast(torch, self.device):
                out = self.model.encode_text(tokens)
            return _normalised(out)


def _normalised(out: Any) -> np.ndarray:
    arr = out.float().cpu().numpy()
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray((arr / norms).astype(np.float32))


def _autocast(torch: Any, device: str) -> Any:
    if device.startswith("cuda"):
        return torch.autocast("cuda", dtype=torch.float16)
    return contextlib.nullcontext()


def pick_device(preference: str = "auto") -> str:
    """cuda, then mps, then cpu for "auto"; an explicit device must exist."""
    import torch

    pref = (preference or "auto").lower()
    if pref == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    if pref.startswith("cuda") and not torch.cuda.is_available():
        raise ModelUnavailable(f"device {preference!r} is not available here; use --device auto")
    if pref == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ModelUnavailable("device 'mps' is not available here; use --device auto")
    if pref != "cpu" and not pref.startswith(("cuda", "mps")):
        raise ModelUnavailable(f"unknown device {preference!r}: choose auto, cpu, cuda or mps")
    return pref


_registered = False
_register_lock = threading.Lock()


def _open_clip() -> Any:
    """open_clip (through the torchvision workaround) with the shipped configs registered."""
    global _registered
    from anagnorisis_tui.core.semantic.torch_compat import import_open_clip

    open_clip = import_open_clip()
    with _register_lock:
        if not _registered:
            open_clip.add_model_config(CONFIGS_DIR)
            _registered = True
    return open_clip


def load(
    choice: ModelChoice,
    *,
    cache_dir: str | None = None,
    allow_random: bool = False,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Embedder:
    """Load the chosen model; raises ModelUnavailable (with the fix) when it cannot be had.

    Weights not on this machine yet are downloaded first (core/semantic/weights.py), reporting
    `Progress("download", bytes, total)` and stopping with progress.Cancelled on `cancel`.
    `allow_random` builds the architecture with random weights when no weights are given; it
    exists for speed benchmarks only and such an embedder says so (`random_weights`).
    """
    open_clip = _open_clip()
    import torch

    device = pick_device(choice.device)
    name = choice.name
    cfg = local_config(choice)
    if cfg is None and not name.startswith(HF_HUB) and open_clip.get_model_config(name) is None:
        raise ModelUnavailable(
            f"unknown model {name!r}; choose an open_clip architecture (e.g. ViT-B-32, "
            f"ViT-B-16, convnext_base_w), `tiny-clip`, or local-dir:/folder"
        )
    random_weights = False
    hub_folder = None
    try:
        if choice.weights is not None:
            model = _build_local(open_clip, torch, choice, cfg)
        elif name.startswith(HF_HUB):
            model, hub_folder = _build_hub(open_clip, choice, cache_dir, progress, cancel)
        elif choice.pretrained:
            model = _build_tagged(open_clip, choice, cache_dir, progress, cancel)
        elif allow_random:
            with _quiet():
                model = open_clip.create_model(name, pretrained=None)
            random_weights = True
        else:
            raise ModelUnavailable(f"no weights chosen for {name}")
    except ModelUnavailable:
        raise
    except MemoryError as exc:
        raise ModelUnavailable(f"not enough memory to load {choice.label}") from exc
    model = model.to(device).eval()
    pcfg = open_clip.get_model_preprocess_cfg(model)
    size = pcfg.get("size", 224)
    size = int(size[0] if isinstance(size, list | tuple) else size)
    if cfg is not None:
        tokenizer = open_clip.get_tokenizer(f"local-dir:{choice.config_dir}")
    elif hub_folder is not None:
        tokenizer = open_clip.get_tokenizer(f"local-dir:{hub_folder}")
    else:
        tokenizer = open_clip.get_tokenizer(name)
    with torch.inference_mode():
        dim = int(model.encode_text(tokenizer(["probe"]).to(device)).shape[-1])
    return Embedder(
        choice=choice,
        model=model,
        tokenizer=tokenizer,
        device=device,
        dim=dim,
        image_size=size,
        resize_mode=str(pcfg.get("resize_mode", "shortest")),
        mean=tuple(pcfg.get("mean", DEFAULT_MEAN)),
        std=tuple(pcfg.get("std", DEFAULT_STD)),
        random_weights=random_weights,
    )


def _build_tagged(
    open_clip: Any,
    choice: ModelChoice,
    cache_dir: str | None,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> Any:
    """An open_clip tag's model, its weights obtained through core/semantic/weights.py (the hub)."""
    from anagnorisis_tui.core.semantic import weights

    name, tag = choice.name, choice.pretrained
    tags = open_clip.list_pretrained_tags_by_model(name)
    if tag not in tags:
        known = ", ".join(tags) if tags else "none (use a local weights file)"
        raise ModelUnavailable(
            f"{name} has no pretrained tag {tag!r}; known tags: {known}; or pass "
            "--pretrained with the path of a local weights file"
        )
    tag_cfg = open_clip.get_pretrained_cfg(name, tag) or {}
    files = weights.tag_files(tag_cfg)
    if not files:  # a tag served from a plain URL (OpenAI's originals): open_clip fetches it
        try:
            with _quiet():
                return open_clip.create_model(name, pretrained=tag, cache_dir=cache_dir)
        except Exception as exc:  # noqa: BLE001 - download failures come in many types
            raise ModelUnavailable(_unavailable(choice, _short(exc), tag_cfg.get("url"))) from exc
    path = _weights_file(files, choice, cache_dir, progress, cancel)
    with _quiet(), _skip_init():
        model = open_clip.create_model(name, pretrained=None)
    _load_checked(open_clip, model, path, choice)
    pcfg = open_clip.transform.merge_preprocess_dict(
        open_clip.get_model_preprocess_cfg(model), tag_cfg
    )
    open_clip.set_model_preprocess_cfg(model, pcfg)
    return model


def _weights_file(
    files: list[Any],
    choice: ModelChoice,
    cache_dir: str | None,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> Any:
    """A copy from an earlier download (the data dir's own cache first), else the hub's."""
    from anagnorisis_tui.core.semantic import weights

    if cache_dir:
        old = weights.cached(files, weights.hub_config(cache_dir))
        if old is not None:
            return old
    try:
        return weights.fetch(files, what=choice.label, progress=progress, cancel=cancel)
    except weights.DownloadError as exc:
        raise ModelUnavailable(_unavailable(choice, str(exc), None)) from exc


def _unavailable(choice: ModelChoice, why: str, url: str | None) -> str:
    where = f" ({url})" if url else ""
    return (
        f"cannot get the weights for {choice.label}{where}: {why}. To try the app without "
        "them: --model tiny-clip (a tiny demo model that only knows coloured shapes)"
    )


def _build_hub(
    open_clip: Any,
    choice: ModelChoice,
    cache_dir: str | None,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> tuple[Any, Any]:
    """`hf-hub:org/repo[@rev]`: the repo's open_clip_config.json and weights at that revision,
    as open_clip names them."""
    from anagnorisis_tui.core.semantic import weights
    from anagnorisis_tui.core.semantic.model_choice import hub_repo

    repo, revision = hub_repo(choice.name)
    config = _weights_file(
        [weights.HubFile(repo, "open_clip_config.json", revision)], choice, cache_dir, None, cancel
    )
    path = _weights_file(
        [
            weights.HubFile(repo, "open_clip_model.safetensors", revision),
            weights.HubFile(repo, "open_clip_pytorch_model.bin", revision),
        ],
        choice,
        cache_dir,
        progress,
        cancel,
    )
    folder = config.parent
    if path.parent != folder:
        raise WeightsError(f"{repo}: the config and the weights come from different revisions")
    with _quiet():
        model = open_clip.create_model(f"local-dir:{folder}", load_weights=False)
    _load_checked(open_clip, model, path, choice)
    return model, folder


def _load_checked(open_clip: Any, model: Any, path: Any, choice: ModelChoice) -> None:
    import torch

    try:
        state = _read_state_dict(open_clip, path)
    except Exception as exc:  # noqa: BLE001
        raise WeightsError(
            f"{path} is truncated or not a model weights file ({_short(exc)}); copy or "
            "download it again, or choose another with --pretrained"
        ) from exc
    try:
        missing, unexpected = _load_into(open_clip, torch, model, state)
    except RuntimeError as exc:
        raise WeightsError(
            f"{path} does not fit {choice.display_name}: {_short(exc, 300)}; pass the "
            "matching --model for these weights"
        ) from exc
    if missing or unexpected:
        raise WeightsError(
            f"{path} does not fit {choice.display_name}: {len(missing)} missing and "
            f"{len(unexpected)} unexpected tensors (e.g. {(missing or unexpected)[0]}); pass "
            "the matching --model for these weights"
        )


@contextlib.contextmanager
def _quiet() -> Any:
    """open_clip logs through the root logger (e.g. "initialized randomly" before we load the
    weights ourselves); those lines would land in the user's terminal."""
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


# The torch.nn.init functions open_clip's layers call while they are built.
_INIT_FUNCTIONS = (
    "uniform_",
    "normal_",
    "trunc_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "xavier_uniform_",
    "xavier_normal_",
    "constant_",
    "zeros_",
    "ones_",
    "orthogonal_",
)
_init_lock = threading.Lock()


@contextlib.contextmanager
def _skip_init() -> Any:
    """Build a model without randomly initialising it: its weights are loaded over every
    tensor right after (a missing tensor is an error), and filling ViT-B-32 with random values
    first costs more than a second on a NAS CPU (BENCHMARKS.md)."""
    import torch

    with _init_lock:
        saved = {name: getattr(torch.nn.init, name) for name in _INIT_FUNCTIONS}
        for name in _INIT_FUNCTIONS:
            setattr(torch.nn.init, name, _unchanged)
        try:
            yield
        finally:
            for name, function in saved.items():
                setattr(torch.nn.init, name, function)


def _unchanged(tensor: Any, *args: Any, **kwargs: Any) -> Any:
    return tensor


def _build_local(
    open_clip: Any, torch: Any, choice: ModelChoice, cfg: dict[str, Any] | None
) -> Any:
    weights = choice.weights
    assert weights is not None
    if not weights.is_file():
        raise WeightsError(f"weights file {weights} not found")
    if cfg is not None:
        # The folder's own config and preprocessing; the weights are loaded (checked) below.
        with _quiet(), _skip_init():
            model = open_clip.create_model(f"local-dir:{choice.config_dir}", load_weights=False)
    else:
        with _quiet(), _skip_init():
            model = open_clip.create_model(choice.name, pretrained=None)
    _load_checked(open_clip, model, weights, choice)
    return model


def _read_state_dict(open_clip: Any, weights: Any) -> dict[str, Any]:
    state = open_clip.factory.load_state_dict(str(weights), device="cpu", weights_only=True)
    return cast(dict[str, Any], state)


def _load_into(
    open_clip: Any, torch: Any, model: Any, state: dict[str, Any]
) -> tuple[list[Any], list[Any]]:
    state = open_clip.factory.convert_state_dict(model, state)
    if "positional_embedding" in state and not hasattr(model, "positional_embedding"):
        state = open_clip.model.convert_to_custom_text_state_dict(state)
    if "logit_scale" in state and model.logit_scale.ndim != state["logit_scale"].ndim:
        state["logit_scale"] = state["logit_scale"].reshape(model.logit_scale.shape)
    if "logit_bias" not in state and getattr(model, "logit_bias", None) is not None:
        state["logit_bias"] = torch.zeros_like(state["logit_scale"])
    state.pop("text.transformer.embeddings.position_ids", None)
    result = model.load_state_dict(state, strict=False)
    return list(result.missing_keys), list(result.unexpected_keys)


def _short(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
