"""The library walk: image files under a root, skipping what users expect skipped.

Skipped: hidden files and folders (a leading dot: .thumbnails, ._AppleDouble files, .git),
the settings' excludes (config.DEFAULT_EXCLUDES: Synology @eaDir, #recycle, thumbnail caches...,
plus the user's names or globs; a glob with a `/` matches the path relative to the root), and
files whose extension is not of an image format read here (core/base/extensions.py: known
without importing Pillow).

Symbolic links are followed while they lead inside the library (the root, or another of the
`inside` folders): a link whose target resolves anywhere else (/etc, another account's home) is
not followed, opened or listed, only reported ("leads outside the library"), unless the walk is
told to follow such links (`[library] follow_links_outside`). Each folder is visited once (by
device and inode), so a link to an ancestor (a loop) or to a folder already scanned adds
nothing; a loop is reported.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

from anagnorisis_tui.core.base import extensions as image_extensions


class Found(NamedTuple):  # a NamedTuple: one is built per file, cheaply
    path: str  # OS path string (surrogateescape)
    folder: str  # relative to the root, '' at the top, '/'-separated
    name: str
    size: int | None  # None when the walk was told not to stat it (a path never seen)
    mtime_ns: int | None


class Problem(NamedTuple):
    path: str
    reason: str


def exclude_matcher(
    patterns: Sequence[str],
) -> tuple[frozenset[str], Callable[[str], object] | None, Callable[[str], object] | None]:
    """(literal names, name-glob matcher, path-glob matcher); globs with '/' match paths.

    Literal names (all the defaults) are a set lookup; only real globs pay for a regex.
    """
    cleaned = [p.strip("/") for p in patterns if p and p.strip("/")]
    literal = frozenset(p for p in cleaned if "/" not in p and not _GLOB.search(p))
    globs = [p for p in cleaned if "/" not in p and _GLOB.search(p)]
    paths = [p for p in cleaned if "/" in p]

    def compile_(pats: list[str]) -> Callable[[str], object] | None:
        if not pats:
            return None
        return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in pats)).match

    return literal, compile_(globs), compile_(paths)


_GLOB = re.compile(r"[*?\[]")
_S_IFMT, _S_IFREG = 0o170000, stat.S_IFREG


_COMMON = (".jpg", ".jpeg", ".png", ".heic")  # tried first: most files of a photo library


def _suffixes(extensions: frozenset[str] | set[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names ending in one of these are listed, else a lower-cased name ending in one of
    those is): the same test as "the name's last extension, or it lower-cased, is one of
    `extensions`" (each a dot and letters), as one str.endswith per file."""
    ordered = sorted(extensions, key=lambda e: (_COMMON.index(e) if e in _COMMON else 99, e))
    upper = [e.upper() for e in ordered if e == e.lower() and e.upper() not in extensions]
    return tuple(ordered) + tuple(upper), tuple(ordered)


def _globbed(
    name: str,
    rel: str,
    name_glob: Callable[[str], object] | None,
    path_glob: Callable[[str], object] | None,
) -> bool:
    if name_glob is not None and name_glob(name):
        return True
    return path_glob is not None and bool(path_glob(f"{rel}/{name}" if rel else name))


OUTSIDE = "symbolic link leads outside the library: not followed"


def _outside_test(
    root: str, inside: Sequence[str], follow_outside: bool
) -> Callable[[str], bool] | None:
    """A test "does this link's target resolve outside the library?", or None to follow all."""
    if follow_outside:
        return None
    homes = tuple(
        dict.fromkeys(os.path.join(os.path.realpath(r), "") for r in (root, *inside) if r)
    )

    def leads_out(path: str) -> bool:
        target = os.path.join(os.path.realpath(path), "")
        return not target.startswith(homes)

    return leads_out


# A file as walk_folders gives it: (OS path, name, size, mtime_ns); no folder, its batch has it.
FolderFile = tuple[str, str, int | None, int | None]
BATCH = 2048  # files per batch at most, so a huge folder still reports progress and cancels


def walk(
    root: str,
    excludes: Sequence[str] = (),
    *,
    extensions: frozenset[str] | set[str] | None = None,
    stat_files: bool = True,
    inside: Sequence[str] = (),
    follow_outside: bool = False,
) -> Iterator[tuple[str, str, str, int | None, int | None] | Problem]:
    """Yield every image file under root (depth first), and a Problem for each unreadable part.

    A file is a plain tuple shaped like Found (path, folder, name, size, mtime_ns). The same
    walk as `walk_folders`, one item at a time."""
    for rel, items in walk_folders(
        root,
        excludes,
        extensions=extensions,
        stat_files=stat_files,
        inside=inside,
        follow_outside=follow_outside,
    ):
        for item in items:
            if type(item) is Problem:
                yield item
            else:
                path, name, size, mtime = item  # type: ignore[misc]
                yield (path, rel, name, size, mtime)


def walk_folders(
    root: str,
    excludes: Sequence[str] = (),
    *,
    extensions: frozenset[str] | set[str] | None = None,
    stat_files: bool = True,
    inside: Sequence[str] = (),
    follow_outside: bool = False,
) -> Iterator[tuple[str, list[FolderFile | Problem]]]:
    """Yield (folder relative to the root, its image files and Problems in listing order) for
    each folder under root (depth first), in batches of at most BATCH.

    A file is a plain tuple (path, name, size, mtime_ns): one is built per file, and a tuple is
    the cheapest thing to build; a batch per folder spares the caller a generator step and a
    folder look-up per file. With stat_files=False a regular file comes without size and mtime
    (no stat call; the reader takes them from the open file); symbolic links are always
    checked. `extensions` defaults to core/base/extensions.py's. A symbolic link is followed
    only when its target resolves under root or one of `inside` (or with follow_outside).
    """
    leads_out = _outside_test(root, inside, follow_outside)
    if extensions is None:
        extensions = image_extensions.listed()
    literal, name_glob, path_glob = exclude_matcher(excludes)
    suffixes, lowered = _suffixes(extensions)
    # Locals for the loop below, which runs once per directory entry.
    globs = name_glob is not None or path_glob is not None
    skip_stat = not stat_files
    ifmt, ifreg = _S_IFMT, _S_IFREG
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
                yield rel, [Problem(dirpath, f"cannot list the folder: {exc.strerror or exc}")]
            continue
        subdirs = []
        items: list[FolderFile | Problem] = []
        add = items.append
        with it:
            for entry in it:
                name = entry.name
                if name[0] == "." or name in literal:
                    continue
                if globs and _globbed(name, rel, name_glob, path_glob):
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if leads_out is not None and entry.is_symlink() and leads_out(entry.path):
                    if is_dir or name.endswith(suffixes) or name.lower().endswith(lowered):
                        add(Problem(entry.path, OUTSIDE))
                    continue
                if is_dir:
                    subdirs.append((entry, f"{rel}/{name}" if rel else name))
                    continue
                if not name.endswith(suffixes) and not name.lower().endswith(lowered):
                    continue
                if len(items) >= BATCH:
                    yield rel, items
                    items = []
                    add = items.append
                if skip_stat and not entry.is_symlink():
                    try:
                        regular = entry.is_file(follow_symlinks=False)
                    except OSError:
                        continue
                    if regular:
                        add((entry.path, name, None, None))
                    else:
                        add(Problem(entry.path, "not a regular file"))
                    continue
                try:
                    st = entry.stat()
                except OSError as exc:
                    if exc.errno == errno.ELOOP:
                        add(Problem(entry.path, "symbolic link loop"))
                    elif exc.errno == errno.ENOENT and entry.is_symlink():
                        add(Problem(entry.path, "broken symbolic link"))
                    elif exc.errno != errno.ENOENT:
                        add(Problem(entry.path, f"cannot read the file: {exc.strerror}"))
                    continue
                if st.st_mode & ifmt != ifreg:
                    add(Problem(entry.path, "not a regular file"))
                    continue
                add((entry.path, name, st.st_size, st.st_mtime_ns))
        if items:
            yield rel, items
        # Reverse so the stack pops folders in name order (stable, predictable output).
        loops: list[FolderFile | Problem] = []
        for entry, relpath in sorted(subdirs, key=lambda e: e[0].name, reverse=True):
            try:
                st = entry.stat()
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    loops.append(Problem(entry.path, "symbolic link loop"))
                continue
            key = (st.st_dev, st.st_ino)
            if key in ancestors:
                loops.append(Problem(entry.path, "symbolic link loop: links to a folder above it"))
                continue
            if key in visited:
                continue  # already scanned through another link
            visited.add(key)
            stack.append((entry.path, relpath, (*ancestors, key)))
        if loops:
            yield rel, loops
