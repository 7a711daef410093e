"""What the services that read stored vectors are built with (the evaluator, duplicates)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from anagnorisis_tui.core.base.connections import Connections


class VectorService:
    """A service over one catalogue: its per-thread connections, the data dir, and a callable
    naming the embedding model whose vectors it reads (None: the model with the most)."""

    def __init__(
        self,
        connections: Connections,
        data_dir: Path,
        vector_model_id: Callable[[], str | None],
    ) -> None:
        self._connections = connections
        self._data_dir = data_dir
        self._vector_model_id = vector_model_id
