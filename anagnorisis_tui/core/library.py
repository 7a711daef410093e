"""The one entry point the UI and the CLI use: a `Library` composes the services of one catalogue.

    with Library(settings) as lib:
        lib.catalogue.scan()
        lib.semantic.embed()
        hits = lib.semantic.search("red circle")

Each service is built with exactly what it needs (the per-thread connections, the data dir, and
the one or two callables of another service it depends on); the dependencies are declared here
and nowhere else. A service is built, and its modules imported, when it is first used, so a
command that only scans never imports numpy or the model code. UI-free: no Textual, no Rich, no
torch at import.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from anagnorisis_tui.core.base.config import Settings
from anagnorisis_tui.core.base.connections import Connections
from anagnorisis_tui.core.base.db import Database

if TYPE_CHECKING:
    from anagnorisis_tui.core.catalogue.service import CatalogueService
    from anagnorisis_tui.core.duplicates.service import DuplicatesService
    from anagnorisis_tui.core.evaluator.service import EvaluatorService, RatingsService
    from anagnorisis_tui.core.semantic.service import SemanticService
    from anagnorisis_tui.core.views.service import ViewsService

S = TypeVar("S")


class Library:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.connections = Connections(settings.database, upgrade=self._upgrade)
        # Services by name, each built once on first use (any thread: under the lock).
        self._services: dict[str, object] = {}
        self._lock = threading.RLock()

    def _upgrade(self, db: Database) -> None:
        """Once per open, on the first connection: a user's catalogue that an older version
        mixed the demo library into gives it back (core/catalogue/demo_split.py)."""
        if self.settings.demo:
            return
        from anagnorisis_tui.core.catalogue import demo_split

        demo_split.separate(db, self.settings.data_dir)

    def _service(self, name: str, build: Callable[[], S]) -> S:
        with self._lock:
            if name not in self._services:
                self._services[name] = build()
            return self._services[name]  # type: ignore[return-value]

    @property
    def catalogue(self) -> CatalogueService:
        from anagnorisis_tui.core.catalogue.service import CatalogueService

        return self._service("catalogue", lambda: CatalogueService(self.settings, self.connections))

    @property
    def ratings(self) -> RatingsService:
        from anagnorisis_tui.core.evaluator.service import RatingsService

        return self._service("ratings", lambda: RatingsService(self.connections))

    @property
    def semantic(self) -> SemanticService:
        from anagnorisis_tui.core.semantic.service import SemanticService

        return self._service(
            "semantic",
            lambda: SemanticService(
                self.settings,
                self.connections,
                on_vectors_added=lambda progress, cancel: (
                    self.evaluator.refresh_predictions_quietly(progress, cancel)
                ),
            ),
        )

    @property
    def evaluator(self) -> EvaluatorService:
        from anagnorisis_tui.core.evaluator.service import EvaluatorService

        return self._service("evaluator", lambda: EvaluatorService(*self._vector_service_args()))

    @property
    def views(self) -> ViewsService:
        from anagnorisis_tui.core.views.service import ViewsService

        return self._service("views", lambda: ViewsService(self.connections, self.semantic))

    @property
    def duplicates(self) -> DuplicatesService:
        from anagnorisis_tui.core.duplicates.service import DuplicatesService

        def build() -> DuplicatesService:
            from anagnorisis_tui.core.duplicates.keepers import KeeperRules

            service = DuplicatesService(*self._vector_service_args())
            service.rules = KeeperRules.make(
                reference=self.settings.duplicates_reference,
                formats=self.settings.duplicates_prefer_formats,
                folders=self.settings.duplicates_prefer_folders,
                rated=self.settings.duplicates_prefer_rated,
            )
            return service

        return self._service("duplicates", build)

    def _vector_service_args(self) -> tuple[Connections, Path, Callable[[], str | None]]:
        """What a VectorService is built with: it reads the active model's vectors."""
        return self.connections, self.data_dir, self.semantic.vector_model_id

    @property
    def db(self) -> Database:
        """This thread's catalogue connection."""
        return self.connections.db

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def close(self) -> None:
        with self._lock:
            semantic = self._services.get("semantic")
        if semantic is not None:
            semantic.close()  # type: ignore[attr-defined]
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
