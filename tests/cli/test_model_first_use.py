"""`search` and `similar` as the first use of a model: the weights download from the hub named by
HF_ENDPOINT (tests/support/hubserver.py on 127.0.0.1) with bytes, rate and ETA on a terminal's
stderr, Ctrl-C stops it with the bytes kept, and the next run resumes and answers.

The catalogue holds vectors for the hub model made elsewhere (as `vectors import` brings them),
so the query itself needs the model: the real CLI, in a subprocess, stderr on a pty.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from anagnorisis_tui.core.base.config import load_settings
from anagnorisis_tui.core.demo.shapes import write_library
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.semantic import imageprep, vectors
from anagnorisis_tui.core.semantic import model_choice as models
from tests.cli.test_scan_cli import run_cli
from tests.support.hubserver import LocalHub

pytestmark = pytest.mark.slow


REPO = "test-org/tiny-clip"
MODEL = f"hf-hub:{REPO}"
WEIGHTS = models.TINY_CLIP_DIR / "open_clip_model.safetensors"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch):
    with LocalHub() as server:
        config = (models.TINY_CLIP_DIR / "open_clip_config.json").read_text()
        server.files.add(REPO, "open_clip_config.json", json.dumps(json.loads(config)).encode())
        server.files.add(REPO, "open_clip_model.safetensors", WEIGHTS)
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        yield server


@pytest.fixture
def catalogue(tmp_path: Path, tiny_embedder) -> tuple[list[str], Path, dict]:
    """CLI arguments for a data dir whose images have vectors for the hub model, the library
    folder and its {path: ShapeSpec}; the model's weights are on no disk yet."""
    root = tmp_path / "lib"
    specs = write_library(root, 8, size=64)
    data, config = tmp_path / "data", tmp_path / "config.toml"
    with Library(load_settings(data_dir=data, config_file=config)) as lib:
        lib.catalogue.scan(root)
        rows = lib.db.execute("SELECT hash, path FROM files WHERE present = 1").fetchall()
        pixels = np.stack(
            [
                imageprep.load(path, tiny_embedder.image_size, tiny_embedder.resize_mode)
                for _, path in rows
            ]
        )
        model_id = models.resolve(MODEL, "", "cpu").model_id
        vectors.register_model(lib.db, model_id, tiny_embedder.dim)
        vectors.put_vectors(
            lib.db, model_id, [h for h, _ in rows], tiny_embedder.encode_images(pixels)
        )
    args = ["--data-dir", str(data), "--config", str(config), "--model", MODEL, "--device", "cpu"]
    return args, root, specs


class TerminalRun:
    """The CLI in a subprocess with stderr on a pty (a terminal), stdout on a pipe."""

    def __init__(self, *args: str) -> None:
        master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "anagnorisis_tui", *args],
            stdout=subprocess.PIPE,
            stderr=slave,
            stdin=subprocess.DEVNULL,
            env=dict(os.environ),
        )
        os.close(slave)
        self.master = master
        self.err = b""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # the child closed the pty
                return
            if not chunk:
                return
            self.err += chunk

    def wait_for(self, text: str, timeout: float = 180) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.proc.poll() is None:
            if text in self.stderr:
                return True
            time.sleep(0.05)
        return text in self.stderr

    @property
    def stderr(self) -> str:
        return self.err.decode("utf-8", "replace")

    def finish(self, timeout: float = 180) -> tuple[int, str, str]:
        out, _ = self.proc.communicate(timeout=timeout)
        self.reader.join(timeout=5)
        os.close(self.master)
        return self.proc.returncode, out.decode(), self.stderr


def _parts(hub_cache: Path) -> list[Path]:
    return list(hub_cache.rglob("*.part"))


def test_search_downloads_with_bytes_rate_and_eta_on_a_terminal(hub: LocalHub, catalogue):
    args, _, specs = catalogue
    spec = next(iter(specs.values()))
    hub.files.chunk_delay = 0.01  # the 6.8 MB file in ~1 s: several progress lines
    run = TerminalRun("search", *args, spec.colour, spec.shape, "--top", "3", "--json")
    code, out, err = run.finish()
    assert code == 0, err
    assert "downloading open_clip_model.safetensors" in err
    assert "/6.8 MB" in err and "MB/s" in err and "ETA" in err
    hits = [json.loads(line) for line in out.splitlines()]
    assert len(hits) == 3 and specs[hits[0]["path"]].colour == spec.colour


def test_similar_ctrl_c_keeps_the_bytes_and_the_next_run_resumes(
    hub: LocalHub, catalogue, tmp_path: Path
):
    from PIL import Image

    args, root, _ = catalogue
    outside = tmp_path / "probe.jpg"  # not in the library: its vector needs the model
    Image.open(next(root.rglob("*.png"))).convert("RGB").save(outside, quality=95)
    hub.files.chunk_delay = 0.05  # ~5 s for the whole file
    run = TerminalRun("similar", *args, str(outside), "-k", "2")
    assert run.wait_for(" MB/s"), run.stderr
    run.proc.send_signal(signal.SIGINT)
    code, out, err = run.finish()
    assert code == 130, err
    assert "interrupted: the download of" in err and "resumes it from there" in err
    assert out == "" and "Traceback" not in err
    hub_cache = Path(os.environ["HF_HUB_CACHE"])
    (part,) = _parts(hub_cache)
    kept = part.stat().st_size
    assert 0 < kept < WEIGHTS.stat().st_size

    hub.files.chunk_delay = 0.0
    again = run_cli("similar", *args, str(outside), "-k", "2")
    assert again.returncode == 0, again.stderr
    assert f"resuming at {kept / 1e6:,.1f} MB" in again.stderr  # off a terminal: notes
    ranges = [r[2] for r in hub.files.gets() if r[1].endswith("open_clip_model.safetensors")]
    assert ranges[-1] == f"bytes={kept}-"
    assert len(again.stdout.splitlines()) == 2 and not _parts(hub_cache)


def test_search_off_a_terminal_notes_the_download_and_the_preparation(hub: LocalHub, catalogue):
    args, _, _ = catalogue
    out = run_cli("search", *args, "blue", "square", "--top", "2")
    assert out.returncode == 0, out.stderr
    assert "downloading open_clip_model.safetensors (6.8 MB)" in out.stderr
    assert "downloaded open_clip_model.safetensors" in out.stderr
    assert "preparing the model for this CPU, once..." in out.stderr
    assert "model prepared in" in out.stderr
    assert len(out.stdout.splitlines()) == 2
