"""The views service: paged, filtered, sorted views of the catalogue, searches and text concepts.

A view's search text and concept texts are encoded once per service (through the semantic
service) and joined in SQL as temporary score tables, so paging and re-sorting never re-encode.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from anagnorisis_tui.core.base.connections import Connections
from anagnorisis_tui.core.semantic import search
from anagnorisis_tui.core.semantic.service import SemanticService
from anagnorisis_tui.core.views import paging, text_scores
from anagnorisis_tui.core.views.filters import FilterError


class ViewsService:
    def __init__(self, connections: Connections, semantic: SemanticService) -> None:
        self._connections = connections
        self._semantic = semantic
        self._text_vectors: dict[str, tuple[str, np.ndarray]] = {}

    def count(self, spec: paging.ViewSpec) -> int:
        return paging.count(self._connections.db, spec, scores=self._score_table)

    def page(self, spec: paging.ViewSpec, offset: int, limit: int) -> list[paging.ImageEntry]:
        return paging.page(self._connections.db, spec, offset, limit, scores=self._score_table)

    def walk(self, spec: paging.ViewSpec, *, batch: int = 500) -> Iterator[paging.ImageEntry]:
        """Every entry of `spec` in its order, read `batch` at a time on the calling thread."""
        offset = 0
        while True:
            found = self.page(spec, offset, batch)
            if not found:
                return
            yield from found
            offset += len(found)

    def entry(self, path: str) -> paging.ImageEntry | None:
        """The catalogue entry of a present file by its catalogue path text, or None."""
        return paging.entry(self._connections.db, path)

    def text_vector(self, text: str) -> tuple[str, np.ndarray]:
        """(model id, unit vector) for a search or a text concept, in the search language;
        cached, so paging and re-sorting a view never re-encode its text."""
        if text not in self._text_vectors:
            try:
                vector = self._semantic.query_vector(text)
            except search.QueryError as exc:
                raise FilterError(str(exc)) from exc
            self._text_vectors[text] = (self._semantic.model_id, vector)
        return self._text_vectors[text]

    def search_preview(self, text: str, *, top_k: int) -> list[paging.ImageEntry]:
        """The first `top_k` results of a plain search (tens of ms: exact for a text query, the
        index for images only), as catalogue entries with their scores, for a screen to paint
        while the exact, filterable view of the same search (`count`/`page` with
        ViewSpec.search) is computed."""
        _, vector = self.text_vector(text)
        exact = search.needs_exact(search.parse(text))
        db = self._connections.db
        out = []
        searcher = self._semantic.searcher()
        for hit in search.hits(db, searcher, vector, top_k=top_k, exact=exact):
            found = paging.entry(db, hit.path)
            if found is not None:
                out.append(dataclasses.replace(found, score=hit.score))
        return out

    def _score_table(self, text: str) -> str:
        model_id, vector = self.text_vector(text)
        return text_scores.score_table(self._connections.db, model_id, vector)
