"""Obtaining a model's weights file from the model hub: resolution, download, progress, checks.

Everything the hub client is configured with is honoured because it is the hub client's own
configuration that is read: `HF_ENDPOINT` (a mirror), `HF_HUB_OFFLINE`, `HF_HOME` /
`HF_HUB_CACHE` (where files are kept, shared with every other program using the hub), the token
(`HF_TOKEN` or `hf auth login`) and the proxy variables (`HTTPS_PROXY`, `NO_PROXY`, used by the
client's HTTP session). No host is probed: the request itself says whether the network works.

The download is this module's own loop over the client's session, so that it can

- report progress (bytes, rate, ETA) through a `ProgressCallback` and stop on a cancel event;
- resume: bytes arrive in `blobs/<etag>.part` inside the hub cache and a later run asks only for
  the rest (`Range`), whether the earlier one was cancelled, killed or cut off;
- verify: the size against the server's, and the SHA-256 against the ETag when the hub gives a
  SHA-256 (it does for every large file); a file that fails is refused, never loaded.

A finished file lands where the hub client itself puts it (blob, snapshot link, ref), so the
hub client, open_clip and this module all find it again offline.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anagnorisis_tui.core.base.progress import Cancelled, Progress, ProgressCallback, Timer, check

CHUNK = 1 << 20
REPORT_BYTES = 256 << 10  # progress at most once per this many bytes
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TRUE = {"1", "on", "yes", "true"}
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")


class DownloadError(RuntimeError):
    """The weights could not be had; the message says why and what to do about it."""


class NotOnHub(DownloadError):
    """The hub (or the mirror HF_ENDPOINT names) answered, and has none of the files."""


class Corrupt(DownloadError):
    """What arrived does not match what the server said it was sending."""


@dataclass(frozen=True)
class HubFile:
    repo: str  # "org/name"
    filename: str
    revision: str = "main"

    @property
    def label(self) -> str:
        at = f"@{self.revision}" if self.revision != "main" else ""
        return f"{self.repo}{at}/{self.filename}"


@dataclass(frozen=True)
class HubConfig:
    """The hub client's configuration as it stands for this process."""

    endpoint: str
    offline: bool
    cache_dir: Path
    has_token: bool
    proxy: str  # the proxy variable in force ("" for none), named, never its value

    def describe(self) -> str:
        parts = [f"endpoint {self.endpoint}"]
        if self.offline:
            parts.append("offline (HF_HUB_OFFLINE)")
        if self.proxy:
            parts.append(f"proxy from {self.proxy}")
        parts.append(f"cache {self.cache_dir}")
        return ", ".join(parts)


def hub_config(cache_dir: str | os.PathLike[str] | None = None) -> HubConfig:
    """The hub client's settings, the environment read now (the client reads it on import)."""
    from huggingface_hub import constants
    from huggingface_hub.utils import get_token

    endpoint = (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")
    env_offline = (os.environ.get("HF_HUB_OFFLINE") or "").strip().lower()
    offline = env_offline in _TRUE if env_offline else bool(constants.HF_HUB_OFFLINE)
    cache = Path(cache_dir) if cache_dir else Path(os.environ.get("HF_HUB_CACHE") or _hub_cache())
    proxy = next((name for name in PROXY_VARIABLES if os.environ.get(name)), "")
    return HubConfig(endpoint, offline, cache.expanduser(), bool(get_token()), proxy)


def _hub_cache() -> str:
    from huggingface_hub import constants

    if os.environ.get("HF_HOME"):
        return os.path.join(os.path.expanduser(os.environ["HF_HOME"]), "hub")
    return constants.HF_HUB_CACHE


def tag_files(tag_cfg: dict[str, Any]) -> list[HubFile]:
    """The hub files an open_clip pretrained tag can be loaded from, preferred first.

    open_clip's tags name `org/repo/` (its default file) or `org/repo/file`; a safetensors
    sibling is preferred where the repo has one, as open_clip itself does.
    """
    entry = str(tag_cfg.get("hf_hub") or "").strip()
    if not entry:
        return []
    repo, _, filename = entry.strip("/").partition("/")
    repo_id = "/".join([repo, filename.split("/")[0]]) if filename else repo
    rest = filename.split("/", 1)[1] if "/" in filename else ""
    names = [rest] if rest else ["open_clip_pytorch_model.bin"]
    safe = [n.rsplit(".", 1)[0] + ".safetensors" for n in names if not n.endswith(".safetensors")]
    safe = [s.replace("open_clip_pytorch_model", "open_clip_model") for s in safe]
    return [HubFile(repo_id, n) for n in dict.fromkeys(safe + names)]


def cached(files: list[HubFile], config: HubConfig) -> Path | None:
    """A complete, earlier download of the first of `files` found in the cache."""
    from huggingface_hub import try_to_load_from_cache

    for f in files:
        found = try_to_load_from_cache(
            f.repo, f.filename, cache_dir=config.cache_dir, revision=f.revision
        )
        if isinstance(found, str) and os.path.isfile(found):
            return Path(found)
    return None


def fetch(
    files: list[HubFile],
    *,
    what: str,
    config: HubConfig | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """The local path of the first of `files` the hub has: cached, else downloaded now.

    `what` names the model in messages. Raises progress.Cancelled (the partial file is kept for
    the next try), Corrupt, or DownloadError with the fix.
    """
    config = config or hub_config()
    found = cached(files, config)
    if found is not None:
        return found
    if not files:
        raise DownloadError(f"{what} names no file on the model hub")
    if config.offline:
        raise DownloadError(
            f"the weights for {what} are not downloaded yet and the hub client is offline "
            f"(HF_HUB_OFFLINE is set). Unset HF_HUB_OFFLINE on a machine with internet once, "
            f"or copy {files[0].filename} from {config.endpoint}/{files[0].repo} here and pass "
            "--pretrained /path/to/that/file"
        )
    missing: list[str] = []
    for f in files:
        try:
            meta = _metadata(f, config)
        except _NotThere:
            missing.append(f.filename)
            continue
        return _download(f, meta, config, progress=progress, cancel=cancel)
    raise NotOnHub(
        f"{config.endpoint}/{files[0].repo} has none of {', '.join(missing)} for {what}; if "
        "HF_ENDPOINT names a mirror, it may not carry this model"
    )


class _NotThere(Exception):
    pass


@dataclass(frozen=True)
class _Meta:
    url: str
    commit: str
    etag: str
    size: int | None


def _metadata(f: HubFile, config: HubConfig) -> _Meta:
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import (
        EntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    url = hf_hub_url(f.repo, f.filename, revision=f.revision, endpoint=config.endpoint)
    try:
        meta = get_hf_file_metadata(url, endpoint=config.endpoint)
    except RevisionNotFoundError as exc:
        raise DownloadError(
            f"{config.endpoint}/{f.repo} has no revision {f.revision!r} (a branch, tag or "
            f"commit); name one it has, e.g. hf-hub:{f.repo}@main"
        ) from exc
    except (EntryNotFoundError, RepositoryNotFoundError) as exc:
        raise _NotThere from exc
    except Exception as exc:  # noqa: BLE001 - connection, TLS, proxy and HTTP errors
        raise DownloadError(_network_message(f, config, exc)) from exc
    if not meta.etag or not meta.commit_hash:
        raise DownloadError(
            f"{config.endpoint} answered for {f.label} without the hub's ETag/X-Repo-Commit "
            "headers; HF_ENDPOINT must name a hub mirror, not a plain file server"
        )
    return _Meta(meta.location or url, meta.commit_hash, meta.etag, meta.size)


def _network_message(f: HubFile, config: HubConfig, exc: BaseException) -> str:
    why = " ".join(str(exc).split())[:200] or type(exc).__name__
    hints = []
    if "huggingface.co" in config.endpoint:
        hints.append("where the hub is blocked, set HF_ENDPOINT to a mirror")
    if not config.proxy:
        hints.append("behind a proxy, set HTTPS_PROXY")
    hints.append(
        f"or download {f.filename} from {config.endpoint}/{f.repo} elsewhere and pass "
        "--pretrained /path/to/that/file"
    )
    return f"cannot reach {config.endpoint} for {f.label}: {why}. " + "; ".join(hints)


def _repo_folder(config: HubConfig, repo: str) -> Path:
    return config.cache_dir / ("models--" + repo.replace("/", "--"))


def _download(
    f: HubFile,
    meta: _Meta,
    config: HubConfig,
    *,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> Path:
    folder = _repo_folder(config, f.repo)
    blob = folder / "blobs" / meta.etag
    if not (blob.is_file() and (meta.size is None or blob.stat().st_size == meta.size)):
        blob.parent.mkdir(parents=True, exist_ok=True)
        part = blob.with_name(blob.name + ".part")
        _transfer(f, meta, part, progress=progress, cancel=cancel)
        _verify(f, meta, part)
        os.replace(part, blob)
    return _link(folder, f, meta, blob)


def _transfer(
    f: HubFile,
    meta: _Meta,
    part: Path,
    *,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> None:
    """GET the file into `part`, continuing after the bytes already there."""
    from huggingface_hub import get_session
    from huggingface_hub.utils import build_hf_headers

    start = part.stat().st_size if part.exists() else 0
    if meta.size is not None and start > meta.size:
        part.unlink()  # longer than the file: not a prefix of it
        start = 0
    if meta.size is not None and start == meta.size:
        return
    headers = build_hf_headers(headers={"Accept-Encoding": "identity"})
    if start:
        headers["Range"] = f"bytes={start}-"
    timer = Timer()
    total = meta.size
    done = start

    def report() -> None:
        if progress is not None:
            progress(
                Progress(
                    "download",
                    done,
                    total,
                    bytes_done=done,
                    elapsed=timer.elapsed,
                    detail=f.filename,
                    done_before=start,
                )
            )

    report()
    try:
        with get_session().stream("GET", meta.url, headers=headers, timeout=30) as response:
            if response.status_code not in (200, 206):
                raise DownloadError(
                    f"{meta.url} answered HTTP {response.status_code} for {f.label}; try again "
                    "later, or download it elsewhere and pass --pretrained /path/to/that/file"
                )
            mode = "ab" if start and response.status_code == 206 else "wb"
            if mode == "wb":
                done = start = 0  # the server sent the whole file again
            with part.open(mode) as out:
                # Chunks as they arrive, so a cut connection keeps every byte it delivered.
                reported = done
                for chunk in response.iter_bytes():
                    check(cancel)
                    out.write(chunk)
                    done += len(chunk)
                    if done - reported >= REPORT_BYTES:
                        report()
                        reported = done
            report()
    except Cancelled:
        raise Cancelled(
            f"the download of {f.label} was stopped at {_mb(done)} of {_mb(total)}; the next "
            "use of the model resumes it from there"
        ) from None
    except DownloadError:
        raise
    except Exception as exc:  # noqa: BLE001 - a cut connection: the bytes so far are kept
        raise DownloadError(
            f"the download of {f.label} stopped at {_mb(done)} of {_mb(total)} "
            f"({' '.join(str(exc).split())[:160] or type(exc).__name__}); run it again to "
            "resume from there"
        ) from exc
    if total is not None and done != total:
        raise DownloadError(
            f"the download of {f.label} stopped at {_mb(done)} of {_mb(total)}; run it again "
            "to resume from there"
        )


def _verify(f: HubFile, meta: _Meta, part: Path) -> None:
    size = part.stat().st_size
    if meta.size is not None and size != meta.size:
        part.unlink()
        raise Corrupt(
            f"{f.label} arrived as {size:,} bytes, the server announced {meta.size:,}; the "
            "partial file was discarded: run it again"
        )
    if _SHA256.match(meta.etag):
        digest = sha256_of(part)
        if digest != meta.etag:
            # A mismatched file must not be resumed from or loaded; it is downloaded again.
            part.unlink()
            raise Corrupt(
                f"{f.label} arrived corrupt (SHA-256 {digest[:12]}…, expected "
                f"{meta.etag[:12]}…) and was discarded; run it again. If it keeps failing, the "
                "mirror or proxy alters the file: download it elsewhere and pass --pretrained"
            )


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def _link(folder: Path, f: HubFile, meta: _Meta, blob: Path) -> Path:
    """The hub cache's snapshot link and ref, as the hub client writes them."""
    snapshot = folder / "snapshots" / meta.commit / f.filename
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    if not snapshot.exists():
        target = os.path.relpath(blob, snapshot.parent)
        try:
            tmp = snapshot.with_name(snapshot.name + ".lnk")
            tmp.unlink(missing_ok=True)
            os.symlink(target, tmp)
            os.replace(tmp, snapshot)
        except OSError:  # no symlinks here (some NAS shares, Windows): a copy of the blob
            import shutil

            shutil.copyfile(blob, snapshot)
    if f.revision != meta.commit:
        refs = folder / "refs" / f.revision
        refs.parent.mkdir(parents=True, exist_ok=True)
        refs.write_text(meta.commit, encoding="utf-8")
    return snapshot


def _mb(n: int | None) -> str:
    return "?" if n is None else f"{n / 1e6:,.1f} MB"


def progress_text(p: Progress) -> str:
    """ "downloading open_clip_model.safetensors  120.5/605.2 MB  4.8 MB/s  ETA 01:41"."""
    from anagnorisis_tui.core.base.progress import format_eta

    total = f"/{p.total / 1e6:,.1f}" if p.total else ""
    rate = f"  {p.rate / 1e6:,.1f} MB/s" if p.rate > 0 else ""
    resumed = f"  (resumed at {p.done_before / 1e6:,.1f} MB)" if p.done_before else ""
    return (
        f"downloading {p.detail or 'weights'}  {p.done / 1e6:,.1f}{total} MB{rate}  "
        f"ETA {format_eta(p.eta)}{resumed}"
    )
