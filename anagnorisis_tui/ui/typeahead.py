"""Type-ahead: keys typed faster than the app reacts are delivered in order, never dropped.

Textual hands each key to whatever has focus the moment the key is read. Typed at full speed
(over SSH, a paste, tmux send-keys) the keys after `/` arrive while the Search screen is still
being mounted and go nowhere, and the key after Enter on a thumbnail reaches the grid before the
viewer exists. Here the app delivers one key, then holds the next until that key's effects have
settled: every widget of the app and of the screen now showing has handled what the key set off,
the screen has stopped changing, no widget asked to hold keys (`hold`, e.g. the search until its
results have the focus) and the focused widget and the screen, where they say so
(`typeahead_ready()`), can take keys. So a burst gives what the same keys typed slowly give.

Quitting never waits: a key bound to the app's quit action where it is going (the focused
widget, or the widget a hold says its keys are for, such as the search results) quits at once once
the screen has stopped changing, ahead of a slow screen or hold. Keys typed before it are still
delivered first (a rating typed before `q` is kept), and where the key is text (a query box has
the focus, or is about to) it is text. ctrl+q never enters the gate (app.py).

Nothing waits forever: a key is let through after `SETTLE_TIMEOUT_S` (or when the holds in force
expire), so a stuck worker can delay keys but never swallow them. `backlog` lets the grid skip pictures of
pages the user has already flipped past.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual import events
from textual.binding import Binding
from textual.keys import key_to_character
from textual.widgets import Input

from anagnorisis_tui.ui.textual_private import (
    bindings_of,
    has_pending_callbacks,
    is_exiting,
    keymap_of,
    modal_binding_chain,
)

if TYPE_CHECKING:
    from textual.app import App
    from textual.dom import DOMNode
    from textual.message_pump import MessagePump
    from textual.screen import Screen

SETTLE_TIMEOUT_S = 5.0  # the most a key waits for the previous one to settle
POLL_S = 0.004  # between checks while something is still happening
STEADY_BARRIERS = 3  # barriers in a row that find the same mounted screen: it has settled
BARRIER_WAIT_S = 1.0  # the most one barrier waits before the gate looks at its holds again
QUIT_ACTIONS = ("quit", "app.quit")  # bindings that never wait behind a slow screen
WORD_MOVES = {"alt+f": "ctrl+right", "alt+b": "ctrl+left"}  # ESC f / ESC b in a text box


class TypeAheadTarget:
    """A widget or screen that can ask typed keys to wait (mixed into its class).

    The gate asks the focused widget and the screen; a class that is not one of these is ready.
    """

    def typeahead_ready(self) -> bool:
        """False while the next typed key would act on something not shown yet."""
        return True


@dataclass
class Hold:
    """Keys wait while `until()` is false (or until `deadline`, a monotonic time)."""

    until: Callable[[], bool]
    deadline: float
    reason: str = ""
    keys_for: DOMNode | None = None  # where the held keys will go (None: the focused widget)
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
        # Keys this gate posted itself, by identity: they pass `intercept` untouched.
        self._released: dict[int, events.Key] = {}
        # The screen found steady since the last key was delivered (None: not yet, or changing).
        self._steady: Screen | None = None
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
        self,
        until: Callable[[], bool] = lambda: False,
        timeout: float = 10.0,
        reason: str = "",
        keys_for: DOMNode | None = None,
    ) -> Hold:
        """Keys typed from now on wait until `until()` is true, `release()` or `timeout` s.

        `keys_for`: the widget that will have the focus when they are let through, so a key
        that quits there quits at once (the search's results, while its query box still has
        the focus)."""
        hold = Hold(until, time.monotonic() + timeout, reason, keys_for)
        self._holds.append(hold)
        return hold

    def released(self, event: events.Key) -> bool:
        """True for a key this gate let through (it was typed earlier and taken then)."""
        return self._released.get(id(event)) is event

    def intercept(self, event: events.Key) -> bool:
        """True when `event` was queued or handled here (the caller must not deliver it now)."""
        if self._released.get(id(event)) is event:
            del self._released[id(event)]
            return False
        # Escape and a key typed together (ui/key_input.py): split where the key goes, which is
        # known now only when nothing typed earlier is still on its way (else when released).
        split = None if self._pending() else _split_meta(event, self.app)
        if split is not None:
            # Escape then a key, sent together, read as one alt+key that nothing binds.
            for key in split:
                self._queue.append(key)
            self._start()
            return True
        if not self._queue and not self._released:
            # Idle, everything typed has settled: the screen showing now is where keys go.
            # Busy: only once the screen was found steady after the last key.
            action = self._quit_action(event.key, self._steady if self._busy else self._screen())
            if action is not None:
                # Straight to the app's action: through the screen's and the focused widget's
                # queues it waited behind their work (the first paint, thumbnails arriving).
                self.app.call_next(self.app.run_action, action, self.app)
                return True
        if self._pending():
            self._queue.append(event)
            self._start()
            return True
        self._busy = True
        self._last = event
        self._steady = None
        self.delivered += 1
        self._start()
        return False

    def quit_keys(self) -> frozenset[str]:
        """The keys that, typed now, quit the app at once (ui/quick_quit.py)."""
        if self._queue or self._released:
            return frozenset()
        screen = self._steady if self._busy else self._screen()
        app = self.app
        bindings = bindings_of(app)
        keymap = keymap_of(app)
        if keymap:
            bindings.apply_keymap(keymap)
        return frozenset(
            key
            for key, bound in bindings.key_to_bindings.items()
            if any(b.action in QUIT_ACTIONS for b in bound) and self._quit_action(key, screen)
        )

    def _pending(self) -> bool:
        """True while a key typed earlier is still on its way: being settled, waiting here, or
        let through and not yet taken by the app. A key let through is posted behind whatever
        the terminal had already posted, so a key typed after it but read by the app first
        must wait here too, or the two arrive swapped ("rde" for "red")."""
        return self._busy or bool(self._queue) or bool(self._released)

    def _screen(self) -> Screen | None:
        try:
            screen = self.app.screen
        except Exception:  # noqa: BLE001 - no screen yet (starting up) or any more
            return None
        return screen if screen.is_mounted else None

    def _quit_action(self, key: str, screen: Screen | None) -> str | None:
        """The app's quit action when `key` runs it where the key is going on `screen`, else
        None.

        `screen` must have settled since the last key went out: while a screen is being shown,
        what will have the focus (the query box after `/`) is not known yet."""
        app = self.app
        if screen is None or self._screen() is not screen:
            return None
        target = self._target(screen)
        bound = _bound_action(app, target, key) if target is not None else None
        if bound is None or bound[0] is not app or bound[1] not in QUIT_ACTIONS:
            return None
        return bound[1]

    def _target(self, screen: Screen) -> DOMNode | None:
        """Where a key let through now would go: the widget a hold in force names, else the
        focused widget (Textual ignores one that is loading), else the screen."""
        now = time.monotonic()
        for hold in self._holds:
            if hold.keys_for is not None and hold.active(now):
                return hold.keys_for if hold.keys_for.is_attached else None
        focused = screen.focused
        return focused if focused is not None and not focused.loading else screen

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
                split = _split_meta(key, self.app)
                if split is not None:
                    self._queue.extendleft(reversed(split))
                    continue
                action = self._quit_action(key.key, self._steady)
                if action is not None:
                    await self.app.run_action(action, self.app)
                    continue
                released = events.Key(key.key, key.character)
                self._released[id(released)] = released
                self._last = released
                self._steady = None
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
        asked for. A quit key waiting first in the queue goes as soon as the screen is steady
        (the same three barriers, holds and readiness aside).
        """
        app = self.app
        if self._typed_into_input():
            return  # text for a focused input changes nothing else: the next key may follow
        start = time.monotonic()
        stable = steady = 0
        last: object = None
        while not is_exiting(app):
            now = time.monotonic()
            self._holds = [h for h in self._holds if not h.done and now < h.deadline]
            held = any(h.active(now) for h in self._holds)
            if not held and now - start > self.settle_timeout:
                return
            try:
                screen = app.screen
            except Exception:  # noqa: BLE001 - no screen yet (starting up) or any more
                screen = None
            # A barrier that timed out is not a settled one: some node on the key's path was
            # still handling what the key set off (on a starved CPU, a second or more). Counted
            # as settled, three timed out barriers let the next key overtake the first one's
            # effects: Enter reached the query box again before the search's hold was set.
            handled = screen is not None and await _barrier(_key_path(app, screen))
            unchanged = (
                handled
                and screen is not None
                and screen is last
                and app.screen is screen
                and screen.is_mounted
                and not has_pending_callbacks(screen)
            )
            steady = steady + 1 if unchanged else 0
            self._steady = screen if steady >= STEADY_BARRIERS else None
            if self._queue and self._quit_action(self._queue[0].key, self._steady) is not None:
                return
            if unchanged and not held and screen is not None and self._ready(screen):
                stable += 1
                if stable >= STEADY_BARRIERS:
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

    def _ready(self, screen: Screen) -> bool:
        for node in (self.app.focused, screen):
            if isinstance(node, TypeAheadTarget) and not node.typeahead_ready():
                return False
        return True


def _bound_action(app: App, node: DOMNode, key: str) -> tuple[DOMNode, str] | None:
    """(namespace, action) of the binding `key` runs with `node` focused, as Textual resolves
    it (screen.py `_binding_chain`, app.py `_check_bindings`): priority bindings from the app
    down, then the others from `node` up to the first modal screen; a widget that takes the key
    as text (an Input) keeps it from every binding above it. None: no binding runs."""
    keymap = keymap_of(app)
    chain: list[tuple[DOMNode, list[Binding]]] = []
    for namespace in node.ancestors_with_self:
        declared = bindings_of(namespace)
        if keymap:
            declared.apply_keymap(keymap)
        chain.append((namespace, declared.key_to_bindings.get(key, [])))
    for namespace, bindings in reversed(chain):
        for binding in bindings:
            if binding.priority:
                return namespace, binding.action
    character = key_to_character(key)
    for namespace, found in chain:
        for binding in found:
            if not binding.priority:
                return namespace, binding.action
        if namespace.is_modal or namespace.check_consume_key(key, character):
            return None
    return None


def _key_path(app: App, screen: MessagePump) -> list[MessagePump]:
    """The nodes a key and what it sets off pass through: the focused widget and its
    ancestors, the screen, the app (every widget would be thorough and cost ~1 ms each)."""
    nodes: list[MessagePump] = [app, screen]
    node: DOMNode | None = app.focused
    while node is not None and node is not screen and node is not app:
        nodes.append(node)
        node = node.parent
    return nodes


async def _barrier(nodes: list[MessagePump]) -> bool:
    """Wait until every node has handled what was in its queue when this was called: True, or
    False after BARRIER_WAIT_S with some node still busy (the gate checks its holds and the
    time meanwhile)."""
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
        try:
            await asyncio.wait_for(done.wait(), timeout=BARRIER_WAIT_S)
        except TimeoutError:
            return False
    return True


def _split_meta(event: events.Key, app: App) -> list[events.Key] | None:
    """[escape, key] for an alt+key no binding in force claims (else None).

    A terminal sends Escape as a lone ESC byte, so Escape and the next key typed together (a
    burst, a paste, a slow link delivering both in one packet) read as alt+key.
    """
    if not event.key.startswith("alt+") or event.character is None:
        return None
    if event.key in WORD_MOVES and isinstance(app.focused, Input):
        # ESC f / ESC b (ui/key_input.py): word movement in a text box, as Textual reads them
        # (macOS Terminal's option+arrow keys send them).
        return [events.Key(WORD_MOVES[event.key], None)]
    if len(event.character) != 1 or not event.character.isprintable():
        return None
    try:
        chain = list(modal_binding_chain(app.screen))
    except Exception:  # noqa: BLE001 - no screen: deliver as it came
        return None
    if any(event.key in bindings.key_to_bindings for _, bindings in chain):
        return None
    rest = event.key.removeprefix("alt+")
    key = event.character if rest.startswith("shift+") else rest
    return [events.Key("escape", "\x1b"), events.Key(key, event.character)]
