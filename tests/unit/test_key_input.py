"""Escape and the key after it, read together, are two keys (ui/key_input.py)."""

from __future__ import annotations

import pytest
from textual import _parser as textual_parser
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.constants import ESCAPE_DELAY

from anagnorisis_tui.ui.key_input import EscapeAwareParser


def keys(parser_class: type[XTermParser], *reads: str) -> list[str]:
    parser = parser_class()
    out: list[str] = []
    for data in reads:
        out += [getattr(e, "key", type(e).__name__) for e in parser.feed(data)]
    if reads[-1]:  # not at the end of input
        # Past Textual's escape delay (its parser's clock moved on, no sleep): a lone ESC at
        # the end is the Escape key.
        later = get_time() + ESCAPE_DELAY + 1.0
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(textual_parser, "get_time", lambda: later)
            out += [getattr(e, "key", type(e).__name__) for e in parser.tick()]
    return out


@pytest.mark.parametrize(
    ("data", "textual_reads", "expected"),
    [
        ("\x1b\r", ["enter"], ["escape", "enter"]),  # back to the results, open
        ("\x1b7", ["pilcrow_sign"], ["escape", "7"]),  # leave, rate 7
        ("\x1b ", ["space"], ["escape", "space"]),
        ("\x1b-", ["en_dash"], ["escape", "minus"]),
        ("\x1b\x1b8", ["escape", "bullet"], ["escape", "escape", "8"]),
        # Before many more keys (a burst) Textual reads on, as one unknown sequence, and gives
        # the Escape back as "^".
        ("\x1bo" + "F" * 32, ["circumflex_accent", "o"] + ["F"] * 32, ["alt+o"] + ["F"] * 32),
        (
            "\x1b/" + "x" * 32,
            ["circumflex_accent", "slash"] + ["x"] * 32,
            ["escape", "slash"] + ["x"] * 32,
        ),
    ],
)
def test_escape_then_a_key_in_one_read_is_two_keys(data, textual_reads, expected):
    assert keys(XTermParser, data) == textual_reads  # what Textual alone makes of it
    assert keys(EscapeAwareParser, data) == expected


def test_word_keys_are_left_to_the_gate_and_the_rest_is_textuals():
    assert keys(EscapeAwareParser, "\x1bf", "\x1bb") == ["alt+f", "alt+b"]
    assert keys(EscapeAwareParser, "\x1bx") == ["alt+x"]  # the gate splits it where unbound
    # Escape sequences, a lone Escape, text around them: as Textual reads them.
    for data in ("\x1b[A", "\x1b[1;5C", "\x1bOP", "ab\x1b[Bc", "\x1b"):
        assert keys(EscapeAwareParser, data) == keys(XTermParser, data)
    assert keys(EscapeAwareParser, "\x1b[A\x1b8") == ["up", "escape", "8"]
    assert keys(EscapeAwareParser, "r\x1b", "") == ["r", "escape"]


def test_a_paste_is_left_alone():
    data = "\x1b[200~a\x1b7b\x1b[201~\x1b1"
    ours, textuals = keys(EscapeAwareParser, data), keys(XTermParser, data)
    assert ours[:-2] == textuals[:-1]  # inside the paste: exactly Textual's reading
    assert ours[-2:] == ["escape", "1"]  # after it: two keys
