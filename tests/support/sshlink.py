"""The real app over a real SSH connection: an sshd on the loopback behind a throttled relay.

`SshLink` (a context manager) makes, in a temporary folder of its own: a host key, a client key
authorised for root, an sshd_config (loopback only, a free high port, key-only login), and
starts `sshd -D` (not a daemon: it ends with the test). `Relay` sits between the client and
sshd: each direction limited to a byte rate, delayed by a fixed time, with a bounded queue (it
stops reading when full, so TCP pushes back as on a real slow link). `command()` is the ssh
client's command line running the app remotely in a pty (`-tt`), then printing `EXIT_MARK`
and its exit status: the shell's turn again. tests/support/ptylink.py's `PtyApp(command=...)`
runs it on a local pty that answers the terminal's queries as xterm would.

Nothing leaves the loopback; everything is removed with the folder. sshd needs its privilege
separation folder (/run/sshd), which the openssh-server package makes at boot: made here if
missing.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

from tests.support.ptylink import REPO

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
EXIT_MARK = "__shell_prompt__"


def available() -> str | None:
    """Why SSH tests cannot run here (None: they can)."""
    if not os.path.exists(SSHD) or shutil.which("ssh") is None:
        return "openssh-server and openssh-client are needed (apt-get install openssh-server)"
    if shutil.which("ssh-keygen") is None:
        return "ssh-keygen is needed"
    if os.geteuid() != 0:
        return "sshd is run as root here (its privilege separation)"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Relay:
    """A TCP relay on the loopback: `rate` bytes/s (None: unlimited) and `delay` s each way."""

    QUEUE = 256 * 1024  # bytes held per direction before it stops reading

    def __init__(self, target: int, rate: float | None, delay: float) -> None:
        self.target, self.rate, self.delay = target, rate, delay
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._closing = False
        self._sockets: list[socket.socket] = []
        self.most_held = 0  # the most bytes ever waiting in the relay, either way
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sockets += [client, server]
            self._pipe(client, server)
            self._pipe(server, client)

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        queue: deque[tuple[float, bytes]] = deque()
        cv = threading.Condition()
        held = [0]

        def read() -> None:
            while True:
                with cv:
                    cv.wait_for(lambda: held[0] < self.QUEUE or self._closing)
                try:
                    data = src.recv(16384)
                except OSError:
                    data = b""
                with cv:
                    queue.append((time.monotonic() + self.delay, data))
                    held[0] += len(data)
                    self.most_held = max(self.most_held, held[0])
                    cv.notify_all()
                if not data:
                    return

        def send() -> None:
            budget, last = 0.0, time.monotonic()
            while True:
                with cv:
                    cv.wait_for(lambda: queue)
                    due, data = queue[0]
                time.sleep(max(0.0, due - time.monotonic()))
                if not data:
                    with contextlib.suppress(OSError):
                        dst.shutdown(socket.SHUT_WR)
                    return
                sent = 0
                while sent < len(data):
                    piece = data[sent : sent + 1500]
                    if self.rate is not None:
                        now = time.monotonic()
                        # A burst of up to 50 ms: a thread woken late on a loaded machine
                        # would otherwise send less than the rate (3 kB a wake-up capped a
                        # 10 Mbit/s link at a few hundred kB/s).
                        budget = min(budget + (now - last) * self.rate, max(self.rate * 0.05, 3000))
                        last = now
                        if budget < len(piece):
                            time.sleep((len(piece) - budget) / self.rate)
                            continue
                        budget -= len(piece)
                    try:
                        dst.sendall(piece)
                    except OSError:
                        return
                    sent += len(piece)
                with cv:
                    queue.popleft()
                    held[0] -= len(data)
                    cv.notify_all()

        threading.Thread(target=read, daemon=True).start()
        threading.Thread(target=send, daemon=True).start()

    def close(self) -> None:
        self._closing = True
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()


class SshLink:
    """sshd on the loopback and a relay in front of it (see the module docstring)."""

    def __init__(self, folder: Path, mbit_s: float | None, delay_ms: float) -> None:
        self.folder = folder
        self.rate = None if mbit_s is None else mbit_s * 1e6 / 8
        self.delay = delay_ms / 1000
        self.sshd: subprocess.Popen[bytes] | None = None
        self.relay: Relay | None = None

    def __enter__(self) -> SshLink:
        f = self.folder
        f.mkdir(parents=True, exist_ok=True)
        for name in ("host", "client"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(f / name)], check=True
            )
        shutil.copy(f / "client.pub", f / "authorized_keys")
        port = _free_port()
        (f / "sshd_config").write_text(
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {f / 'host'}\n"
            f"PidFile {f / 'sshd.pid'}\nAuthorizedKeysFile {f / 'authorized_keys'}\n"
            "PermitRootLogin prohibit-password\nPubkeyAuthentication yes\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
            "StrictModes no\nPrintMotd no\nPrintLastLog no\nBanner none\n"
        )
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.sshd = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(f / "sshd_config")],
            stdout=subprocess.DEVNULL,
            stderr=open(f / "sshd.log", "wb"),  # noqa: SIM115 - closed with the process
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.05)
        self.relay = Relay(port, self.rate, self.delay)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.relay is not None:
            self.relay.close()
        if self.sshd is not None:
            self.sshd.terminate()
            try:
                self.sshd.wait(5)
            except subprocess.TimeoutExpired:
                self.sshd.kill()
                self.sshd.wait()

    def command(self, args: list[str], env: dict[str, str]) -> list[str]:
        """The ssh client's command line: the app run remotely in a pty, then `EXIT_MARK`."""
        assert self.relay is not None
        settings = {"PYTHONPATH": str(REPO), "TERM": "xterm-256color", **env}
        app = " ".join(
            [
                "env",
                *(shlex.quote(f"{k}={v}") for k, v in settings.items()),
                shlex.quote(sys.executable),
                "-m",
                "anagnorisis_tui",
                *map(shlex.quote, args),
            ]
        )
        remote = f"cd {shlex.quote(str(REPO))} && {app}; echo {EXIT_MARK}$?"
        return [
            "ssh",
            "-tt",
            "-p",
            str(self.relay.port),
            "-i",
            str(self.folder / "client"),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            f"UserKnownHostsFile={self.folder / 'known_hosts'}",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "BatchMode=yes",
            "root@127.0.0.1",
            remote,
        ]
