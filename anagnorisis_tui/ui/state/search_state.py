"""What the Search/Filter screen holds: the query, every filter and the sort, as plain data.

UI-free (no Textual) so the parsing of what a user types into the filter controls, the one-line
summary of the active filters and the mapping onto the core's ViewSpec are unit-tested alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from anagnorisis_tui.core.base import units

# Shown and typed sizes are the core's (re-exported for the widgets that import them here).
from anagnorisis_tui.core.base.units import format_size as format_size
from anagnorisis_tui.core.base.units import size_text as size_text

# Sort keys offered by the Search/Filter screen, with the words shown for them.
SORTS: dict[str, str] = {
    "score": "relevance",
    "rating": "rating",
    "resolution": "resolution",
    "proportion": "proportion",
    "size": "file size",
    "random": "random",
    "taken": "date taken",
    "mtime": "modified",
    "name": "name",
    "path": "path",
}


class FilterInputError(ValueError):
    """A value typed into a filter control that cannot be used; the message says why."""


def parse_size(text: str, *, what: str = "size") -> int | None:
    """'5MB', '500k', '2.5 MiB', '1200' (bytes) -> bytes; '' -> None (no bound).

    The core's grammar (core/base/units.py); its message, prefixed with the control's name."""
    if not text.strip():
        return None
    try:
        return units.parse_size(text)
    except units.UnitError as exc:
        raise FilterInputError(f"{what}: {exc}") from None


def parse_proportion(text: str, *, what: str = "proportion") -> float | None:
    """'16:9', '16/9', '1.5' -> width / height; '' -> None (no bound). The core's grammar."""
    if not text.strip():
        return None
    try:
        return units.parse_ratio(text)
    except units.UnitError as exc:
        raise FilterInputError(f"{what}: {exc}") from None


def parse_number(text: str, *, what: str, minimum: float = 0.0) -> float | None:
    """A number of at least `minimum`, '' -> None."""
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise FilterInputError(f"{what}: {text!r} is not a number") from None
    if math.isnan(value) or math.isinf(value) or value < minimum:
        raise FilterInputError(f"{what}: must be a number of at least {minimum:g}, not {text}")
    return value


def parse_seed(text: str) -> int:
    text = text.strip()
    if not text:
        return 0
    try:
        return int(text)
    except ValueError:
        raise FilterInputError(f"seed: {text!r} is not a whole number") from None


@dataclass(frozen=True)
class SearchState:
    """Everything the Search/Filter screen applies, in the units a user thinks in."""

    query: str = ""
    # Text-concept filter: keep (or exclude) images whose match with `concept` >= threshold.
    concept: str = ""
    concept_threshold: float = 0.25
    concept_exclude: bool = False
    min_megapixels: float | None = None
    max_megapixels: float | None = None
    min_ratio: float | None = None  # width / height
    max_ratio: float | None = None
    shape: str | None = None  # landscape, portrait, square, panorama, tall
    min_bytes: int | None = None
    max_bytes: int | None = None
    min_rating: float | None = None
    max_rating: float | None = None
    # Date taken (EXIF, else the file's mtime), as typed: "2024", "2024-05", "2024-05-06".
    taken_from: str = ""
    taken_to: str = ""
    min_score: float | None = None  # search results scoring below this are left out
    sort: str = "score"
    descending: bool = True
    seed: int = 0
    root: str | None = None
    folder: str | None = None

    # -- what the screen's keys make of it ---------------------------------------------------
    def submitted(self, query: str) -> SearchState:
        """The state after Enter on `query`: a first query sorts the best matches first."""
        state = replace(self, query=query)
        if query and not self.query.strip():
            state = replace(state, sort="score", descending=True)
        return state

    def within(self, root: str | None, folder: str | None) -> SearchState:
        """This state in the folder chosen on the Library screen (None, None: everywhere)."""
        if (root, folder) == (self.root, self.folder):
            return self
        return replace(self, root=root, folder=folder)

    def next_sort(self) -> SearchState:
        """The next sort key (relevance only with a query to score by)."""
        keys = list(SORTS)
        following = keys[(keys.index(self.effective_sort) + 1) % len(keys)]
        if following == "score" and not self.query.strip():
            following = keys[(keys.index(following) + 1) % len(keys)]
        return replace(self, sort=following)

    def cleared(self) -> SearchState:
        """No query and no filter, in the same folder."""
        return SearchState(root=self.root, folder=self.folder)

    def validate(self) -> None:
        """Raise FilterInputError for combinations that make no sense."""
        if self.sort not in SORTS:
            raise FilterInputError(f"unknown sort {self.sort!r}; choose one of {', '.join(SORTS)}")
        for label, low, high in (
            ("resolution", self.min_megapixels, self.max_megapixels),
            ("proportion", self.min_ratio, self.max_ratio),
            ("file size", self.min_bytes, self.max_bytes),
        ):
            if low is not None and high is not None and low > high:
                raise FilterInputError(f"{label}: the minimum is above the maximum")
        low, high = self.taken_bounds()
        if low is not None and high is not None and low > high:
            raise FilterInputError("date taken: the start is after the end")
        if self.min_score is not None and not -1.0 <= self.min_score <= 1.0:
            raise FilterInputError("min score: a cosine similarity from -1 to 1")
        if not -1.0 <= self.concept_threshold <= 1.0:
            raise FilterInputError("concept threshold: a cosine similarity from -1 to 1")
        for value in (self.min_rating, self.max_rating):
            if value is not None and not 0 <= value <= 10:
                raise FilterInputError("rating: must be from 0 to 10")
        if (
            self.min_rating is not None
            and self.max_rating is not None
            and self.min_rating > self.max_rating
        ):
            raise FilterInputError("rating: the minimum is above the maximum")

    def taken_bounds(self) -> tuple[float | None, float | None]:
        """(first, last) second of the date range typed, local time; raises FilterInputError."""
        from anagnorisis_tui.core.views.filters import FilterError, parse_date

        try:
            low = parse_date(self.taken_from) if self.taken_from.strip() else None
            high = parse_date(self.taken_to, end=True) if self.taken_to.strip() else None
        except FilterError as exc:
            raise FilterInputError(f"date taken: {exc}") from None
        return low, high

    @property
    def is_plain_search(self) -> bool:
        """A query alone, best first: what the search index can answer without SQL filters."""
        filters = (
            self.min_megapixels,
            self.max_megapixels,
            self.min_ratio,
            self.max_ratio,
            self.shape,
            self.min_bytes,
            self.max_bytes,
            self.min_rating,
            self.max_rating,
            self.min_score,
            self.root,
            self.folder,
        )
        return (
            not self.taken_from.strip()
            and not self.taken_to.strip()
            and bool(self.query.strip())
            and not self.concept.strip()
            and self.sort == "score"
            and self.descending
            and all(value is None for value in filters)
        )

    @property
    def has_score(self) -> bool:
        return bool(self.query.strip() or self.concept.strip())

    @property
    def effective_sort(self) -> str:
        """Relevance needs a search or a concept to score by; without one, fall back to path."""
        if self.sort == "score" and not self.has_score:
            return "path"
        return self.sort

    @property
    def effective_descending(self) -> bool:
        if self.sort == "score" and not self.has_score:
            return False  # the fallback path order reads A to Z
        return self.descending

    def chips(self) -> list[str]:
        """Short plain-text descriptions of each active part, in the order they apply."""
        out: list[str] = []
        if self.query.strip():
            out.append(f"search: {self.query.strip()}")
            if self.min_score is not None:
                out.append(f"score ≥ {self.min_score:.2f}")
        if self.concept.strip():
            verb = "without" if self.concept_exclude else "only"
            out.append(f"{verb} “{self.concept.strip()}” ≥ {self.concept_threshold:.2f}")
        out += _range_chip("MP", self.min_megapixels, self.max_megapixels, "{:g}")
        if self.shape:
            out.append(self.shape)
        out += _range_chip("w/h", self.min_ratio, self.max_ratio, "{:.2f}")
        if self.min_bytes is not None or self.max_bytes is not None:
            low, high = format_size(self.min_bytes), format_size(self.max_bytes)
            out.append(
                f"size {low}–{high}"
                if low and high
                else f"size ≥ {low}"
                if low
                else f"size ≤ {high}"
            )
        out += _range_chip("rating", self.min_rating, self.max_rating, "{:g}")
        frm, to = self.taken_from.strip(), self.taken_to.strip()
        if frm or to:
            out.append(
                f"taken {frm}–{to}" if frm and to else f"taken ≥ {frm}" if frm else f"taken ≤ {to}"
            )
        if self.folder:
            out.append(f"in {self.folder}/")
        arrow = "↓" if self.effective_descending else "↑"
        sort = SORTS[self.effective_sort]
        out.append(
            f"sort: {sort} seed {self.seed}" if sort == "random" else f"sort: {sort} {arrow}"
        )
        return out


def _range_chip(label: str, low: float | None, high: float | None, fmt: str) -> list[str]:
    if low is None and high is None:
        return []
    if low is not None and high is not None:
        return [f"{label} {fmt.format(low)}–{fmt.format(high)}"]
    if low is not None:
        return [f"{label} ≥ {fmt.format(low)}"]
    return [f"{label} ≤ {fmt.format(high)}"]
