"""Embedding a library: never recompute, re-embed on a model change, resume, record bad files."""

from __future__ import annotations

import shutil
import threading

import pytest

from anagnorisis_tui.core.base.config import DEFAULT_PRETRAINED, load_settings, replace
from anagnorisis_tui.core.demo.shapes import write_library
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.semantic import embed_pipeline as pipeline
from anagnorisis_tui.core.semantic import engine as embeddings
from anagnorisis_tui.core.semantic import model_choice, vectors


@pytest.fixture
def small_library(tmp_path, tiny_embedder):
    root = tmp_path / "photos"
    write_library(root, 40, size=80, seed=3)
    settings = load_settings(
        data_dir=tmp_path / "data",
        config_file=tmp_path / "c.toml",
        overrides={"model": "tiny-clip", "pretrained": "", "device": "cpu"},
    )
    lib = Library(settings)
    lib.semantic.use_embedder(tiny_embedder)
    lib.catalogue.scan(root)
    yield lib, root
    lib.close()


def test_copies_and_renames_are_never_recomputed(small_library):
    lib, root = small_library
    first = lib.semantic.embed()
    assert (first.total, first.embedded, first.errors) == (40, 40, 0)
    files = sorted(root.iterdir())
    shutil.copy(files[0], root / "copy of first.png")
    files[1].rename(root / "renamed.png")
    lib.catalogue.scan(root)
    again = lib.semantic.embed()
    assert (again.total, again.embedded, again.already) == (0, 0, 40)
    assert lib.semantic.vector_counts() == (40, 40)


def test_change_of_model_reembeds_and_keeps_the_old_vectors(small_library, tmp_path):
    lib, _ = small_library
    lib.semantic.embed()
    old_id = lib.semantic.model_id
    retrained = tmp_path / "retrained.safetensors"
    shutil.copy(model_choice.TINY_CLIP_DIR / "open_clip_model.safetensors", retrained)
    lib.close()  # settings never change: the library is opened again with the new weights
    lib = Library(replace(lib.settings, pretrained=str(retrained)))
    assert lib.semantic.model_id != old_id and lib.semantic.model_id.startswith(
        "tiny-clip/retrained-"
    )
    summary = lib.semantic.embed()
    assert summary.embedded == 40
    assert len(vectors.load_vectors(lib.db, old_id)[0]) == 40
    lib.close()


def test_cancel_keeps_finished_batches_and_resumes(small_library):
    lib, _ = small_library
    cancel = threading.Event()

    def progress(p):
        if p.done >= 8:
            cancel.set()

    emb = lib.semantic.embedder()
    part = pipeline.embed_library(lib.db, emb, batch_size=8, cancel=cancel, progress=progress)
    assert part.cancelled and 8 <= part.embedded < 40
    seen = []
    rest = pipeline.embed_library(lib.db, emb, batch_size=8, progress=seen.append)
    assert rest.total == 40 - part.embedded and rest.embedded == rest.total
    assert seen[-1].done == seen[-1].total and seen[-1].stage == "embed"
    assert any(p.eta is not None for p in seen)


def test_undecodable_image_is_recorded_once(small_library):
    lib, root = small_library
    victim = sorted(root.iterdir())[5]
    data = victim.read_bytes()
    lib.semantic.embed()  # everything embedded; now one file's content changes to junk
    victim.write_bytes(data[:60] + b"\0" * 200)
    lib.catalogue.scan(root)
    missing_before = lib.semantic.vector_counts()
    first = lib.semantic.embed()
    second = lib.semantic.embed()
    scanned_it = missing_before[1] == 40  # the scan may already refuse the junk file
    if scanned_it:
        assert first.errors == 1 and second.errors == 0 and second.total == 0
        [(h, path, reason)] = lib.semantic.embed_errors()
        assert path.endswith(victim.name) and "decode" in reason
    else:
        assert first.total == 0


def test_random_weights_are_never_stored(small_library):
    lib, _ = small_library
    emb = lib.semantic.embedder()
    fake = embeddings.Embedder(**{**emb.__dict__, "random_weights": True})
    with pytest.raises(ValueError, match="random weights"):
        pipeline.embed_library(lib.db, fake)


@pytest.mark.slow
def test_weights_problems_are_clear(tmp_path, monkeypatch):
    shipped = model_choice.TINY_CLIP_DIR / "open_clip_model.safetensors"
    with pytest.raises(model_choice.WeightsError, match="not found"):
        model_choice.resolve("tiny-clip", str(tmp_path / "nope.safetensors"))
    truncated = tmp_path / "cut.safetensors"
    truncated.write_bytes(shipped.read_bytes()[: shipped.stat().st_size // 3])
    with pytest.raises(model_choice.WeightsError, match="truncated"):
        embeddings.load(model_choice.resolve("tiny-clip", str(truncated), "cpu"))
    with pytest.raises(model_choice.WeightsError, match="does not fit ViT-B-32"):
        embeddings.load(model_choice.resolve("ViT-B-32", str(shipped), "cpu"))
    empty = tmp_path / "empty-folder"
    empty.mkdir()
    with pytest.raises(model_choice.WeightsError, match="no weights file"):
        model_choice.resolve("ViT-B-32", str(empty))
    with pytest.raises(model_choice.ModelUnavailable, match="no weights chosen"):
        model_choice.resolve("ViT-B-32", "")
    with pytest.raises(model_choice.ModelUnavailable, match="unknown model"):
        embeddings.load(model_choice.resolve("No-Such-Net", "x"))
    with pytest.raises(model_choice.ModelUnavailable, match="no pretrained tag 'nope'"):
        embeddings.load(model_choice.resolve("ViT-B-32", "nope", "cpu"))


@pytest.mark.slow
def test_offline_tag_says_how_to_fix_it():
    # The tests' hub endpoint (tests/conftest.py) is a port nothing listens on: no network.
    with pytest.raises(model_choice.ModelUnavailable) as info:
        embeddings.load(model_choice.resolve("ViT-B-32", "laion2b_s34b_b79k", "cpu"))
    message = str(info.value)
    assert "--pretrained /path/to/that/file" in message
    assert "http://127.0.0.1:9/laion/CLIP-ViT-B-32-laion2B-s34B-b79K" in message


def test_tiny_clip_by_name_and_as_local_dir():
    by_name = model_choice.resolve("tiny-clip", DEFAULT_PRETRAINED)  # a tag means "shipped"
    assert by_name.weights == model_choice.TINY_CLIP_DIR / "open_clip_model.safetensors"
    # A tag saved in the settings with an earlier default model means the same.
    assert model_choice.resolve("tiny-clip", "laion2b_s34b_b79k").model_id == by_name.model_id
    as_dir = model_choice.resolve(f"local-dir:{model_choice.TINY_CLIP_DIR}", "")
    assert as_dir.weights == by_name.weights and as_dir.model_id.startswith("local-dir/tiny-clip-")
    assert model_choice.index_name(by_name.model_id) != model_choice.index_name(as_dir.model_id)


def test_device_choice_is_checked():
    import torch

    assert embeddings.pick_device("auto") in {"cpu", "cuda", "mps"}
    assert embeddings.pick_device("cpu") == "cpu"
    with pytest.raises(model_choice.ModelUnavailable, match="unknown device"):
        embeddings.pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(model_choice.ModelUnavailable, match="not available"):
            embeddings.pick_device("cuda")


def test_corrupt_file_in_the_catalogue_is_recorded_not_retried(small_library):
    lib, root = small_library
    lib.semantic.embed()
    junk = root / "junk.jpg"
    junk.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 300)  # a JPEG header, then nothing usable
    with lib.db.conn:  # as a scan of an earlier, valid version of the file would have left it
        lib.db.execute("INSERT INTO images(hash, size, first_seen) VALUES ('junkhash', 304, 0)")
        lib.db.execute(
            "INSERT INTO files(path, root, folder, name, hash, size, mtime_ns, added, updated) "
            "VALUES (?, ?, '', 'junk.jpg', 'junkhash', 304, 0, 0, 0)",
            [str(junk), str(root)],
        )
    first = lib.semantic.embed()
    assert (first.total, first.errors, first.embedded) == (1, 1, 0)
    assert lib.semantic.embed().total == 0  # never retried
    [(h, path, reason)] = lib.semantic.embed_errors()
    assert h == "junkhash" and path == str(junk) and reason.startswith("cannot decode")
    assert lib.semantic.vector_counts() == (40, 41)
