"""The terminal is given back clean however the app ends: quit, crash, SIGTERM, SIGHUP, SIGKILL.

Textual restores the terminal when it exits normally or on an exception. A signal that kills the
process (kill, a closed SSH session, the OOM killer) leaves the alternate screen on, the cursor
hidden, mouse reporting on and the tty raw. Two things cover that:

- `guard(app)`: quitting (`q`, SIGTERM, SIGHUP) gives the terminal back and ends the process at
  once (`end_process`): the restoring sequence goes out after the chunk of output being written
  (frames still queued are dropped), the tty settings are put back, then `os._exit`. Textual's
  own shutdown (draining its queues, pruning every widget, joining its threads) and the
  interpreter's teardown took 0.5-1.5 s on a loaded CPU, and nothing in them needs keeping: the
  children are killed and thread jobs may stop anywhere, because every write to the catalogue
  is a committed SQLite transaction (WAL; a transaction cut short is rolled back when the file
  is next opened) and every file is renamed into place. The catalogue's connections are not
  closed: worker threads may be inside a statement on them, and closing adds nothing to what
  SQLite keeps. A signal quits the same way, from a thread, so a loop busy painting does not
  delay it; if that has not ended the process after `FORCE_AFTER_S`, the terminal is restored
  here and the process ends.
- A watchdog process (`python -m anagnorisis_tui.ui.terminal_guard`), started before the app
  takes the terminal: it saves the tty's settings, then waits on a pipe that only the app holds
  open. When the app ends without saying "clean" on that pipe (SIGKILL, a segfault), it writes
  the restoring sequence and puts the tty settings back. It imports nothing heavy (~10 MB).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from anagnorisis_tui.ui.app import AnagnorisisApp

FORCE_AFTER_S = 3.0
CLEAN = b"clean\n"
# What Textual's Linux driver writes when it stops: kitty keyboard off, every mouse mode off,
# bracketed paste and focus events off, line wrap on, main screen, cursor shown, colours reset.
RESTORE = (
    "\x1b[<u\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?2004l\x1b[?1004l"
    "\x1b[?2048l\x1b[?7h\x1b[?1049l\x1b[?25h\x1b[0m"
)


def restore_terminal(fd: int = 2, attrs: list[Any] | None = None) -> None:
    """Write the restoring sequence to `fd` and put the tty settings `attrs` back (on stdin)."""
    with contextlib.suppress(OSError):
        os.write(fd, RESTORE.encode())
    restore_tty(attrs)


def restore_tty(attrs: list[Any] | None) -> None:
    """Put the tty settings `attrs` back on stdin and drop input the app did not read."""
    if attrs is None:
        return
    import termios

    with contextlib.suppress(OSError, termios.error):
        termios.tcsetattr(0, termios.TCSANOW, attrs)
        termios.tcflush(0, termios.TCIFLUSH)


def _tty_attrs() -> list[Any] | None:
    from anagnorisis_tui.ui.terminal_replies import tty_before

    before = tty_before()  # echo was turned off while the app started: the settings before it
    if before is not None:
        return before
    try:
        import termios

        return termios.tcgetattr(0) if os.isatty(0) else None
    except (ImportError, OSError):
        return None


def start_watchdog(attrs: list[Any] | None) -> int | None:
    """Start the watchdog with the tty settings to put back (`attrs`, read before the app makes
    the tty raw); the returned pipe end must stay open while the app runs (None: no terminal
    to guard, or it could not start)."""
    if attrs is None or not os.isatty(2):
        return None
    read_end, write_end = os.pipe()
    try:
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "anagnorisis_tui.ui.terminal_guard",
                str(read_end),
                repr(attrs),
            ],
            pass_fds=(read_end,),
            stdin=None,
            stdout=subprocess.DEVNULL,
            stderr=None,  # the terminal: that is where it writes the restoring sequence
            start_new_session=False,
        )
    except OSError:
        os.close(write_end)
        return None
    finally:
        os.close(read_end)
    os.set_inheritable(write_end, False)
    return write_end


def stop_watchdog(pipe: int | None) -> None:
    """The app ended cleanly: tell the watchdog, which then exits without touching anything."""
    if pipe is None:
        return
    with contextlib.suppress(OSError):
        os.write(pipe, CLEAN)
        os.close(pipe)


_ENDING = threading.Lock()


def end_process(app: AnagnorisisApp, attrs: list[Any] | None, pipe: int | None, code: int) -> None:
    """Give the terminal back and end the process now (never returns).

    Called once the app's jobs were told to stop and its children killed: on the app's loop, or
    from another thread while the loop is busy (ui/quick_quit.py, a signal); a second caller
    waits for the first."""
    _ENDING.acquire()
    output = app.terminal_output
    try:
        if output is not None:
            output.hand_back(RESTORE)
            if output.flight is not None:  # answers on their way are read here, not echoed
                output.flight.wait_answered()
        else:
            restore_terminal(2, None)
    except (OSError, ValueError):
        pass  # the terminal is gone (a closed SSH session): nothing to give back
    restore_tty(attrs)
    stop_watchdog(pipe)
    os._exit(code)


@contextlib.contextmanager
def guard(app: AnagnorisisApp) -> Iterator[None]:
    """Around `app.run()`: the watchdog, quitting at once, and SIGTERM/SIGHUP as a quit."""
    attrs = _tty_attrs()
    pipe = start_watchdog(attrs)
    previous: dict[int, Any] = {}
    app.end_process = lambda code: end_process(app, attrs, pipe, code)

    def quit_from_thread(code: int = 0) -> None:
        with contextlib.suppress(Exception):  # the loop may be changing the jobs: end anyway
            app.jobs.stop_all()
        end_process(app, attrs, pipe, code)

    app.quit_watch.quit = quit_from_thread

    def on_signal(signum: int, frame: object) -> None:
        def force() -> None:
            restore_terminal(2, attrs)
            os._exit(128 + signum)

        timer = threading.Timer(FORCE_AFTER_S, force)
        timer.daemon = True
        timer.start()
        # Not here: this handler interrupts the loop's thread, which may hold a lock.
        quitter = threading.Thread(target=quit_from_thread, args=(128 + signum,), daemon=True)
        quitter.start()

    for signum in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):  # not the main thread: no handlers
            previous[signum] = signal.signal(signum, on_signal)
    try:
        yield
    finally:
        app.end_process = app.quit_watch.quit = None
        for number, handler in previous.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(number, handler)
        stop_watchdog(pipe)


def _watch(read_fd: int, attrs: list[Any] | None) -> int:
    """The watchdog: wait for the app to end; restore the terminal unless it ended cleanly."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        # A signal to the whole group is for the app; the watchdog outlives it to clean up.
        signal.signal(signum, signal.SIG_IGN)
    received = b""
    while True:
        try:
            chunk = os.read(read_fd, 64)
        except InterruptedError:
            continue
        except OSError:
            break
        if not chunk:
            break
        received += chunk
    if CLEAN not in received:
        restore_terminal(2, attrs)
    return 0


if __name__ == "__main__":
    import ast

    raise SystemExit(_watch(int(sys.argv[1]), ast.literal_eval(sys.argv[2])))
