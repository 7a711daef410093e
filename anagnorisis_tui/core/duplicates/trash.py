"""The system trash, with enough bookkeeping to undo.

send2trash moves a file to the platform's trash but does not say where it went. On Linux (and
other freedesktop systems) the trash is a plain folder (`$XDG_DATA_HOME/Trash`, or
`<mount>/.Trash-<uid>` for other disks) with a `.trashinfo` file naming the original path, so
`locate` finds the trashed copy and `restore` puts it back and removes its info file, exactly as
a file manager's "Restore" does. On macOS and Windows the trash is managed by the system:
`locate` returns None and undo asks the user to restore from the Trash / Recycle Bin.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from pathlib import Path
from urllib.parse import unquote

from anagnorisis_tui.core.errors import UserError


class TrashError(UserError, OSError):
    """The trash refused a file (no trash on that disk, no permission); nothing was moved."""


def freedesktop() -> bool:
    return sys.platform not in ("darwin", "win32")


def send(path: str) -> str | None:
    """Move `path` to the system trash; return where it now lies when that can be known."""
    from send2trash import send2trash
    from send2trash.exceptions import TrashPermissionError

    try:
        send2trash(path)
    except TrashPermissionError as exc:
        raise TrashError(f"no usable trash for {path}: {exc}") from exc
    return locate(path) if freedesktop() else None


def _trash_dirs(original: str) -> list[tuple[Path, Path]]:
    """(trash dir, topdir its relative info paths are relative to) candidates for a file."""
    from send2trash import plat_other

    home = Path(os.fsdecode(plat_other.HOMETRASH_B))
    out = [(home, Path(os.fsdecode(plat_other.XDG_DATA_HOME)))]
    try:
        mount = Path(plat_other.find_mount_point(os.path.dirname(os.path.abspath(original))))
    except OSError:
        return out
    uid = os.getuid()
    out += [(mount / ".Trash" / str(uid), mount), (mount / f".Trash-{uid}", mount)]
    return out


def locate(original: str) -> str | None:
    """The newest trashed copy of `original` in a freedesktop trash, if there is one."""
    original = os.path.abspath(original)
    name = os.path.basename(original)
    base, ext = os.path.splitext(name)
    best: tuple[float, str] | None = None
    for trash, topdir in _trash_dirs(original):
        info_dir, files_dir = trash / "info", trash / "files"
        if not info_dir.is_dir():
            continue
        counter = 0
        # send2trash picks the first free "name", "base 1.ext", "base 2.ext", ...; ours is
        # among the taken ones up to the first gap.
        while True:
            candidate = name if counter == 0 else f"{base} {counter}{ext}"
            info = info_dir / f"{candidate}.trashinfo"
            stored = files_dir / candidate
            if not info.exists() and not os.path.lexists(stored):
                break
            if info.exists() and os.path.lexists(stored):
                recorded = _info_path(info)
                if recorded is not None and _same(recorded, topdir, original):
                    mtime = info.stat().st_mtime
                    if best is None or mtime >= best[0]:
                        best = (mtime, str(stored))
            counter += 1
    return best[1] if best else None


def _info_path(info: Path) -> str | None:
    try:
        for line in info.read_text(encoding="utf-8", errors="surrogateescape").splitlines():
            if line.startswith("Path="):
                return unquote(line[5:], errors="surrogateescape")
    except OSError:
        return None
    return None


def _same(recorded: str, topdir: Path, original: str) -> bool:
    full = recorded if os.path.isabs(recorded) else os.path.join(topdir, recorded)
    return os.path.normpath(full) == os.path.normpath(original)


def restore(trashed: str, original: str) -> None:
    """Move a trashed file back to its original path and drop its .trashinfo."""
    if os.path.lexists(original):
        raise FileExistsError(f"something is already at {original}")
    if not os.path.lexists(trashed):
        raise FileNotFoundError(f"{trashed} is no longer in the trash")
    os.makedirs(os.path.dirname(original), exist_ok=True)
    shutil.move(trashed, original)
    info = Path(trashed).parent.parent / "info" / (Path(trashed).name + ".trashinfo")
    with contextlib.suppress(FileNotFoundError):
        info.unlink()
