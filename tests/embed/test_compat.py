"""core/semantic/torch_compat.py: open_clip imports on this torch/torchvision pair, without touching site-packages."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


SNIPPET = """
import sys
try:
    import torchvision  # noqa: F401
    plain = "ok"
except RuntimeError as exc:
    plain = "nms" if "torchvision::nms" in str(exc) else repr(exc)
for name in [m for m in sys.modules if m.startswith("torchvision")]:
    del sys.modules[name]
from anagnorisis_tui.core.semantic import torch_compat as compat
open_clip = compat.import_open_clip()
import torchvision.transforms.functional as F
from PIL import Image
tensor = F.to_tensor(Image.new("RGB", (8, 8), (255, 0, 0)))
print(plain, compat.shim_applied(), open_clip.__name__, float(tensor[0].mean()))
"""


def _run(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()


def test_open_clip_imports_through_compat_whatever_torchvision_does():
    plain, shim, name, red = _run(SNIPPET)
    assert name == "open_clip"
    assert red == "1.0"  # torchvision's pure-Python transforms work
    # Where plain `import torchvision` dies on the missing operator, the shim is what fixed it;
    # where torchvision imports cleanly (a matching build), no shim is applied.
    assert (plain, shim) in {("nms", "True"), ("ok", "False")}


def test_shipped_ops_stay_honest_about_missing_kernels():
    code = (
        "from anagnorisis_tui.core.semantic import torch_compat as compat\n"
        "compat.import_open_clip()\n"
        "import torch, torchvision\n"
        "try:\n"
        "    torchvision.ops.nms(torch.zeros(1, 4), torch.zeros(1), 0.5)\n"
        "    print('kernel', compat.shim_applied())\n"
        "except (NotImplementedError, RuntimeError):\n"
        "    print('no-kernel', compat.shim_applied())\n"
    )
    # With the shim, nms has a schema but no kernel: a clear error, never a wrong answer.
    assert tuple(_run(code)) in {("kernel", "False"), ("no-kernel", "True")}


def test_compat_import_is_idempotent_and_lazy():
    code = (
        "import sys\n"
        "from anagnorisis_tui.core.semantic import torch_compat as compat\n"
        "assert 'torch' not in sys.modules\n"
        "a = compat.import_open_clip(); b = compat.import_open_clip()\n"
        "print(a is b, 'torch' in sys.modules)\n"
    )
    assert _run(code) == ["True", "True"]
