"""How much memory one image's decode may take, and one lane for the large ones.

Pillow's pixel limit (imageinfo.MAX_PIXELS) stops the worst decompression bombs, but an image
just under it (a 688 kB PNG of 13,300 x 13,300 RGBA) still decodes to 700 MB and peaks at 3 GB:
on a NAS with 1-2 GB that is the OOM killer. So, before any pixel is decoded, the ingest reads
the image's size and mode from its header and:

- refuses an image whose decoded pixels would exceed the budget (recorded with the reason and the
  budget, and looked at again by the next scan: a raised budget lets it in);
- decodes an image large enough that the ingest's workers could not all hold one of its size
  within the budget in one lane: one at a time across the threads of this process (a lock) and
  across processes on the same data dir (an flock on `decode.lock` there), so a scan and an
  embed running side by side do not each decode a giant at once.

The budget is `[library] decode_memory_mb` in the settings; 0 (the default) means a quarter of
the memory available when the pass starts (MemAvailable), as rclip's --max-image-megapixels
sizes its limit by what the machine can spare: a decode peaks at about three times its pixels
(the decoded frame, its upright copy, the conversion).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

MIB = 1024 * 1024
SHARE = 0.25  # of the available memory, for one image's decoded pixels
FLOOR = 64 * MIB  # never less than this (a 4,000 x 4,000 photo), whatever the machine says
FALLBACK = 1024 * MIB  # when the available memory cannot be read
LOCK_NAME = "decode.lock"

_LANE = threading.Lock()  # the large-image lane of this process


def available_memory() -> int | None:
    """Bytes of memory available to new work (Linux MemAvailable), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def budget_bytes(setting_mb: int = 0) -> int:
    """The budget for one decode: the setting (MB) when given, else a share of what is free."""
    if setting_mb > 0:
        return setting_mb * MIB
    free = available_memory()
    return FALLBACK if free is None else max(FLOOR, int(free * SHARE))


def pixel_bytes(image: Image.Image) -> int:
    """The memory Pillow takes for the image's pixels at its current (possibly drafted) size:
    1 byte a pixel for 1/L/P, 2 for 16-bit grey, 4 for everything else (RGB is stored in 4)."""
    mode = image.mode
    per = 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4
    width, height = image.size
    return width * height * per


@dataclass
class DecodeLimits:
    """The budget of one pass and its large-image lane (see the module's note)."""

    budget: int
    workers: int = 1
    lock_file: Path | None = None
    large: int = field(init=False)

    def __post_init__(self) -> None:
        self.large = self.budget // max(1, self.workers)

    def refusal(self, need: int) -> str | None:
        """The reason an image needing `need` bytes is not decoded, or None when it may be."""
        if need <= self.budget:
            return None
        return (
            f"too large to decode within the memory budget: {need / MIB:,.0f} MB of pixels, "
            f"budget {self.budget / MIB:,.0f} MB (setting [library] decode_memory_mb)"
        )

    @contextlib.contextmanager
    def lane(self, need: int) -> Iterator[None]:
        """Hold the large-image lane while decoding an image of `need` bytes, if it is large."""
        if need <= self.large:
            yield
            return
        with _LANE:
            fd = None
            if self.lock_file is not None:
                with contextlib.suppress(OSError):
                    fd = os.open(
                        self.lock_file,
                        os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                        0o600,
                    )
                    fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fd is not None:
                    os.close(fd)  # closing the descriptor releases its flock
