"""Escape and the key after it, typed together, read as the two keys they are.

A terminal sends Escape as a lone ESC byte, and alt+key as ESC and the key. Typed at full
speed (over SSH, from tmux send-keys, a phone keyboard) Escape and the next key reach the app in
one read, and Textual's parser takes the pair as one key: ESC Enter is Enter, ESC 7 is "¶" (a
macOS option character), ESC ESC is one Escape, ESC f / ESC b are ctrl+right / ctrl+left. So
"back to the results, then open" or "back, then rate 7" lost the Escape, or both keys.

`EscapeAwareParser` reads those pairs itself, outside bracketed pastes:

- ESC before Enter, another ESC, or a printable character that is not a letter and does not
  start an escape sequence (`[`, `O`, `]`, `P`, `_`, `\\`): Escape, then the key. No
  binding of this app is an alt+ one of these, and Textual drops the alt or the Escape anyway
  (a digit becomes a macOS option character; before more keys, Textual kept reading them as
  one unknown sequence and gave the Escape back as `^`).
- ESC and a letter: alt+letter, read right there (before more keys Textual gave `^` and the
  letter too), for the type-ahead gate to read where the key goes: an alt binding where there
  is one, word movement for ESC f / ESC b in a text box (ctrl+right / ctrl+left, as Textual
  reads them: macOS Terminal's option+arrow keys), else Escape and the letter
  (ui/typeahead.py `_split_meta`).

Everything else (escape sequences, ESC Tab, ESC Backspace, terminal answers) goes to Textual's
parser as before. An ESC that ends one read and its key at the start of the next are Textual's
to read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import cast

from textual import events
from textual.message import Message

from anagnorisis_tui.ui.textual_private import XTermParser, use_input_parser

ESC = "\x1b"
INTRODUCERS = frozenset("[O]P_\\")  # CSI, SS3, OSC, DCS, APC, ST: what terminals send and answer
PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"
STATUS_ANSWER = "\x1b[0n"  # the terminal's answer to a status request (ui/link.py)


def _after_escape(char: str) -> str | None:
    """How ESC then `char` is read: "split" (Escape, then the key), "alt" (alt+letter), or
    None (Textual's parser reads it)."""
    if char in ("\r", "\n", ESC):
        return "split"
    if char in INTRODUCERS or not char.isprintable():
        return None
    if char.isascii() and char.isalpha():
        return "alt"
    return "split"


class EscapeAwareParser(XTermParser):
    """Textual's terminal input parser, with Escape-then-key pairs read as two keys."""

    def __init__(self, debug: bool = False) -> None:
        super().__init__(debug)
        self._pasting = False

    # Called for each answer to the app's status requests (ui/link.py), taken out of the input.
    on_status: Callable[[], None] | None = None

    def feed(self, data: str) -> Iterator[Message]:
        if self.on_status is not None and data:
            data = self._take_status_answers(data)
            if not data:
                return
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
            reading = None if self._pasting else _after_escape(after)
            if reading is None:
                scan = at + 1
                continue
            if at > start:
                yield from super().feed(data[start:at])
            if reading == "alt":
                key = f"alt+shift+{after.lower()}" if after.isupper() else f"alt+{after}"
                yield events.Key(key, after)
                start = scan = at + 2
            else:
                yield events.Key("escape", ESC)
                start = scan = at + 1  # the key after it is read as typed
        if start < len(data):
            yield from super().feed(data[start:])

    def _take_status_answers(self, data: str) -> str:
        """`data` without the status answers in it (each reported); an answer cut off at the
        end of one read is finished by the next."""
        data = getattr(self, "_answer_head", "") + data
        self._answer_head = ""
        count = data.count(STATUS_ANSWER)
        if count:
            data = data.replace(STATUS_ANSWER, "")
            for _ in range(count):
                self.on_status()  # type: ignore[misc]
        for cut in (STATUS_ANSWER[:3], STATUS_ANSWER[:2]):  # "ESC [ 0", "ESC ["
            if data.endswith(cut):
                self._answer_head = cut
                return data[: -len(cut)]
        return data


def escape_aware_driver(base: type, on_status: Callable[[], None] | None = None) -> type:
    """`base` (Textual's Linux driver) reading its input with EscapeAwareParser (status
    answers, if `on_status`, taken out and reported to it)."""

    parser: type[EscapeAwareParser] = EscapeAwareParser
    if on_status is not None:
        parser = cast(
            "type[EscapeAwareParser]",
            type("EscapeAwareParser", (EscapeAwareParser,), {"on_status": staticmethod(on_status)}),
        )

    class EscapeAwareDriver(base):
        def run_input_thread(self) -> None:
            use_input_parser(parser)
            super().run_input_thread()

    EscapeAwareDriver.__name__ = base.__name__
    return EscapeAwareDriver
