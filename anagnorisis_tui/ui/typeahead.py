"""Type-ahead: keys typed faster than the app reacts are delivered in order, never dropped.

Textual hands each key to whatever has focus the moment the key is read. Typed at full speed
(over SSH, a paste, tmux send-keys) the keys after `/` arrive while the Search screen is still
being mounted and go nowhere, and the key after Enter on a thumbnail reaches the grid before the
viewer exists. Here the app delivers one key, then holds the next until that key's effects have
settled: every widget of the app and of the screen now showing has handled what the key set off,
the screen has stopped changing, no widget asked to hold keys (`hold`, e.g. the search until its
results have the focus) and the focused widget and the screen, where they say so
(`typeahead_ready()`), can take keys. So a burst gives what the same keys typed slowly give.

Nothing waits forever: a key is let through after `SETTLE_TIMEOUT_S` (or when the holds in force
expire), so a stuck worker can delay keys but never swallow them. `backlog` lets the grid skip pictures of
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
from textual.widgets import Input

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
        self._last: events.Key | None = None
        self._drained: list[Callable[[], object]] = []
        self.delivered = 0  # keys handed on, for tests and the benchmark

    @property
    def backlog(self) -> int:
        """Keys typed and not yet delivered."""
        return len(self._queue)

    def when_drained(self, callback: Callable[[], object]) -> None:
        """Call `callback` (on the app's loop) once no typed key is waiting any more."""
        if not self._queue:
            self.app.call_later(callback)
        elif callback not in self._drained:
            self._drained.append(callback)

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
        split = _split_meta(event, self.app)
        if split is not None:
            # Escape then a key, sent together, read as one alt+key that nothing binds.
            for key in split:
                self._queue.append(key)
            self._start()
            return True
        if self._busy or self._queue:
            self._queue.append(event)
            self._start()
            return True
        self._busy = True
        self._last = event
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
                    drained, self._drained = self._drained, []
                    for callback in drained:
                        self.app.call_later(callback)
                    return
                key = self._queue.popleft()
                released = events.Key(key.key, key.character)
                setattr(released, _RELEASED, True)
                self._last = released
                self.delivered += 1
                self.app.post_message(released)
        finally:
            self._busy = bool(self._queue) and self._busy

    async def _settle(self) -> None:
        """Return once the last delivered key's effects have settled (or the timeout passed).

        Settled: three barriers in a row (each lets the focused widget, its ancestors, the screen
        and the app handle what they had queued, so the messages a key sets off, and theirs,
        are handled)
        found the same, mounted screen, no hold in force and the focused widget ready. A busy
        app (a job posting progress, a spinner) never has empty queues, so emptiness is not
        asked for.
        """
        app = self.app
        if self._typed_into_input():
            return  # text for a focused input changes nothing else: the next key may follow
        start = time.monotonic()
        stable = 0
        last: object = None
        while not app._exit:
            now = time.monotonic()
            self._holds = [h for h in self._holds if not h.done and now < h.deadline]
            held = any(h.active(now) for h in self._holds)
            if not held and now - start > self.settle_timeout:
                return
            try:
                screen = app.screen
            except Exception:  # noqa: BLE001 - no screen yet (starting up) or any more
                screen = None
            if screen is not None:
                await _barrier(_key_path(app, screen))
            if (
                screen is not None
                and screen is last
                and app.screen is screen
                and not held
                and screen.is_mounted
                and not screen._callbacks
                and self._ready(screen)
            ):
                stable += 1
                if stable >= 3:
                    return
            else:
                stable = 0
                await asyncio.sleep(POLL_S)
            last = screen

    def _typed_into_input(self) -> bool:
        key = self._last
        if (
            key is None
            or not key.is_printable
            or any(h.active(time.monotonic()) for h in self._holds)
        ):
            return False
        return isinstance(self.app.focused, Input)

    def _ready(self, screen: object) -> bool:
        for node in (self.app.focused, screen):
            ready = getattr(node, "typeahead_ready", None)
            if ready is not None and not ready():
                return False
        return True


def _key_path(app: App, screen: MessagePump) -> list[MessagePump]:
    """The nodes a key and what it sets off pass through: the focused widget and its
    ancestors, the screen, the app (every widget would be thorough and cost ~1 ms each)."""
    nodes: list[MessagePump] = [app, screen]
    node = app.focused
    while node is not None and node is not screen and node is not app:
        nodes.append(node)
        node = node.parent
    return nodes


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


def _split_meta(event: events.Key, app: App) -> list[events.Key] | None:
    """[escape, key] for an alt+key no binding in force claims (else None).

    A terminal sends Escape as a lone ESC byte, so Escape and the next key typed together (a
    burst, a paste, a slow link delivering both in one packet) read as alt+key.
    """
    if not event.key.startswith("alt+") or event.character is None:
        return None
    if len(event.character) != 1 or not event.character.isprintable():
        return None
    try:
        chain = app.screen._modal_binding_chain
    except Exception:  # noqa: BLE001 - no screen: deliver as it came
        return None
    if any(event.key in bindings.key_to_bindings for _, bindings in chain):
        return None
    rest = event.key.removeprefix("alt+")
    key = event.character if rest.startswith("shift+") else rest
    return [events.Key("escape", "\x1b"), events.Key(key, event.character)]


def hold_keys(
    app: App, until: Callable[[], bool], timeout: float = 10.0, reason: str = ""
) -> Hold | None:
    """`app.typeahead.hold(...)` where the app has a type-ahead gate (None elsewhere)."""
    gate = getattr(app, "typeahead", None)
    return gate.hold(until, timeout, reason) if isinstance(gate, TypeAhead) else None
