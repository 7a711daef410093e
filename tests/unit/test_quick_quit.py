"""Quitting from the terminal's input thread while the event loop is busy (ui/quick_quit.py),
and the terminal's output handed back with nothing after it (ui/pictures.py MeteredFile)."""

from __future__ import annotations

import io
import threading

from anagnorisis_tui.ui.pictures import LinkMeter, MeteredFile
from anagnorisis_tui.ui.quick_quit import GRACE_S, QuitWatch


def _watch() -> tuple[QuitWatch, threading.Event]:
    quitted = threading.Event()
    watch = QuitWatch()
    watch.quit = quitted.set
    watch.keys = frozenset({"q", "ctrl+q"})
    return watch, quitted


def test_a_quit_key_the_loop_does_not_take_quits_from_the_input_thread():
    watch, quitted = _watch()
    watch.key_read("q")
    assert quitted.wait(10)


def test_a_quit_key_the_loop_takes_in_time_is_left_to_the_loop():
    watch, quitted = _watch()
    watch.key_read("q")
    watch.key_taken()
    assert not quitted.wait(GRACE_S * 5)


def test_a_key_that_does_not_quit_there_is_left_to_the_loop():
    watch, quitted = _watch()
    watch.keys = frozenset({"ctrl+q"})  # a query box has the focus: q is text
    watch.key_read("q")
    assert not quitted.wait(GRACE_S * 5)


def test_q_after_keys_the_loop_has_not_taken_waits_for_them():
    # "/" then "q": until the loop has taken "/" (and shown the query box) q may be text.
    watch, quitted = _watch()
    watch.key_read("slash")
    watch.key_read("q")
    assert not quitted.wait(GRACE_S * 5)


def test_taking_a_key_clears_what_quits_until_the_loop_says_again():
    watch, quitted = _watch()
    watch.key_read("slash")
    watch.key_taken()
    watch.key_read("q")
    assert watch.keys == frozenset()
    assert not quitted.wait(GRACE_S * 5)


def test_nothing_quits_from_the_thread_where_that_is_not_allowed():
    watch = QuitWatch()
    watch.keys = frozenset({"q"})
    watch.key_read("q")  # quit is None (tests, no terminal): nothing to call, nothing raised


class _Terminal(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_nothing_reaches_the_terminal_after_it_is_handed_back():
    terminal = _Terminal()
    out = MeteredFile(terminal, LinkMeter())
    out.write("frame one")
    out.flush()
    out.hand_back("RESTORE")
    out.write("frame two, still queued in Textual's output thread")
    out.flush()
    assert terminal.getvalue() == "frame oneRESTORE"


def test_a_large_frame_stops_at_the_next_chunk_once_handed_back():
    handing: list[threading.Thread] = []

    class Terminal(_Terminal):
        def write(self, text: str) -> int:
            if self.writes == 1 and not handing:
                # The hand-back comes while the frame goes out: it waits for this chunk only.
                handing.append(threading.Thread(target=out.hand_back, args=("RESTORE",)))
                handing[0].start()
                handing[0].join(0.5)
            return super().write(text)

    terminal = Terminal()
    out = MeteredFile(terminal, LinkMeter())
    out.write("x" * (MeteredFile.CHUNK * 8))
    handing[0].join(10)
    written = terminal.getvalue()
    assert written == "x" * (MeteredFile.CHUNK * 2) + "RESTORE"
