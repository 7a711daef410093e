"""tests/support/ptylink.py's Visible: which bytes of a terminal stream change a cell, with the
stream cut anywhere (the relay reads it in pieces)."""

from __future__ import annotations

from tests.support.ptylink import Visible

APC = b"\x1b_Gi=1,m=1,f=100;AAAA\x1b\\"  # kitty picture data: changes no cell
SIXEL = b'\x1bP0;0;0q"1;1;4;6#0!4~\x1b\\'


def feed(pieces: list[bytes]) -> list[int | None]:
    visible = Visible()
    return [visible.feed(piece) for piece in pieces]


def test_text_after_escape_sequences_is_the_change():
    moves = b"\x1b[1;1H\x1b[38;2;1;2;3m"
    assert feed([APC + moves + b"ab"]) == [len(APC) + len(moves)]
    assert feed([b"\x1b]0;title\x07hi"]) == [10]


def test_a_sixel_picture_is_a_change_and_its_data_is_not_text():
    assert feed([b"\x1b[?25l" + SIXEL]) == [6]
    visible = Visible()
    assert visible.feed(SIXEL[:9]) == 0
    assert visible.feed(SIXEL[9:]) is None  # the rest of the picture, then nothing


def test_sequences_cut_between_pieces():
    # an APC cut in its payload and just before its ST, a CSI cut in its parameters
    assert feed([APC[:7], APC[7:-1], APC[-1:] + b"\x1b[3", b"1mX"]) == [None, None, None, 2]
    assert feed([b"\x1b", b"[Hq"]) == [None, 2]


def test_only_bytes_from_since_count():
    visible = Visible()
    assert visible.feed(b"ab\x1b[Hcd", since=3) == 5
