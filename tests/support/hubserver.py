"""A small model hub on 127.0.0.1 speaking the hub's file protocol, for download tests.

`HEAD /{org}/{repo}/resolve/{revision}/{filename}` answers with `X-Repo-Commit`, `ETag` (the
file's SHA-256, as the hub gives for large files) and `Content-Length`; `GET` of the same path
honours `Range: bytes=N-` with 206. Anything under `/api/` is a JSON 404, as the hub client
tolerates, unless `api` is set: then `/api/models/{repo}[/revision/{rev}]` answers the model info
(siblings with sizes and LFS SHA-256) and `/api/models/{repo}/tree/{rev}[/{folder}]` the file
tree, as clients that list a repo first (rclip) ask. A file added with a `revision` is served under that revision (a branch or tag name,
or its commit) with its own commit; an unknown revision answers `X-Error-Code: RevisionNotFound`
as the hub does. Knobs a test turns: `cut_after` closes the connection after that many bytes of the
next GET; `corrupt` serves altered bytes under the right ETag; `requests` records what came.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class HubFiles:
    files: dict[tuple[str, str], bytes] = field(default_factory=dict)  # (repo, filename)
    commit: str = "0123456789abcdef0123456789abcdef01234567"
    cut_after: int | None = None
    corrupt: bool = False
    chunk_delay: float = 0.0  # seconds between 64 KiB pieces of a GET body (a slow link)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, Range
    api: bool = False  # answer the hub's model-info and file-tree JSON API
    lock: threading.Lock = field(default_factory=threading.Lock)

    # Files of other revisions: (repo, revision, filename), and each revision's commit.
    revisions: dict[tuple[str, str, str], bytes] = field(default_factory=dict)
    revision_commits: dict[str, str] = field(default_factory=dict)

    def add(self, repo: str, filename: str, data: bytes | Path, revision: str = "main") -> None:
        body = data.read_bytes() if isinstance(data, Path) else data
        if revision == "main":
            self.files[(repo, filename)] = body
            return
        self.revisions[(repo, revision, filename)] = body
        self.revision_commits[revision] = hashlib.sha1(revision.encode()).hexdigest()

    def lookup(self, repo: str, revision: str, filename: str) -> tuple[bytes | None, str] | None:
        """(the file or None, the revision's commit); None when the revision is unknown."""
        if revision in ("main", self.commit):
            return self.files.get((repo, filename)), self.commit
        for name, commit in self.revision_commits.items():
            if revision in (name, commit):
                return self.revisions.get((repo, name, filename)), commit
        return None

    def gets(self) -> list[tuple[str, str, str]]:
        return [r for r in self.requests if r[0] == "GET" and "/resolve/" in r[1]]


class _Handler(BaseHTTPRequestHandler):
    hub: HubFiles
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # quiet test output
        pass

    def _file(self) -> tuple[bytes, str, str] | str:
        """(data, sha256, commit), or the hub's error code."""
        from urllib.parse import unquote

        parts = [unquote(p) for p in self.path.split("?")[0].strip("/").split("/")]
        if len(parts) < 5 or parts[2] != "resolve":
            return "EntryNotFound"
        repo, filename = "/".join(parts[:2]), "/".join(parts[4:])
        found = self.hub.lookup(repo, parts[3], filename)
        if found is None:
            return "RevisionNotFound"
        data, commit = found
        if data is None:
            return "EntryNotFound"
        return data, hashlib.sha256(data).hexdigest(), commit

    def _not_found(self, head: bool, code: str = "EntryNotFound") -> None:
        body = json.dumps({"error": code}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Error-Code", code)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _answer(self, head: bool) -> None:
        with self.hub.lock:
            self.hub.requests.append((self.command, self.path, self.headers.get("Range") or ""))
        if self.path.startswith("/api/") and self.hub.api:
            self._api(head)
            return
        found = "EntryNotFound" if self.path.startswith("/api/") else self._file()
        if isinstance(found, str):
            self._not_found(head, found)
            return
        data, sha, commit = found
        start = 0
        rng = self.headers.get("Range") or ""
        if not head and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
        body = data[start:]
        if self.hub.corrupt and not head and body:
            body = bytes([body[0] ^ 0xFF]) + body[1:]
        self.send_response(206 if start else 200)
        self.send_header("X-Repo-Commit", commit)
        self.send_header("ETag", f'"{sha}"')
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data) if head else len(body)))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if head:
            return
        cut = self.hub.cut_after
        if cut is not None:
            self.hub.cut_after = None  # only the next GET is cut
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            return
        if not self.hub.chunk_delay:
            self.wfile.write(body)
            return
        try:
            for start in range(0, len(body), 1 << 16):
                self.wfile.write(body[start : start + (1 << 16)])
                self.wfile.flush()
                time.sleep(self.hub.chunk_delay)
        except OSError:  # the client hung up (a cancelled download)
            self.close_connection = True

    def _api(self, head: bool) -> None:
        from urllib.parse import unquote

        parts = [unquote(p) for p in self.path.split("?")[0].strip("/").split("/")]
        if len(parts) < 4 or parts[1] != "models":
            self._not_found(head, "RepoNotFound")
            return
        repo, rest = "/".join(parts[2:4]), parts[4:]
        files = {name: data for (r, name), data in self.hub.files.items() if r == repo}
        if not files:
            self._not_found(head, "RepoNotFound")
            return

        def entry(name: str, data: bytes) -> dict:
            sha = hashlib.sha256(data).hexdigest()
            return {
                "size": len(data),
                "blobId": hashlib.sha1(data).hexdigest(),
                "lfs": {"sha256": sha, "oid": sha, "size": len(data), "pointerSize": 134},
            }

        doc: object
        if rest[:1] == ["tree"]:
            folder = "/".join(rest[2:])
            prefix = f"{folder}/" if folder else ""
            listed: dict[str, dict] = {}
            for name, data in sorted(files.items()):
                if not name.startswith(prefix):
                    continue
                head_part, _, tail = name[len(prefix) :].partition("/")
                if tail:
                    listed.setdefault(
                        head_part,
                        {
                            "type": "directory",
                            "oid": "0" * 40,
                            "size": 0,
                            "path": prefix + head_part,
                        },
                    )
                else:
                    e = entry(name, data)
                    listed[name] = {
                        "type": "file",
                        "oid": e["blobId"],
                        "size": e["size"],
                        "path": name,
                        "lfs": e["lfs"],
                    }
            doc = list(listed.values())
        else:
            doc = {
                "id": repo,
                "modelId": repo,
                "sha": self.hub.commit,
                "private": False,
                "siblings": [{"rfilename": n, **entry(n, d)} for n, d in sorted(files.items())],
            }
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)


class LocalHub:
    """`with LocalHub() as hub:` serves `hub.files` at `hub.endpoint` until the block ends."""

    def __init__(self) -> None:
        self.files = HubFiles()
        handler = type("Handler", (_Handler,), {"hub": self.files})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LocalHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
