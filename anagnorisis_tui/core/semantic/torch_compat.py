"""Import open_clip safely where torchvision's compiled ops do not match the installed torch.

Why this exists: open_clip imports torchvision (for its transforms and FrozenBatchNorm2d).
When the torchvision wheel was built for another torch flavour - here torchvision 0.28.0+cu130
beside torch 2.13.0+cpu - its C++ extension (`torchvision/_C.so`) fails to load. torchvision
then skips registering its operators, but `torchvision/_meta_registrations.py` still calls
`torch.library.register_fake("torchvision::nms")` unconditionally, so `import torchvision`
dies with ``RuntimeError: operator torchvision::nms does not exist`` and takes open_clip with it.

The fix, applied only when that exact failure happens: declare the schemas of the two
operators torchvision registers fake kernels for (`nms`, `qnms`) in a `torchvision` library
fragment, then import again. Nothing in site-packages is touched; the operators stay
kernel-less (calling `torchvision.ops.nms` raises NotImplementedError), which costs nothing here
because CLIP inference and training use only the pure-Python transforms and layers.

Everything (code, tests, scripts) imports open_clip through `import_open_clip()`.
torch is imported only when one of these functions is called, never at module import.
"""

from __future__ import annotations

import sys
import threading
from types import ModuleType
from typing import cast

# The operator schemas torchvision's C++ extension would define, as in torchvision/csrc/ops.
_FAKE_REGISTERED_OPS = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}
_MISSING_OP_MARKER = "operator torchvision::"

_lock = threading.Lock()
_fragment = None  # keeps the torch.library fragment alive (dropping it unregisters the schemas)
_shim_applied = False


class CompatError(ImportError):
    """open_clip/torchvision cannot be imported; the message says why and what to do."""


def shim_applied() -> bool:
    """True when torchvision needed the operator-schema workaround in this process."""
    return _shim_applied


def _purge_torchvision() -> None:
    # A failed `import torchvision` leaves the submodules it finished in sys.modules; importing
    # again must start from scratch so __init__ runs in order.
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]


def _declare_missing_ops() -> None:
    global _fragment
    import torch
    import torch.library

    if _fragment is None:
        _fragment = torch.library.Library("torchvision", "FRAGMENT")  # noqa: TOR901
    for name, schema in _FAKE_REGISTERED_OPS.items():
        try:
            getattr(torch.ops.torchvision, name)
        except (AttributeError, RuntimeError):
            _fragment.define(schema)


def import_torchvision() -> ModuleType:
    """`import torchvision`, working around a wheel whose compiled ops do not match torch."""
    global _shim_applied
    with _lock:
        if "torchvision" in sys.modules:
            return sys.modules["torchvision"]
        try:
            import torchvision

            return cast(ModuleType, torchvision)
        except RuntimeError as exc:
            if _MISSING_OP_MARKER not in str(exc):
                raise
            first_error = exc
        _purge_torchvision()
        _declare_missing_ops()
        try:
            import torchvision
        except Exception as exc:  # noqa: BLE001 - re-raised with the fix in the message
            raise CompatError(
                f"torchvision cannot be imported even with the missing-operator workaround "
                f"({first_error}; then {exc}); install a torchvision build that matches torch: "
                "pip install -c constraints.txt --force-reinstall torchvision"
            ) from exc
        _shim_applied = True
        return cast(ModuleType, torchvision)


def import_open_clip() -> ModuleType:
    """The open_clip module, importing torchvision through the workaround first."""
    if "open_clip" in sys.modules:
        return sys.modules["open_clip"]
    try:
        import_torchvision()
        import open_clip
    except CompatError:
        raise
    except ImportError as exc:
        raise CompatError(
            f"open_clip cannot be imported ({exc}); install the app's dependencies: "
            "pip install -c constraints.txt anagnorisis-tui"
        ) from exc
    return cast(ModuleType, open_clip)
