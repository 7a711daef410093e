"""The duplicate review's state machine without Textual (ui/state/group_review.py): marks,
keepers, the keeper-swap rule, keep-best, decisions and undo, tier filters."""

from __future__ import annotations

from anagnorisis_tui.core.duplicates.groups import Group, Member
from anagnorisis_tui.core.views.paging import ImageEntry
from anagnorisis_tui.ui.state.group_review import GroupReview, TrashRequest
from anagnorisis_tui.ui.state.group_view import Decision, GroupRow


def _row(gid: int, tiers: list[str], ratings: list[float | None] | None = None) -> GroupRow:
    names = [f"/lib/g{gid}/m{n}.jpg" for n in range(len(tiers))]
    members = tuple(
        Member(path, f"h{gid}{n}", 10, 8, 8, 0, tier=tier)
        for n, (path, tier) in enumerate(zip(names, tiers, strict=True))
    )
    rated = ratings or [None] * len(tiers)
    entries = [
        ImageEntry(path, f"h{gid}{n}", path, f"g{gid}", "/lib", 10, 8, 8, "JPEG", 0, rating=r)
        for n, (path, r) in enumerate(zip(names, rated, strict=True))
    ]
    return GroupRow(Group(gid, members, 1.0), entries)


def test_marks_start_at_the_verified_duplicates_and_never_the_keeper():
    review = GroupReview()
    review.load([_row(1, ["keeper", "same", "similar"])])
    assert review.to_trash(0) == ["/lib/g1/m1.jpg"]
    assert not review.toggle(review.keeper_of(0))  # the keeper is never marked
    assert review.toggle("/lib/g1/m2.jpg")
    assert review.to_trash(0) == ["/lib/g1/m1.jpg", "/lib/g1/m2.jpg"]


def test_choosing_a_similar_keeper_trashes_no_original():
    review = GroupReview()
    review.load([_row(1, ["keeper", "same", "similar"])])
    review.swap_keeper("/lib/g1/m2.jpg")  # a similar member, not marked
    assert review.keeper_of(0) == "/lib/g1/m2.jpg"
    assert review.to_trash(0) == ["/lib/g1/m1.jpg"]  # the old keeper is not marked
    review.swap_keeper("/lib/g1/m1.jpg")  # a marked duplicate: the old keeper takes its mark
    assert review.keeper_of(0) == "/lib/g1/m1.jpg"
    assert review.to_trash(0) == ["/lib/g1/m2.jpg"]
    review.swap_keeper(None)  # the keeper itself: the mark moves on to the next member
    assert review.keeper_of(0) == "/lib/g1/m2.jpg"


def test_keep_best_keeps_your_highest_rating_and_marks_the_rest():
    review = GroupReview()
    review.load([_row(1, ["keeper", "series", "series"], [2.0, 9.0, None])])
    assert review.keep_best()
    assert review.keeper_of(0) == "/lib/g1/m1.jpg"
    assert review.to_trash(0) == ["/lib/g1/m0.jpg", "/lib/g1/m2.jpg"]
    unrated = GroupReview()
    unrated.load([_row(2, ["keeper", "series"])])
    assert not unrated.keep_best() and unrated.keeper_of(0) == "/lib/g2/m0.jpg"


def test_decisions_move_on_and_undo_takes_the_last_trashed_back():
    review = GroupReview()
    review.load([_row(1, ["keeper", "same"]), _row(2, ["keeper", "same"]), _row(3, ["keeper"])])
    request = review.trash_request()
    assert isinstance(request, TrashRequest) and request.paths == ["/lib/g1/m1.jpg"]
    review.done(0, Decision("trashed", keeper=request.keeper, batch="b1"))
    assert review.index == 1
    assert review.keep_all() is not None and review.decisions[1].kind == "kept"
    assert review.trash_request() == (
        "Nothing in this group is marked for the trash (i marks an image)."
    )
    review.skip()
    assert review.index == 3 and review.group is None and review.trash_request() == ""
    assert review.undo_target() == (0, "b1")
    review.undone(0)
    assert review.index == 0 and 0 not in review.decisions and review.undo_target() is None
    review.done(0, Decision("trashed", batch="b2"))
    review.go(0)
    assert review.trash_request() == "This group is done; u undoes it."


def test_a_tier_filter_shows_only_its_groups_and_starts_again():
    review = GroupReview()
    review.load([_row(1, ["keeper", "same"]), _row(2, ["keeper", "series"])])
    review.skip()
    while review.tier_filter != "series":
        review.cycle_tier()
    assert [r.group.id for r in review.groups] == [2]
    assert review.index == 0 and not review.decisions
