"""The Search screen's token machine (ui/state/search_run.py), without Textual (that it
imports none is tests/unit/test_ui_state_hygiene.py's)."""

from __future__ import annotations

from anagnorisis_tui.ui.state.search_run import SearchRun


def test_only_the_current_search_is_painted():
    run = SearchRun()
    old = run.start()
    new = run.start()
    assert run.take_preview(old) is False
    assert run.take_results(old) is None
    assert run.painted == 0
    paint = run.take_results(new)
    assert paint is not None and paint.first and not paint.keeps_cursor
    assert run.painted == new


def test_a_preview_then_the_exact_results_keep_the_cursor():
    run = SearchRun()
    token = run.start()
    assert run.take_preview(token)
    assert run.painted == token == run.preview
    paint = run.take_results(token)
    assert paint is not None and not paint.first and paint.keeps_cursor


def test_a_preview_arriving_after_the_exact_results_is_dropped():
    run = SearchRun()
    token = run.start()
    assert run.take_results(token) is not None
    assert run.take_preview(token) is False


def test_a_fixed_list_supersedes_the_search_in_flight():
    run = SearchRun()
    token = run.start()
    run.supersede()
    assert run.take_preview(token) is False
    assert run.take_results(token) is None
    assert not run.is_current(token)


def test_enter_hands_the_focus_to_the_results_once_painted():
    run = SearchRun()
    run.start()
    run.await_focus()
    assert run.awaiting_focus
    assert run.focus_on_highlight() is False  # nothing of this search painted yet
    run.take_results(run.token)
    assert run.focus_on_highlight() is True
    assert run.focus_on_highlight() is False  # spent
    assert run.awaiting_focus  # until the grid has it
    run.focused()
    assert not run.awaiting_focus


def test_a_search_started_while_waiting_for_the_focus_inherits_it():
    # Enter chose a sort; the filter panel echoes it as a new search: its results take focus.
    run = SearchRun()
    first = run.start()
    run.await_focus()
    second = run.start()
    assert run.focus_for == second
    assert run.take_results(first) is None
    run.take_results(second)
    assert run.focus_on_highlight()


def test_no_results_still_end_the_wait_and_a_failure_stops_it():
    run = SearchRun()
    token = run.start()
    run.await_focus()
    assert run.focus_on_empty(token - 1) is False
    assert run.focus_on_empty(token) is True
    run.start()
    run.await_focus()
    run.stop_awaiting()
    assert run.focus_for is None and not run.awaiting_focus


def test_the_results_line_and_whether_to_search_again_after_the_scan():
    from anagnorisis_tui.ui.state.search_run import results_line

    assert results_line(1, indexing=False) == ("1 result", False)
    assert results_line(12_345, indexing=False) == ("12,345 results", False)
    assert results_line(3, indexing=True) == ("3 results · still indexing: more may match", False)
    line, again = results_line(0, indexing=True)
    assert again and "searching again when the scan is done" in line
    assert results_line(0, indexing=False) == ("0 results", False)
