"""The part of the library a view shows, and the one place the UI asks which roots that is.

The library's roots are the catalogue's (`library.catalogue.current_root()`: the folder opened,
chosen or the session's; earlier ones stay in the catalogue for their ratings but out of "All
images"). `LibraryScope` never keeps them: it asks the catalogue each time, and keeps only what
the user chose in the Library screen's folder tree (`chosen`), which the Search screen searches
within. The app holds one per library shown (a new one when it switches library).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.core.views.paging import ViewSpec

if TYPE_CHECKING:
    from anagnorisis_tui.core.library import Library


@dataclass(frozen=True)
class Scope:
    root: str | None  # None: every root of the library shown
    folder: str | None  # relative to root, None: the whole root


ALL = Scope(None, None)


class LibraryScope:
    """The library shown: its roots (the catalogue's) and the scope chosen within them."""

    def __init__(self, library: Library) -> None:
        self._library = library
        # Chosen in the Library screen's tree (None: that screen has not chosen yet).
        self.chosen: Scope | None = None

    def roots(self) -> list[str]:
        """The library's roots as the views show them: the catalogue's current one, or none."""
        current = self._library.catalogue.current_root()
        return [current] if current else []

    def spec(self, scope: Scope = ALL) -> ViewSpec:
        """The catalogue view of `scope`: "All images" is every image under `roots()`, not of
        every folder ever opened (the catalogue keeps earlier libraries for their ratings)."""
        return library_spec([scope.root] if scope.root else self.roots(), scope.folder)


def library_spec(roots: list[str], folder: str | None = None) -> ViewSpec:
    """The view of `roots`: the one root (as the catalogue stores it), or every image."""
    root = fsnames.to_db(os.path.abspath(roots[0])) if len(roots) == 1 else None
    return ViewSpec(root=root, folder=folder)
