"""read_search (ui/state/search_source.py): what the Search screen's worker runs, without
Textual, over a real catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest

from anagnorisis_tui.core.errors import UserError
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.ui.state.search_source import CoreReader, read_search
from anagnorisis_tui.ui.state.search_state import SearchState
from tests.support.app_library import catalogue, make_images


@pytest.fixture
def library(settings, tmp_path: Path):
    root = tmp_path / "photos"
    paths = make_images(root, [f"a/{i}.jpg" for i in range(5)] + ["b/x.jpg", "b/y.jpg"])
    lib = Library(settings)
    catalogue(lib, root, paths)
    reader = CoreReader()
    yield lib, reader, root
    reader.close()
    lib.close()


def test_a_filtered_view_is_read_with_its_count_and_first_page(library):
    lib, reader, root = library
    previews: list[object] = []
    state = SearchState(root=str(root), folder="b", sort="name", descending=False)
    source = read_search(lib, state, reader, 4, cancelled=lambda: False, preview=previews.append)
    assert source is not None and not previews  # no query: nothing to preview
    assert source.count() == 2
    assert [e.name for e in source.page(0, 4)] == ["x.jpg", "y.jpg"]


def test_a_search_superseded_while_it_waits_gives_nothing(library):
    lib, reader, root = library
    source = read_search(
        lib, SearchState(sort="name"), reader, 4, cancelled=lambda: True, preview=print
    )
    assert source is None


def test_a_query_the_library_cannot_answer_says_why(library):
    lib, reader, _ = library
    with pytest.raises(UserError):  # no vectors, no model: a message, not a traceback
        read_search(
            lib, SearchState(query="-beach"), reader, 4, cancelled=lambda: False, preview=print
        )
