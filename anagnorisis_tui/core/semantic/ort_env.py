"""onnxruntime, imported with its telemetry switched off.

On import, onnxruntime (1.2x and later on Linux) writes a telemetry device id and an offline event
store to `$XDG_CACHE_HOME/Microsoft/DeveloperTools/.onnxruntime/` (else `~/.cache/...`):
state outside the data dir, about the user's machine. It reads `ORT_DISABLE_TELEMETRY` when it
is loaded; set then, nothing is written. A user who set the variable keeps their choice.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import cast

TELEMETRY_VARIABLE = "ORT_DISABLE_TELEMETRY"


def quiet() -> None:
    """Switch onnxruntime's telemetry off for this process and its children (before import)."""
    os.environ.setdefault(TELEMETRY_VARIABLE, "1")


def onnxruntime() -> ModuleType:
    """`import onnxruntime`, its telemetry off."""
    quiet()
    import onnxruntime as ort

    return cast(ModuleType, ort)
