"""The library walk: image files under a root, skipping what users expect skipped.

Skipped: hidden files and folders (a leading dot: .thumbnails, ._AppleDouble files, .git),
the settings' excludes (config.DEFAULT_EXCLUDES: Synology @eaDir, #recycle, thumbnail caches...,
plus the user's names or globs; a glob with a `/` matches the path relative to the root), and
files whose extension is not an image format Pillow can read here.

Symbolic links are followed, but each folder is visited once (by device and inode), so a link
to an ancestor (a loop) or to a folder already scanned adds nothing; a loop is reported.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

from anagnorisis_tui.core.imageinfo import EXTENSIONS


class Found(NamedTuple):  # a NamedTuple: one is built per file, cheaply
    path: str  # OS path string (surrogateescape)
    folder: str  # relative to the root, '' at the top, '/'-separated
    name: str
    size: int | None  # None when the walk was told not to stat it (a path never seen)
    mtime_ns: int | None


class Problem(NamedTuple):
    path: str
    reason: str


def exclude_matcher(patterns: Sequence[str]) -> tuple[Callable[[str], bool], Callable[[str], bool]]:
    """(match a name, match a relative path) for names/globs; globs with '/' match paths."""
    names = [p.strip("/") for p in patterns if p and "/" not in p.strip("/")]
    paths = [p.strip("/") for p in patterns if p and "/" in p.strip("/")]

    def compile_(pats: list[str]) -> Callable[[str], bool]:
        if not pats:
            return lambda _s: False
        return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in pats)).match  # type: ignore[return-value]

    return compile_(names), compile_(paths)


def walk(
    root: str,
    excludes: Sequence[str] = (),
    *,
    extensions: frozenset[str] | set[str] = frozenset(EXTENSIONS),
    stat_if: Callable[[str], bool] | None = None,
) -> Iterator[Found | Problem]:
    """Yield every image file under root (depth first), and a Problem for each unreadable part.

    `stat_if(path)` False: a regular file is yielded without size and mtime (no stat call; the
    reader takes them from the open file). Symbolic links are always checked.
    """
    name_excluded, path_excluded = exclude_matcher(excludes)
    has_path_patterns = any("/" in p.strip("/") for p in excludes)
    top = os.stat(root)
    visited = {(top.st_dev, top.st_ino)}
    # (dir path, relative folder, ids of the folders above it, for loop detection)
    stack: list[tuple[str, str, tuple[tuple[int, int], ...]]] = [
        (root, "", ((top.st_dev, top.st_ino),))
    ]
    while stack:
        dirpath, rel, ancestors = stack.pop()
        try:
            it = os.scandir(dirpath)
        except OSError as exc:
            if exc.errno != errno.ENOENT:  # a folder removed mid-scan is just gone
                yield Problem(dirpath, f"cannot list the folder: {exc.strerror or exc}")
            continue
        subdirs = []
        with it:
            for entry in it:
                name = entry.name
                if name[0] == "." or name_excluded(name):
                    continue
                if has_path_patterns and path_excluded(f"{rel}/{name}" if rel else name):
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if is_dir:
                    subdirs.append((entry, f"{rel}/{name}" if rel else name))
                    continue
                dot = name.rfind(".")
                if dot <= 0 or name[dot:].lower() not in extensions:
                    continue
                if stat_if is not None and not entry.is_symlink() and not stat_if(entry.path):
                    try:
                        regular = entry.is_file(follow_symlinks=False)
                    except OSError:
                        continue
                    if regular:
                        yield Found(entry.path, rel, name, None, None)
                    else:
                        yield Problem(entry.path, "not a regular file")
                    continue
                try:
                    st = entry.stat()
                except OSError as exc:
                    if exc.errno == errno.ELOOP:
                        yield Problem(entry.path, "symbolic link loop")
                    elif exc.errno == errno.ENOENT and entry.is_symlink():
                        yield Problem(entry.path, "broken symbolic link")
                    elif exc.errno != errno.ENOENT:
                        yield Problem(entry.path, f"cannot read the file: {exc.strerror}")
                    continue
                if not stat.S_ISREG(st.st_mode):
                    yield Problem(entry.path, "not a regular file")
                    continue
                yield Found(entry.path, rel, name, st.st_size, st.st_mtime_ns)
        # Reverse so the stack pops folders in name order (stable, predictable output).
        for entry, relpath in sorted(subdirs, key=lambda e: e[0].name, reverse=True):
            try:
                st = entry.stat()
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    yield Problem(entry.path, "symbolic link loop")
                continue
            key = (st.st_dev, st.st_ino)
            if key in ancestors:
                yield Problem(entry.path, "symbolic link loop: links to a folder above it")
                continue
            if key in visited:
                continue  # already scanned through another link
            visited.add(key)
            stack.append((entry.path, relpath, (*ancestors, key)))
