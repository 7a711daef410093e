"""What screens and widgets see of the app: Protocols, in a module of their own.

The app (ui/app.py) imports its screens lazily, and the screens, the mode bar and the job panel
need the app's jobs, signals and navigation. Were they to import the app class for that, the
two would import each other (an import circle). They import these Protocols instead, and
ui/app.py's AnagnorisisApp satisfies them (tests/unit/test_import_graph.py checks both: no
circle, and the app has every member named here).

`HostApp` is the type a screen gives `self.app` (`app = getters.app(HostApp)`): Textual's App
with the members below. At run time it is Textual's App, so the getter's isinstance check holds
for any app, including the small test apps that mount a single widget.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from textual.app import App
from textual.screen import Screen
from textual.signal import Signal

from anagnorisis_tui.core.base.config import Settings
from anagnorisis_tui.core.catalogue.thumbnails import ThumbnailStore
from anagnorisis_tui.core.library import Library
from anagnorisis_tui.core.views.paging import ImageEntry
from anagnorisis_tui.ui.messages import RatingChanged
from anagnorisis_tui.ui.state.scope import LibraryScope
from anagnorisis_tui.ui.state.sources import GridSource, ViewSource
from anagnorisis_tui.ui.typeahead import TypeAhead

if TYPE_CHECKING:
    from anagnorisis_tui.ui.jobs import Jobs
    from anagnorisis_tui.ui.textual_private import PictureWidget


@runtime_checkable
class PublishesUpdates(Protocol):
    """The app-wide changes a view follows: a rating given or cleared, the catalogue changed.

    A ThumbnailGrid subscribes to both when it is mounted in an app that has them, and patches
    (or reloads) its own pages: no screen has to pass them on.
    """

    rating_signal: Signal[RatingChanged]
    library_signal: Signal[None]


@runtime_checkable
class AppHost(PublishesUpdates, Protocol):
    """Everything a screen or widget of this package uses of the app, beyond Textual's App."""

    settings: Settings
    library: Library
    jobs: Jobs
    thumbnails: ThumbnailStore
    image_class: type[PictureWidget]
    typeahead: TypeAhead
    job_signal: Signal[str]
    # The library's roots (the catalogue's) and the folder chosen in the Library screen's
    # tree, which the Search screen searches within.
    scope: LibraryScope
    # The library grid's first count and page, read while Textual starts up (taken once).
    first_source: ViewSource | None
    scan_on_start: bool
    embed_after_scan: bool

    def open_viewer(self, source: GridSource | None, index: int) -> None: ...

    def viewer_closed(self, source: GridSource | None, index: int) -> None: ...

    def show_results(self, title: str, entries: Sequence[ImageEntry]) -> None: ...

    def base_screen(self, mode: str) -> Screen[Any] | None: ...

    def action_view_current(self) -> None: ...

    @property
    def on_demo(self) -> bool: ...

    def switch_library(self, library: Library) -> None: ...


if TYPE_CHECKING:

    class HostApp(App[object], AppHost):
        """Textual's App with the members above: the type of a screen's `self.app`."""

else:
    HostApp = App
