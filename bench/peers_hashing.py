"""Peers on one folder, for bench/bench_series.py: imagededup's hashing methods and czkawka's
image finder (its Rust core, through the `czkawka` Python bindings on PyPI), each at its
defaults. Run with a Python that has them (their own environment: imagededup pulls torch);
prints one JSON object {method: {"pairs": [[a, b], ...], "remove": [path, ...]}}, paths
relative to the folder. imagededup: `pairs` from find_duplicates, `remove` from
find_duplicates_to_remove (what its users are told to delete). czkawka: `pairs` within each of
its groups, `remove` all but the first of each group (its "all except one").

    PYTHON bench/peers_hashing.py FOLDER
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> None:
    # imagededup imports torchvision, whose compiled ops fail on CPU torch: the project's shim.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from anagnorisis_tui.core.semantic.torch_compat import import_torchvision

    import_torchvision()
    from imagededup.methods import AHash, DHash, PHash, WHash

    folder = Path(sys.argv[1])
    out = {}
    for method in (PHash, DHash, AHash, WHash):
        hasher = method(verbose=False)
        encodings = hasher.encode_images(image_dir=str(folder), recursive=True)
        found = hasher.find_duplicates(encoding_map=encodings)
        pairs = sorted({tuple(sorted((a, b))) for a, near in found.items() for b in near})
        remove = hasher.find_duplicates_to_remove(encoding_map=encodings)
        out[f"imagededup {method.__name__}"] = {"pairs": pairs, "remove": sorted(remove)}
    try:
        from czkawka import ImageSimilarity
    except ImportError:
        pass
    else:
        finder = ImageSimilarity()
        finder.set_directories([folder])
        groups = [
            sorted(str(Path(p).resolve().relative_to(folder.resolve())) for p in g)
            for g in finder.find_similar()
        ]
        pairs = sorted({(a, b) for g in groups for i, a in enumerate(g) for b in g[i + 1 :]})
        out["czkawka"] = {"pairs": pairs, "remove": sorted(p for g in groups for p in g[1:])}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
