"""The rate-next rule on arrays: coverage by greedy facility location (the same after the cold
start, then with the model's range at each pick), and the words each pick is explained with."""

from __future__ import annotations

import numpy as np

from anagnorisis_tui.core.evaluator import queue_rules, rate_next


def _groups(sizes, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.eye(len(sizes), dim, dtype=np.float32) * 5
    x = np.concatenate(
        [c + rng.normal(0, 0.1, (n, dim)) for c, n in zip(centres, sizes, strict=True)]
    )
    return x.astype(np.float32), np.repeat(np.arange(len(sizes)), sizes)


def test_cold_start_covers_big_unrated_groups_first_then_fills_up():
    # Three tight groups of 60, 30 and 10 vectors; one image of the biggest is rated. The queue
    # asks about the two groups with no rating, bigger first, and then fills up rather than
    # stopping short. (Which member of a group: the one that most shrinks the summed squared
    # distances, as test_lazy_greedy_picks_what_rescoring_every_candidate_picks checks.)
    x, group = _groups((60, 30, 10))
    x_rated, x_cand, g_cand = x[:1], x[1:], group[1:]
    picks = queue_rules.plan(x_rated, [5.0], x_cand, 2)
    assert [g_cand[p.index] for p in picks] == [1, 2]
    assert {p.kind for p in picks} == {"new"}
    more = queue_rules.plan(x_rated, [5.0], x_cand, 10)
    assert len({p.index for p in more}) == 10
    assert [p.index for p in more] == [
        p.index for p in queue_rules.plan(x_rated, [5.0], x_cand, 10)
    ]


def test_edge_cases_never_fail_or_repeat():
    x, _ = _groups((20, 20))
    assert queue_rules.plan(x[:0], [], x[:0], 5) == []
    assert len(queue_rules.plan(x[:0], [], x, 3)) == 3
    assert len(queue_rules.plan(x[:5], [1, 2, 3, 4, 5], x[5:], 100)) == 35
    # Twenty equal ratings teach nothing: still coverage, never the model.
    same = queue_rules.plan(x[:20], [7.0] * 20, x[20:], 5)
    assert {p.kind for p in same} <= {"new", "random"} and all(p.low is None for p in same)


def test_more_ratings_than_the_rated_sample_still_fills_the_queue(monkeypatch):
    # Coverage measures distances to a sample of at most COVER_RATED rated images (10,000
    # ratings on a big library); with more, the queue still fills with distinct unrated picks.
    monkeypatch.setattr(queue_rules, "COVER_RATED", 10)
    x, _ = _groups((40, 40))
    picks = queue_rules.plan(x[:28], [6.0] * 28, x[28:], 5)
    assert len({p.index for p in picks}) == 5


def _greedy_by_rescoring(x_rated, x_cand, top_k):
    """Facility location the slow way: every candidate re-scored for every pick."""
    d = ((x_cand[:, None, :] - x_cand[None, :, :]) ** 2).sum(-1)
    near = ((x_cand[:, None, :] - x_rated[None, :, :]) ** 2).sum(-1).min(1)
    picks = []
    for _ in range(top_k):
        gain = np.maximum(near[None, :] - d, 0).sum(1)
        gain[picks] = -np.inf
        picks.append(int(np.argmax(gain)))
        near = np.minimum(near, d[picks[-1]])
    return picks


def test_lazy_greedy_picks_what_rescoring_every_candidate_picks():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 8)).astype(np.float32)
    for n_rated in (1, 12):
        got = queue_rules.facility(x[:n_rated], x[n_rated:], 25)
        assert got.tolist() == _greedy_by_rescoring(x[:n_rated], x[n_rated:], 25)
    # A longer queue starts with the same picks (the app shows 50, the user rates 5).
    assert queue_rules.facility(x[:12], x[12:], 5).tolist() == got[:5].tolist()


def test_after_the_cold_start_coverage_goes_where_no_rating_is_and_carries_the_range():
    # Three tight groups of 200, 150 and 100 vectors; 100 varied ratings, all in the first two
    # groups. The first pick is in the group nobody rated, and while that group holds fewer
    # picks and ratings than the others it keeps most of them; every pick carries the model's
    # range there.
    x, group = _groups((200, 150, 100))
    rated = np.concatenate([np.arange(0, 60), np.arange(200, 240)])
    y = np.array([2.0, 8.0] * 50, dtype=np.float32)
    cand = np.setdiff1d(np.arange(len(x)), rated)
    picks = queue_rules.plan(x[rated], y, x[cand], 10, alpha=1.0)
    assert {p.kind for p in picks} == {"new"}
    groups = [group[cand][p.index] for p in picks]
    assert groups[0] == 2 and groups.count(2) >= 5
    assert len({p.index for p in picks}) == 10
    for p in picks:
        assert p.low is not None and p.high is not None and 0 <= p.low <= p.high <= 10
        assert p.spread >= 0
    assert [p.index for p in picks] == [
        p.index for p in queue_rules.plan(x[rated], y, x[cand], 10, alpha=1.0)
    ]


def test_reasons_read_as_words_with_whole_ratings():
    Pick = queue_rules.Pick
    assert rate_next.reason(Pick(0, "new")) == "nothing like this is rated yet"
    assert (
        rate_next.reason(Pick(0, "new", 3.6, 7.2, 1.0))
        == "nothing like this is rated yet; the model is unsure here: 3–8"
    )
    assert (
        rate_next.reason(Pick(0, "new", 7.4, 8.6, 0.3))
        == "nothing like this is rated yet; the model guesses 7–9"
    )
    assert rate_next.rating_range(10.0, 10.0) == (9, 10)
    assert rate_next.rating_range(0.0, 0.0) == (0, 1)
    assert rate_next.rating_range(4.0, 6.0) == (4, 6)
