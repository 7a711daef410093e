"""Waiting on a condition, not on a clock: a test that needs the app to reach a state waits for
that state, however loaded the machine is (a fixed number of rounds or a sleep guessed how long
it would take, and failed under load).

The deadline only ends a wait that would never end; no assertion is about how long it took."""

from __future__ import annotations

import time
from collections.abc import Callable

DEADLINE_S = 60.0
# A child process (the CLI, a probe) that runs longer than this has hung. Generous on purpose:
# a run of a few seconds when quiet took over two minutes on a loaded machine (a first model
# preparation under a full-suite run, two suites and stress-ng at once), and a guard that a
# slow run reaches fails a correct program. No test asserts how long a process took.
PROCESS_HANG_S = 900.0


async def until(
    pilot,
    condition: Callable[[], bool],
    *,
    deadline: float = DEADLINE_S,
    interval: float | None = None,
) -> bool:
    """Let the app run (its messages and workers) until `condition()` holds; its last value.

    `interval`: seconds between looks, for a condition met elsewhere (a child process): a loop
    that only yields would take CPU from it on a loaded machine."""
    give_up = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > give_up:
            return condition()
        await pilot.pause(interval)
    return True


async def settled_until(
    pilot,
    settle: Callable,
    condition: Callable[[], bool],
    *,
    deadline: float = 180.0,
) -> bool:
    """`settle` the app (its workers done, their messages handled) until `condition()` holds;
    its last value. For a wait that used to be "N rounds of settling": a count of rounds is a
    guess at how much work gets done per round, which a loaded machine proves wrong."""
    give_up = time.monotonic() + deadline
    while True:
        await settle(pilot)
        if condition():
            return True
        if time.monotonic() > give_up:
            return condition()
