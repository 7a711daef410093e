"""Whether the chosen model can search now from files on this machine, decided without network
access and without torch or open_clip (the app asks at start, so the sidebar says at once that
search needs weights, not 5-20 s later when a search fails).

A model searches from local files when it has any of: its weights as a local file (the shipped
tiny-clip, `--pretrained /path`, `local-dir:`), the numpy export of its text tower or its ONNX
export in the data dir, the hub's ready ONNX graphs (onnx_ready.READY) or its weights in a hub
cache (the hub client's, or the data dir's `models/` where earlier versions downloaded them).
Otherwise its weights are downloaded on first use - unless the hub client is offline
(HF_HUB_OFFLINE), when search cannot work until the weights are brought.

An open_clip tag's hub files are named by open_clip's own table, which cannot be read without
importing torch; KNOWN_TAGS repeats the entries of the tags the app offers (a test keeps them
equal to open_clip's). For any other tag the answer is UNKNOWN: found out on first use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from anagnorisis_tui.core.semantic import text_numpy as textnp
from anagnorisis_tui.core.semantic import weights
from anagnorisis_tui.core.semantic.model_choice import HF_HUB, ModelChoice, hub_repo, index_name

# model id -> open_clip's `hf_hub` entry for that tag (open_clip/pretrained.py).
KNOWN_TAGS: dict[str, str] = {
    "ViT-B-32-256/datacomp_s34b_b86k": "laion/CLIP-ViT-B-32-256x256-DataComp-s34B-b86K/",
}


class Readiness(Enum):
    READY = "ready"  # searches from files on this machine
    DOWNLOAD = "download"  # weights downloaded on first use
    OFFLINE = "offline"  # weights not here and the hub client is offline: search is off
    UNKNOWN = "unknown"  # a tag this module cannot map to hub files: found out on first use


@dataclass(frozen=True)
class SearchReadiness:
    state: Readiness
    why: str  # what was found, or what is missing (plain text)

    @property
    def text(self) -> str:
        """The sidebar's line; empty where nothing useful can be said yet."""
        if self.state is Readiness.READY:
            return "search: ready (weights on this machine)"
        if self.state is Readiness.DOWNLOAD:
            return "search: needs model weights (downloaded on first use) — see ?"
        if self.state is Readiness.OFFLINE:
            return "search: off — weights not on this machine (offline) — see ?"
        return ""


def check(choice: ModelChoice, data_dir: Path, *, hub_cache: str | None = None) -> SearchReadiness:
    """Whether `choice` can search now from local files; reads files only, never the network.

    `hub_cache` overrides the hub client's cache folder (tests); the hub client's own settings
    (HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE) are read as the download would read them.
    """
    data_dir = Path(data_dir)
    if choice.weights is not None:
        return SearchReadiness(Readiness.READY, f"weights file {choice.weights}")
    if textnp.available(data_dir, choice.model_id):
        return SearchReadiness(Readiness.READY, "text tower exported in the data dir")
    if _onnx_export(data_dir, choice.model_id):
        return SearchReadiness(Readiness.READY, "ONNX export in the data dir")
    groups = _hub_files(choice)
    config = weights.hub_config(hub_cache)
    if groups is None:
        return SearchReadiness(Readiness.UNKNOWN, f"{choice.label}: checked on first use")
    caches = [config, weights.hub_config(str(data_dir / "models"))]
    for group in groups:
        if all(any(weights.cached(files, c) for c in caches) for files in group):
            return SearchReadiness(Readiness.READY, f"{group[0][0].label} in the hub cache")
    what = groups[-1][-1][0].label
    if config.offline:
        return SearchReadiness(
            Readiness.OFFLINE, f"{what} not in {config.cache_dir} and HF_HUB_OFFLINE is set"
        )
    return SearchReadiness(Readiness.DOWNLOAD, f"{what} from {config.endpoint} on first use")


def _onnx_export(data_dir: Path, model_id: str) -> bool:
    """An ONNX export (or published ready graphs) of this model whose text tower is usable."""
    folder = data_dir / "models" / "onnx" / index_name(model_id)
    try:
        spec = json.loads((folder / "spec.json").read_text("utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(spec, dict) or spec.get("model_id") != model_id:
        return False
    return spec.get("text") == "onnx" and (folder / "text.onnx").is_file()


def _hub_files(choice: ModelChoice) -> list[list[list[weights.HubFile]]] | None:
    """Ways to search from the hub cache: each a list of needs, each need met by any one file.

    None when the choice's hub files cannot be named without open_clip.
    """
    from anagnorisis_tui.core.semantic.onnx_ready import READY

    ways: list[list[list[weights.HubFile]]] = []
    ready = READY.get(choice.model_id)
    if ready is not None:
        ways.append(
            [
                [weights.HubFile(ready.repo, ready.image_file, ready.revision)],
                [weights.HubFile(ready.repo, ready.text_file, ready.revision)],
            ]
        )
    if choice.name.startswith(HF_HUB):
        repo, revision = hub_repo(choice.name)
        ways.append(
            [
                [weights.HubFile(repo, "open_clip_config.json", revision)],
                [
                    weights.HubFile(repo, "open_clip_model.safetensors", revision),
                    weights.HubFile(repo, "open_clip_pytorch_model.bin", revision),
                ],
            ]
        )
    elif choice.model_id in KNOWN_TAGS:
        ways.append([weights.tag_files({"hf_hub": KNOWN_TAGS[choice.model_id]})])
    return ways or None
