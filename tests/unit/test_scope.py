"""LibraryScope: the UI's one question about the library's roots, answered by the catalogue."""

from __future__ import annotations

from pathlib import Path

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.views.paging import ViewSpec
from anagnorisis_tui.ui.state.scope import ALL, LibraryScope, Scope


def test_the_roots_are_the_catalogues_and_follow_a_new_root(settings, tmp_path: Path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    library = Library(settings)
    try:
        scope = LibraryScope(library)
        assert scope.roots() == [] and scope.spec() == ViewSpec(root=None, folder=None)
        library.catalogue.set_root(first)
        assert scope.roots() == [str(first)]
        assert scope.spec() == ViewSpec(root=fsnames.to_db(str(first)), folder=None)
        # A new root (the user chose another folder): nothing kept here goes stale.
        library.catalogue.set_root(second)
        assert scope.roots() == library.catalogue.roots()[:1] == [str(second)]
        assert scope.spec(ALL).root == fsnames.to_db(str(second))
    finally:
        library.close()


def test_a_chosen_scope_narrows_the_view_to_its_root_and_folder(settings, tmp_path: Path):
    root = tmp_path / "photos"
    root.mkdir()
    library = Library(settings)
    try:
        library.catalogue.set_root(root)
        scope = LibraryScope(library)
        assert scope.chosen is None  # the Library screen has not chosen yet
        scope.chosen = Scope(str(root), "trips/2024")
        assert scope.spec(scope.chosen) == ViewSpec(
            root=fsnames.to_db(str(root)), folder="trips/2024"
        )
    finally:
        library.close()
