"""A small model hub on 127.0.0.1 speaking the hub's file protocol, for download tests.

`HEAD /{org}/{repo}/resolve/{revision}/{filename}` answers with `X-Repo-Commit`, `ETag` (the
file's SHA-256, as the hub gives for large files) and `Content-Length`; `GET` of the same path
honours `Range: bytes=N-` with 206. Anything under `/api/` is a JSON 404, as the hub client
tolerates. Knobs a test turns: `cut_after` closes the connection after that many bytes of the
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
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, repo: str, filename: str, data: bytes | Path) -> None:
        self.files[(repo, filename)] = data.read_bytes() if isinstance(data, Path) else data

    def gets(self) -> list[tuple[str, str, str]]:
        return [r for r in self.requests if r[0] == "GET" and "/resolve/" in r[1]]


class _Handler(BaseHTTPRequestHandler):
    hub: HubFiles
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # quiet test output
        pass

    def _file(self) -> tuple[bytes, str] | None:
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) < 5 or parts[2] != "resolve":
            return None
        repo, filename = "/".join(parts[:2]), "/".join(parts[4:])
        data = self.hub.files.get((repo, filename))
        if data is None:
            return None
        return data, hashlib.sha256(data).hexdigest()

    def _not_found(self, head: bool) -> None:
        body = json.dumps({"error": "Entry not found"}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Error-Code", "EntryNotFound")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _answer(self, head: bool) -> None:
        with self.hub.lock:
            self.hub.requests.append((self.command, self.path, self.headers.get("Range") or ""))
        found = None if self.path.startswith("/api/") else self._file()
        if found is None:
            self._not_found(head)
            return
        data, sha = found
        start = 0
        rng = self.headers.get("Range") or ""
        if not head and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
        body = data[start:]
        if self.hub.corrupt and not head and body:
            body = bytes([body[0] ^ 0xFF]) + body[1:]
        self.send_response(206 if start else 200)
        self.send_header("X-Repo-Commit", self.hub.commit)
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
