"""Escape and the key after it, typed together, read as the two keys they are.

A terminal sends Escape as a lone ESC byte, and alt+key as ESC and the key. Typed at full
speed (over SSH, from tmux send-keys, a phone keyboard) Escape and the next key reach the app in
one read, and Textual's parser takes the pair as one key: ESC Enter is Enter, ESC 7 is "¶" (a
macOS option character), ESC ESC is one Escape, ESC f / ESC b are ctrl+right / ctrl+left. So
"back to the results, then open" or "back, then rate 7" lost the Escape, or both keys.

`EscapeAwareParser` reads those pairs itself, outside bracketed pastes:

- ESC before Enter, a digit, a space, `-`, `=`, `§` or another ESC: Escape, then the key (no
  binding of this app is an alt+ one of these, and Textual drops the alt anyway);
- ESC f / ESC b: alt+f / alt+b, for the type-ahead gate to read where the key goes: word
  movement (ctrl+right / ctrl+left, as Textual reads them) in a text box, else Escape and the
  letter (ui/typeahead.py `_split_meta`, which also splits other alt+letters no binding takes).

Everything else (escape sequences, alt+letter, terminal answers) goes to Textual's parser as
before. An ESC that ends one read and its key at the start of the next are Textual's to read.
"""

from __future__ import annotations

from collections.abc import Iterator

from textual import events
from textual._xterm_parser import XTermParser

ESC = "\x1b"
SPLIT_AFTER_ESCAPE = frozenset("\r\n 0123456789-=§" + ESC)
WORD_KEYS = frozenset("fb")
PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"


class EscapeAwareParser(XTermParser):
    """Textual's terminal input parser, with Escape-then-key pairs read as two keys."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._pasting = False

    def feed(self, data: str) -> Iterator[events.Event]:  # type: ignore[override]
        if not data:  # end of input
            yield from super().feed(data)
            return
        start = scan = 0
        while True:
            at = data.find(ESC, scan)
            if at < 0 or at + 1 >= len(data):
                break
            if data.startswith(PASTE_START, at) or data.startswith(PASTE_END, at):
                self._pasting = data.startswith(PASTE_START, at)
                scan = at + len(PASTE_START)
                continue
            after = data[at + 1]
            if self._pasting or (after not in SPLIT_AFTER_ESCAPE and after not in WORD_KEYS):
                scan = at + 1
                continue
            if at > start:
                yield from super().feed(data[start:at])
            if after in WORD_KEYS:
                yield events.Key(f"alt+{after}", after)
                start = scan = at + 2
            else:
                yield events.Key("escape", ESC)
                start = scan = at + 1  # the key after it is read as typed
        if start < len(data):
            yield from super().feed(data[start:])


def escape_aware_driver(base: type) -> type:
    """`base` (Textual's Linux driver) reading its input with EscapeAwareParser."""
    from textual.drivers import linux_driver

    class EscapeAwareDriver(base):  # type: ignore[misc, valid-type]
        def run_input_thread(self) -> None:
            # The input thread builds its parser from this module-level name.
            linux_driver.XTermParser = EscapeAwareParser  # type: ignore[misc]
            super().run_input_thread()

    EscapeAwareDriver.__name__ = base.__name__
    return EscapeAwareDriver
