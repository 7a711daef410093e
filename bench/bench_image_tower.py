#!/usr/bin/env python
"""The image tower in numpy (core/semantic/image_numpy.py) beside ONNX Runtime on the same graph.

    python bench/bench_image_tower.py [--work DIR] [--batch 32] [--rounds 3]

One seeded random ViT-B-32-256 exported as rclip exports it (bench/rclip_models.py: the fp32
graph both apps run). The numpy tower is read out of that graph (as a first run does), then per
round, alternating, one batch of random pixels through each: ONNX Runtime's session as the app
opens it (its default intra-op threads, one per core) fed the normalised batch, and the tower fed
uint8. Prints CPU seconds (user + system of the whole process) and wall seconds per image, the
ratio, and the cosine between the two engines' vectors.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import rclip_models  # noqa: E402


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=None, help="the model is kept here")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from anagnorisis_tui.core.semantic import image_numpy
    from anagnorisis_tui.core.semantic import probe as probes
    from anagnorisis_tui.core.semantic.onnx_models import normalise_pixels, open_session, unit_rows
    from anagnorisis_tui.core.semantic.onnx_ready import OPENAI_MEAN, OPENAI_STD

    work = args.work or Path(tempfile.gettempdir()) / "bench-ingest-vs-rclip"
    models = work / "models"
    rclip_models.make(models)
    graph = models / rclip_models.SUBDIR / "visual.onnx"
    mean, std = np.asarray(OPENAI_MEAN), np.asarray(OPENAI_STD)
    session = open_session(graph)
    name = session.get_inputs()[0].name

    def ort(pixels: np.ndarray) -> np.ndarray:
        return unit_rows(session.run(None, {name: normalise_pixels(pixels, mean, std)})[0])

    with tempfile.TemporaryDirectory(prefix="bench-tower-") as tmp:
        probe = probes.probe_images(256)
        start = time.perf_counter()
        if not image_numpy.export(graph, Path(tmp), mean, std, probe, ort(probe)):
            raise SystemExit("the numpy tower was refused for this graph")
        print(f"tower read out and checked in {time.perf_counter() - start:.1f} s", flush=True)
        tower = image_numpy.open_tower(Path(tmp))
        assert tower is not None
        rng = np.random.default_rng(0)
        pixels = rng.integers(0, 256, (args.batch, 256, 256, 3), dtype=np.uint8)
        cosine = float((ort(pixels) * tower.encode_images(pixels)).sum(1).min())
        runs: dict[str, list[tuple[float, float]]] = {"onnxruntime": [], "numpy tower": []}
        engines = [("onnxruntime", ort), ("numpy tower", tower.encode_images)]
        for r in range(args.rounds):
            for label, run in engines if r % 2 == 0 else engines[::-1]:
                c0, t0 = cpu(), time.perf_counter()
                run(pixels)
                wall, used = time.perf_counter() - t0, cpu() - c0
                runs[label].append((used / args.batch, wall / args.batch))
                print(
                    f"  round {r + 1} {label:12} CPU {used / args.batch:.3f} s/image  "
                    f"wall {wall / args.batch:.3f} s/image",
                    flush=True,
                )
    med = {
        k: (statistics.median(c for c, _ in v), statistics.median(w for _, w in v))
        for k, v in runs.items()
    }
    for label, (c, w) in med.items():
        print(f"{label:12} CPU {c:.3f} s/image  wall {w:.3f} s/image (median of {args.rounds})")
    o, t = med["onnxruntime"], med["numpy tower"]
    print(
        f"numpy tower vs onnxruntime: CPU {o[0] / t[0]:.2f}x less, wall {o[1] / t[1]:.2f}x faster; "
        f"min cosine {cosine:.7f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
