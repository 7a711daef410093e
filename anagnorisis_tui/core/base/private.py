"""Files the app writes: private to its user, never through a link someone else planted.

A NAS is shared: other accounts can read what is world-readable and write into photo folders.
So:
- The process runs with umask 077 (`private_umask`, called first thing by the command line and by
  every worker child): everything it creates is 0700 (folders) or 0600 (files), whatever the
  user's umask. The user's own umask is remembered for files exported on request.
- The data dir is made 0700 and checked to belong to the user (`secure_data_dir`): a data dir
  that is a link to a folder of another account is refused. An existing data dir from an older
  version, with looser modes, is tightened once: every folder 0700, every file 0600.
- A file written outside the data dir (a sidecar, an export) goes to a fresh temporary made by
  `tempfile.mkstemp` in the target folder (O_CREAT|O_EXCL|O_NOFOLLOW, an unpredictable name)
  and is renamed over the target (`write_atomic`); a target that is itself a link is refused.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from anagnorisis_tui.core.errors import UserError

DIR_MODE = 0o700
FILE_MODE = 0o600
# Written once the data dir's every folder and file were tightened (older versions made them
# 0755/0644 under the usual umask); its absence makes the next open walk the dir once.
TIGHTENED_MARK = ".private-v1"

_user_umask: int | None = None
_UMASK_ENV = "ANAGNORISIS_USER_UMASK"


class UnsafePathError(UserError, OSError):
    """A path the app will not write through (a link, a folder of another account)."""


def private_umask() -> int:
    """Make everything this process creates private (umask 077); returns the user's umask,
    which files exported on request keep (see `user_file_mode`)."""
    global _user_umask
    old = os.umask(0o077)
    if _user_umask is None:
        # A worker child inherits 077 from its parent: the user's own comes through the env.
        inherited = os.environ.get(_UMASK_ENV, "")
        _user_umask = int(inherited, 8) if inherited.isdigit() else old
        os.environ[_UMASK_ENV] = f"{_user_umask:03o}"
    return _user_umask


def user_file_mode() -> int:
    """The mode the user's own umask gives a new file (0644 under the usual 022)."""
    if _user_umask is not None:
        return 0o666 & ~_user_umask
    current = os.umask(0o077)
    os.umask(current)
    return 0o666 & ~current


def secure_data_dir(path: Path) -> Path:
    """Create the data dir 0700 (parents as the umask gives), refuse one that belongs to another
    account (a planted link or folder), and tighten it: the dir itself on every open, every
    folder and file under it once. Raises UnsafePathError or OSError."""
    path = Path(path)
    try:
        os.mkdir(path, DIR_MODE)
    except FileExistsError:
        pass
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, DIR_MODE)
    link = os.lstat(path)
    st = os.stat(path)
    uid = os.geteuid()
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePathError(f"the data dir {path} is not a folder")
    if st.st_uid != uid or (stat.S_ISLNK(link.st_mode) and link.st_uid not in (uid, 0)):
        raise UnsafePathError(
            f"the data dir {path} belongs to another account (a link or folder someone else "
            "made): choose another with --data-dir or ANAGNORISIS_DATA_DIR"
        )
    if stat.S_IMODE(st.st_mode) & 0o077:  # only ever take bits away (a read-only dir stays so)
        os.chmod(path, stat.S_IMODE(st.st_mode) & DIR_MODE)
    if not os.path.lexists(os.path.join(path, TIGHTENED_MARK)):
        tighten(path)
        with contextlib.suppress(OSError):  # a read-only data dir: tightened again next time
            os.close(open_private(path / TIGHTENED_MARK, os.O_WRONLY | os.O_CREAT))
    return path


# What the app makes in a data dir: only these are tightened, so a data dir pointed at a
# folder holding other things (`--data-dir ~` by mistake) does not have them changed.
APP_ENTRIES = (
    "library.db*",
    "thumbnails",
    "index",
    "models",
    "demo",
    "demo-library",  # where versions before the demo had a data dir of its own kept it
    "worker.log*",
    "errors.log*",
    "decode.lock",
)


def tighten(top: Path) -> int:
    """chmod the app's folders under top 0700 and its files 0600 (APP_ENTRIES and all under
    them; links are left alone, never followed; what belongs to another account is skipped).
    Returns how many were changed."""
    import fnmatch

    changed = 0
    uid = os.geteuid()
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        if os.path.samefile(dirpath, top):
            ours = [n for n in dirnames if any(fnmatch.fnmatch(n, p) for p in APP_ENTRIES)]
            dirnames[:] = ours
            filenames = [n for n in filenames if any(fnmatch.fnmatch(n, p) for p in APP_ENTRIES)]
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            if st.st_uid != uid or stat.S_ISLNK(st.st_mode):
                continue
            want = DIR_MODE if stat.S_ISDIR(st.st_mode) else FILE_MODE
            if stat.S_IMODE(st.st_mode) & ~want:
                with contextlib.suppress(OSError):
                    os.chmod(full, stat.S_IMODE(st.st_mode) & want, follow_symlinks=False)
                    changed += 1
    return changed


def open_private(path: Path, flags: int = os.O_WRONLY | os.O_CREAT | os.O_APPEND) -> int:
    """os.open a file in the data dir 0600, never through a link (O_NOFOLLOW)."""
    return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)


def refuse_link(path: Path) -> None:
    """UnsafePathError when path is a symbolic link (an export never writes through one)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise UnsafePathError(f"{path} is a symbolic link: not written through (remove it first)")
    if not stat.S_ISREG(st.st_mode):
        raise UnsafePathError(f"{path} is not a regular file: not replaced")


def write_atomic(path: Path, data: bytes, *, private: bool = False) -> None:
    """Replace path with data: a fresh temporary beside it (mkstemp: O_EXCL|O_NOFOLLOW, a name
    nobody can plant in advance), then a rename, which never follows a link at the target.

    A target that is a link is refused. A replaced file keeps its mode; a new one gets the
    user's umask, or 0600 with `private`."""
    path = Path(path)
    refuse_link(path)
    try:
        old_mode: int | None = stat.S_IMODE(os.lstat(path).st_mode)
    except FileNotFoundError:
        old_mode = None
    mode = FILE_MODE if private else (old_mode if old_mode is not None else user_file_mode())
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:40]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
        refuse_link(path)  # planted while we wrote: rename would replace the link, still refuse
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


LOG_BYTES = 4 * 1024 * 1024  # a log is rotated past this size
LOG_KEEP = 3  # rotated logs kept: NAME.1 (newest) .. NAME.3


def open_log(path: Path) -> int:
    """An fd appending to a log in the data dir (0600, no link followed), rotated first when it
    has grown past LOG_BYTES: NAME -> NAME.1 -> ... -> NAME.LOG_KEEP (the oldest dropped)."""
    path = Path(path)
    with contextlib.suppress(OSError):
        if os.lstat(path).st_size > LOG_BYTES:
            for n in range(LOG_KEEP - 1, 0, -1):
                with contextlib.suppress(FileNotFoundError):
                    os.replace(f"{path}.{n}", f"{path}.{n + 1}")
            os.replace(path, f"{path}.1")
    return open_private(path)
