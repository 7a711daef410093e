"""The one entry point the UI and the CLI use: a `Library` composes the services of one catalogue.

    with Library(settings) as lib:
        lib.catalogue.scan()
        lib.semantic.embed()
        hits = lib.semantic.search("red circle")

Each service is built with exactly what it needs (the per-thread connections, the data dir, and
the one or two callables of another service it depends on); the dependencies are declared here
and nowhere else. UI-free: no Textual, no Rich, no torch at import.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import sqlite_utils

from anagnorisis_tui.core.base.config import Settings
from anagnorisis_tui.core.base.connections import Connections
from anagnorisis_tui.core.catalogue.service import CatalogueService
from anagnorisis_tui.core.duplicates.service import DuplicatesService
from anagnorisis_tui.core.evaluator.service import EvaluatorService, RatingsService
from anagnorisis_tui.core.semantic.service import SemanticService
from anagnorisis_tui.core.views.service import ViewsService


class Library:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.connections = Connections(settings.database)
        data_dir = settings.data_dir
        self.catalogue = CatalogueService(settings, self.connections)
        self.ratings = RatingsService(self.connections)
        self.semantic = SemanticService(
            settings,
            self.connections,
            on_vectors_added=lambda progress, cancel: self.evaluator.refresh_predictions_quietly(
                progress, cancel
            ),
        )
        self.evaluator = EvaluatorService(self.connections, data_dir, self.semantic.vector_model_id)
        self.views = ViewsService(self.connections, self.semantic)
        self.duplicates = DuplicatesService(
            self.connections, data_dir, self.semantic.vector_model_id
        )

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's catalogue connection."""
        return self.connections.db

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def close(self) -> None:
        self.semantic.close()
        self.connections.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
