"""The weights download against a local hub speaking the hub's file protocol (tests/support/hubserver.py).

The code under test is the code a user runs: the hub client's configuration read from the
environment, its HTTP session, the hub cache layout. The checkpoint served is the shipped tiny
model's weights file.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from anagnorisis_tui.core.base.progress import Cancelled, Progress
from anagnorisis_tui.core.semantic import weights
from anagnorisis_tui.core.semantic.model_choice import TINY_CLIP_DIR
from tests.support.hubserver import LocalHub

REPO = "test-org/tiny-clip"
NAME = "open_clip_model.safetensors"
CHECKPOINT = TINY_CLIP_DIR / NAME


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    with LocalHub() as server:
        server.files.add(REPO, NAME, CHECKPOINT)
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        for name in weights.PROXY_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        yield server


def files() -> list[weights.HubFile]:
    return [weights.HubFile(REPO, NAME)]


@pytest.mark.slow
def test_download_reports_progress_and_lands_in_the_hub_cache(hub: LocalHub, tmp_path: Path):
    seen: list[Progress] = []
    path = weights.fetch(files(), what="tiny", progress=seen.append)

    assert path.read_bytes() == CHECKPOINT.read_bytes()
    assert path.is_relative_to(tmp_path / "hub-cache")
    size = CHECKPOINT.stat().st_size
    assert seen[0].stage == "download" and seen[0].done == 0 and seen[0].total == size
    assert seen[-1].done == size and seen[-1].detail == NAME
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert len(seen) > 3  # chunk by chunk, not only at the end
    # The hub client itself finds it where it would have put it.
    from huggingface_hub import try_to_load_from_cache

    assert try_to_load_from_cache(REPO, NAME, cache_dir=tmp_path / "hub-cache") == str(path)


def test_a_second_fetch_uses_the_cache_without_a_request(hub: LocalHub):
    first = weights.fetch(files(), what="tiny")
    before = len(hub.files.requests)
    assert weights.fetch(files(), what="tiny") == first
    assert len(hub.files.requests) == before


def test_a_cut_connection_resumes_from_where_it_stopped(hub: LocalHub, tmp_path: Path):
    size = CHECKPOINT.stat().st_size
    hub.files.cut_after = size // 3
    with pytest.raises(weights.DownloadError, match="run it again to resume"):
        weights.fetch(files(), what="tiny")
    parts = list((tmp_path / "hub-cache").rglob("*.part"))
    assert len(parts) == 1 and parts[0].stat().st_size == size // 3

    seen: list[Progress] = []
    path = weights.fetch(files(), what="tiny", progress=seen.append)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == weights.sha256_of(CHECKPOINT)
    assert hub.files.gets()[-1][2] == f"bytes={size // 3}-"
    assert seen[0].done == seen[0].done_before == size // 3
    assert not list((tmp_path / "hub-cache").rglob("*.part"))


def test_cancel_keeps_the_partial_file_for_the_next_run(hub: LocalHub, tmp_path: Path):
    cancel = threading.Event()

    def stop_after_first_chunk(p: Progress) -> None:
        if p.done > 0:
            cancel.set()

    with pytest.raises(Cancelled):
        weights.fetch(files(), what="tiny", progress=stop_after_first_chunk, cancel=cancel)
    (part,) = (tmp_path / "hub-cache").rglob("*.part")
    kept = part.stat().st_size
    assert 0 < kept < CHECKPOINT.stat().st_size
    path = weights.fetch(files(), what="tiny")
    assert path.read_bytes() == CHECKPOINT.read_bytes()
    assert hub.files.gets()[-1][2] == f"bytes={kept}-"


def test_a_corrupt_file_is_refused_and_not_kept(hub: LocalHub, tmp_path: Path):
    hub.files.corrupt = True
    with pytest.raises(weights.Corrupt, match="arrived corrupt"):
        weights.fetch(files(), what="tiny")
    cache = tmp_path / "hub-cache"
    assert [p for p in cache.rglob("*") if p.is_file()] == []
    assert weights.cached(files(), weights.hub_config()) is None
    hub.files.corrupt = False
    assert weights.fetch(files(), what="tiny").read_bytes() == CHECKPOINT.read_bytes()


def test_the_mirror_endpoint_is_honoured(hub: LocalHub, monkeypatch: pytest.MonkeyPatch):
    config = weights.hub_config()
    assert config.endpoint == hub.endpoint
    weights.fetch(files(), what="tiny")
    assert {m for m, _, _ in hub.files.requests} == {"HEAD", "GET"}
    # Another endpoint is another server: nothing listens there, and the message says what to do.
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(weights.DownloadError, match="cannot reach http://127.0.0.1:9"):
        weights.fetch([weights.HubFile(REPO, "other.safetensors")], what="tiny")


def test_the_offline_flag_is_honoured(hub: LocalHub, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(weights.DownloadError, match="HF_HUB_OFFLINE"):
        weights.fetch(files(), what="tiny")
    assert hub.files.requests == []
    monkeypatch.delenv("HF_HUB_OFFLINE")
    path = weights.fetch(files(), what="tiny")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    before = len(hub.files.requests)
    assert weights.fetch(files(), what="tiny") == path  # the downloaded copy serves offline
    assert len(hub.files.requests) == before


def test_the_next_candidate_is_tried_when_a_file_is_absent(hub: LocalHub):
    hub.files.add("laion/some-clip", "open_clip_pytorch_model.bin", b"x" * 5000)
    candidates = weights.tag_files({"hf_hub": "laion/some-clip/"})
    assert [c.filename for c in candidates] == [
        "open_clip_model.safetensors",
        "open_clip_pytorch_model.bin",
    ]
    path = weights.fetch(candidates, what="some-clip")
    assert path.name == "open_clip_pytorch_model.bin" and path.read_bytes() == b"x" * 5000


def test_a_repo_the_mirror_lacks_says_so(hub: LocalHub):
    with pytest.raises(weights.DownloadError, match="may not carry this model"):
        weights.fetch([weights.HubFile("nobody/nothing", NAME)], what="nothing")


def test_tag_files_for_an_explicit_file():
    (only,) = weights.tag_files({"hf_hub": "timm/some-model/open_clip_model.safetensors"})
    assert (only.repo, only.filename) == ("timm/some-model", "open_clip_model.safetensors")
    assert weights.tag_files({"url": "https://example.org/x.pt"}) == []
