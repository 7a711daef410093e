"""Quitting at once even while Textual's event loop is busy painting.

On a loaded CPU one repaint of a screen of pictures holds the event loop for up to a second,
and a key read meanwhile waits for it. `QuitWatch` sits in the terminal's input thread: a key
that quits where it is going, read when the app has taken every key typed before it, and not
taken by the loop within `GRACE_S`, ends the app from that thread (`quit`: jobs stopped, the
terminal given back, the process ended: ui/terminal_guard.py `end_process`).

Whether a key quits is decided on the loop by the type-ahead gate (ui/typeahead.py, the focused
widget's bindings) and left here as `keys`, refreshed every `REFRESH_S` and emptied whenever the
loop takes a key (the next refresh comes once that key has settled). While the loop is blocked
nothing on the screen changes, so the keys in force are those of the screen the user sees.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from textual import events

GRACE_S = 0.08  # the loop's own turn to take the key first
REFRESH_S = 0.1  # how often the loop says which keys quit now


class QuitWatch:
    """Keys read by the input thread, keys taken by the app, and which keys quit now."""

    def __init__(self) -> None:
        self.keys: frozenset[str] = frozenset()  # written on the loop only
        self.read = 0  # keys the input thread has read (written there only)
        self.taken = 0  # keys the app's loop has taken (written there only)
        # Ends the app from any thread; None where that is not allowed (tests, no terminal).
        self.quit: Callable[[], None] | None = None

    def key_read(self, key: str) -> None:
        """In the input thread, before the key is posted to the app."""
        earlier = self.read
        self.read = earlier + 1
        if self.quit is None or key not in self.keys or self.taken != earlier:
            return
        timer = threading.Timer(GRACE_S, self._late, args=(key, earlier))
        timer.daemon = True
        timer.start()

    def _late(self, key: str, earlier: int) -> None:
        quit_app = self.quit
        if quit_app is not None and self.taken == earlier and key in self.keys:
            quit_app()

    def key_taken(self) -> None:
        """On the loop, for every key read from the terminal, before it is handled."""
        self.taken += 1
        self.keys = frozenset()


def watching_driver(base: type, watch: QuitWatch) -> type:
    """`base` (Textual's Linux driver) telling `watch` of each key its input thread reads."""

    class WatchingDriver(base):
        def process_message(self, message: Any) -> None:
            if isinstance(message, events.Key):
                watch.key_read(message.key)
            super().process_message(message)

    WatchingDriver.__name__ = base.__name__
    return WatchingDriver
