"""Which copy a group keeps: the user's rules, then the default order.

The default (highest resolution, then more metadata, then the largest file, then the oldest,
then the path) stays when the user sets nothing. The rules, from `[duplicates]` in the settings
or the command line, come first, in this order:
- reference folders: a file inside one is always preferred as the keeper and is never moved
  (plan.py skips it whatever the tier or the user's marks);
- `prefer_rated`: the copy the user rated higher (an unrated copy after every rated one);
- `prefer_formats`: e.g. ["RAW", "PNG", "HEIC", "JPEG"], first best (a format not named comes
  after every named one);
- `prefer_folders`: files in these folders (and below) before others, first best.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol

FORMAT_ALIASES = {"JPG": "JPEG", "HEIF": "HEIC", "TIF": "TIFF"}


class Keepable(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def pixels(self) -> int: ...
    @property
    def metadata(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def mtime_ns(self) -> int: ...
    @property
    def format(self) -> str | None: ...
    @property
    def rating(self) -> float | None: ...


def _folder(path: str) -> str:
    return os.path.abspath(os.path.expanduser(path)).rstrip(os.sep) or os.sep


def inside(path: str, folders: tuple[str, ...]) -> int | None:
    """The index of the first folder that holds `path` (at any depth), else None."""
    for n, folder in enumerate(folders):
        if path == folder or path.startswith(folder.rstrip(os.sep) + os.sep):
            return n
    return None


def format_name(name: str) -> str:
    upper = name.strip().upper().lstrip(".")
    return FORMAT_ALIASES.get(upper, upper)


@dataclass(frozen=True)
class KeeperRules:
    reference: tuple[str, ...] = ()  # protected folders (absolute paths)
    formats: tuple[str, ...] = ()  # format preference, first best
    folders: tuple[str, ...] = ()  # folder preference, first best (absolute paths)
    rated: bool = False  # prefer the copy the user rated higher

    @classmethod
    def make(
        cls,
        *,
        reference: list[str] | tuple[str, ...] = (),
        formats: list[str] | tuple[str, ...] = (),
        folders: list[str] | tuple[str, ...] = (),
        rated: bool = False,
    ) -> KeeperRules:
        """Rules from what a user wrote: folders expanded (~) and made absolute, format names
        upper-cased with their aliases (JPG is JPEG)."""
        return cls(
            tuple(_folder(f) for f in reference),
            tuple(format_name(f) for f in formats),
            tuple(_folder(f) for f in folders),
            bool(rated),
        )

    def with_reference(self, more: list[str] | tuple[str, ...]) -> KeeperRules:
        extra = tuple(_folder(f) for f in more)
        return KeeperRules(self.reference + extra, self.formats, self.folders, self.rated)

    def overridden(
        self,
        *,
        formats: str | None = None,
        folders: list[str] | None = None,
        rated: bool = False,
    ) -> KeeperRules:
        """These rules with what a command line gives (a comma list of formats, folders, the
        rating rule) replacing each kind it names; the reference folders stay."""
        fresh = KeeperRules.make(
            formats=[f for f in (formats or "").split(",") if f.strip()],
            folders=folders or (),
            rated=rated,
        )
        return KeeperRules(
            self.reference,
            fresh.formats or self.formats,
            fresh.folders or self.folders,
            fresh.rated or self.rated,
        )

    def protected(self, path: str) -> bool:
        return inside(path, self.reference) is not None

    def order(self, member: Keepable) -> tuple[object, ...]:
        """The sort key of a member: smallest keeps (see the module docstring)."""
        rules: list[object] = [0 if self.protected(member.path) else 1]
        if self.rated:
            rules.append(-member.rating if member.rating is not None else float("inf"))
        if self.formats:
            name = format_name(member.format or "")
            rules.append(self.formats.index(name) if name in self.formats else len(self.formats))
        if self.folders:
            at = inside(member.path, self.folders)
            rules.append(at if at is not None else len(self.folders))
        return (*rules, *default_order(member))


def default_order(member: Keepable) -> tuple[object, ...]:
    """Highest resolution, then more metadata, then largest file, then oldest, then path."""
    return (-member.pixels, -member.metadata, -member.size, member.mtime_ns, member.path)
