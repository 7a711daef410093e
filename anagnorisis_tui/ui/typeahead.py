"""Type-ahead: keys typed faster than the app reacts are delivered in order, never dropped.

Textual hands each key to whatever has focus the moment the key is read. Typed at full speed
(over SSH, a paste, tmux send-keys) the keys after `/` arrive while the Search screen is still
being mounted and go nowhere, and the key after Enter on a thumbnail reaches the grid before the
viewer exists. Here the app delivers one key, then holds the next until that key's effects have
settled: every message queue of the app and of the screen now showing is empty, the screen has
stopped changing, no widget asked to hold keys (`hold`) and the focused widget, if it says so
(`typeahead_ready()`), can take keys. So a burst gives what the same keys typed slowly give.

Nothing waits forever: a key is let through after `SETTLE_TIMEOUT_S` whatever the state, so a
stuck worker can delay keys but never swallow them. `backlog` lets the grid skip pictures of
pages the user has already flipped past.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual import events

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump

SETTLE_TIMEOUT_S = 5.0  # the most a key waits for the previous one to settle
POLL_S = 0.004  # between checks while something is still happening
_RELEASED = "_anagnorisis_typeahead_released"


@dataclass
class Hold:
    """Keys wait while `until()` is false (or until `deadline`, a monotonic time)."""

    until: Callable[[], bool]
    deadline: float
    reason: str = ""
    done: bool = field(default=False)

    def release(self) -> None:
        self.done = True

    def active(self, now: float) -> bool:
        if self.done or now >= self.deadline:
            return False
        try:
            return not self.until()
        except Exception:  # noqa: BLE001 - a broken condition must not hold keys forever
            return False


class TypeAhead:
    """The app's key gate: `intercept(key)` from `App.on_event`, `hold()` from screens."""

    def __init__(self, app: App, settle_timeout: float = SETTLE_TIMEOUT_S) -> None:
        self.app = app
        self.settle_timeout = settle_timeout
        self._queue: deque[events.Key] = deque()
        self._holds: list[Hold] = []
        self._busy = False
        self._task: asyncio.Task[None] | None = None
        self.delivered = 0  # keys handed on, for tests and the benchmark

    @property
    def backlog(self) -> int:
        """Keys typed and not yet delivered."""
        return len(self._queue)

    def hold(
        self, until: Callable[[], bool] = lambda: False, timeout: float = 10.0, reason: str = ""
    ) -> Hold:
        """Keys typed from now on wait until `until()` is true, `release()` or `timeout` s."""
        hold = Hold(until, time.monotonic() + timeout, reason)
        self._holds.append(hold)
        return hold

    def intercept(self, event: events.Key) -> bool:
        """True when `event` was queued (the caller must not deliver it now)."""
        if getattr(event, _RELEASED, False):
            return False
        if self._busy or self._queue:
            self._queue.append(event)
            self._start()
            return True
        self._busy = True
        self.delivered += 1
        self._start()
        return False

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            while True:
                await self._settle()
                if not self._queue:
                    self._busy = False
                    return
                key = self._queue.popleft()
                released = events.Key(key.key, key.character)
                setattr(released, _RELEASED, True)
                self.delivered += 1
                self.app.post_message(released)
        finally:
            self._busy = bool(self._queue) and self._busy

    async def _settle(self) -> None:
        """Return once the last delivered key's effects have settled (or the timeout passed)."""
        deadline = time.monotonic() + self.settle_timeout
        quiet = 0
        while time.monotonic() < deadline:
            if await self._quiet():
                quiet += 1
                if quiet >= 2:  # twice in a row: nothing was about to start either
                    return
            else:
                quiet = 0
                await asyncio.sleep(POLL_S)
        self._holds.clear()

    async def _quiet(self) -> bool:
        app = self.app
        if app._exit or not app.is_running:
            return True
        try:
            screen = app.screen
        except Exception:  # noqa: BLE001 - no screen yet (starting up) or any more
            return False
        nodes: list[MessagePump] = [app, *screen.walk_children(with_self=True)]
        await _barrier(nodes)
        if app.screen is not screen:
            return False
        if any(not node._message_queue.empty() or node._next_callbacks for node in nodes):
            return False
        if screen._callbacks or not screen.is_mounted:
            return False
        now = time.monotonic()
        self._holds = [h for h in self._holds if not h.done and now < h.deadline]
        if any(h.active(now) for h in self._holds):
            return False
        for node in (app.focused, screen):
            ready = getattr(node, "typeahead_ready", None)
            if ready is not None and not ready():
                return False
        return True


async def _barrier(nodes: list[MessagePump]) -> None:
    """Wait until every node has handled what was in its queue when this was called."""
    pending = 0
    done = asyncio.Event()

    def one_done() -> None:
        nonlocal pending
        pending -= 1
        if pending == 0:
            done.set()

    for node in nodes:
        if node.call_later(one_done):
            pending += 1
    if pending:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout=1.0)


def hold_keys(
    app: App, until: Callable[[], bool], timeout: float = 10.0, reason: str = ""
) -> Hold | None:
    """`app.typeahead.hold(...)` where the app has a type-ahead gate (None elsewhere)."""
    gate = getattr(app, "typeahead", None)
    return gate.hold(until, timeout, reason) if isinstance(gate, TypeAhead) else None
