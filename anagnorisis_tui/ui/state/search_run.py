"""The Search screen's run of searches: which one is current, which one the grid shows, and
whether the results take the focus once painted. UI-free, unit-tested without Textual.

Every search (a query, a filter change, a new scope) gets a token from `start`. A search runs in
a worker and may post two results: the index's top page first (a preview, tens of ms), then the
exact ranking. Each arrives with its token and is taken only if it is still the current search;
a result of an older search is dropped, so the grid only ever shows the newest state.

Enter in the query box asks that the results take the focus once painted (`await_focus`): the
keys typed after Enter are for the results, so they wait (`awaiting_focus`) until the grid has
it. A newer search started meanwhile (the filter panel echoing the sort Enter chose) inherits
the request: the results the user will see are its.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Paint:
    """How to paint a search's exact results: `first` when no preview of it was painted (the
    search's time runs to these results), else the cursor stays where the user moved it."""

    first: bool

    @property
    def keeps_cursor(self) -> bool:
        return not self.first


class SearchRun:
    def __init__(self) -> None:
        self.token = 0  # the current search
        self.painted = 0  # the search whose results (or preview) the grid shows
        self.preview = 0  # the search whose preview was painted
        self.focus_for: int | None = None  # the search whose results take the focus
        self.awaiting_focus = False  # keys typed after Enter wait until the results have it

    # -- searches -----------------------------------------------------------------------------
    def start(self) -> int:
        """A new search: its token. Any search in flight is now stale."""
        self.token += 1
        if self.focus_for is not None:
            self.focus_for = self.token  # superseded: the focus goes to this one's results
        return self.token

    def supersede(self) -> None:
        """Something else is shown (a fixed list): every search in flight is stale."""
        self.token += 1

    def take_preview(self, token: int) -> bool:
        """Whether the preview of search `token` is painted (then it counts as painted)."""
        if token != self.token or self.painted == token:
            return False  # superseded, or the exact results are already shown
        self.painted = self.preview = token
        return True

    def take_results(self, token: int) -> Paint | None:
        """How to paint the exact results of search `token`; None: a newer one is on its way."""
        if token != self.token:
            return None
        paint = Paint(first=self.preview != token)
        self.painted = token
        return paint

    def is_current(self, token: int) -> bool:
        return token == self.token

    # -- the focus after Enter --------------------------------------------------------------------
    def await_focus(self) -> None:
        """Enter in the query box: the current search's results take the focus once painted."""
        self.focus_for = self.token
        self.awaiting_focus = True

    def focus_on_highlight(self) -> bool:
        """An entry of the painted results is highlighted: whether the results take the focus
        now (once; the request is then spent)."""
        if self.focus_for is not None and self.focus_for == self.painted:
            self.focus_for = None
            return True
        return False

    def focus_on_empty(self, token: int) -> bool:
        """Search `token` found nothing (and will not run again): whether the results take the
        focus anyway, so the keys typed after Enter stop waiting."""
        if self.focus_for == token:
            self.focus_for = None
            return True
        return False

    def focused(self) -> None:
        """The results have the focus: keys typed after Enter go to them now."""
        self.awaiting_focus = False

    def stop_awaiting(self) -> None:
        """The search failed: no results will take the focus, no key waits for them."""
        self.focus_for = None
        self.awaiting_focus = False


def results_line(count: int, *, indexing: bool) -> tuple[str, bool]:
    """The status line for exact results, and whether the search runs again after the scan.

    `indexing`: a query while the library is still being indexed. On a first run the query
    can come before the index: nothing matches yet, and it runs again once the scan is done.
    """
    if indexing and not count:
        return "nothing indexed matches yet: searching again when the scan is done", True
    noun = "result" if count == 1 else "results"
    more = " · still indexing: more may match" if indexing else ""
    return f"{count:,} {noun}{more}", False
