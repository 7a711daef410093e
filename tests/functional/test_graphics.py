"""Graphics detection before the app starts: overrides honoured, a 0x0 terminal survives."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from tests.support.waiting import PROCESS_HANG_S

REPO = Path(__file__).resolve().parents[2]


def _run_on_zero_size_pty(code: str) -> subprocess.CompletedProcess:
    master, slave = pty.openpty()
    try:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
        return subprocess.run(
            [sys.executable, "-c", code],
            stdin=slave,
            stdout=slave,
            stderr=subprocess.PIPE,
            cwd=REPO,
            timeout=PROCESS_HANG_S,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    finally:
        os.close(slave)
        os.close(master)


def test_textual_image_alone_crashes_on_a_zero_size_terminal():
    # The upstream bug the guard exists for (textual-image 0.12); if this stops failing,
    # the guard in ui/graphics.py can go.
    result = _run_on_zero_size_pty("import textual_image.widget")
    assert result.returncode != 0 and b"ZeroDivisionError" in result.stderr


def test_guarded_detection_survives_a_zero_size_terminal():
    code = (
        "import sys\n"
        "from anagnorisis_tui.ui.graphics import image_widget_class, protocol_name\n"
        "from textual_image._terminal import get_cell_size\n"
        "cls = image_widget_class('auto')\n"
        "sys.stderr.write(f'OK {protocol_name(cls)} {tuple(get_cell_size())}')\n"
    )
    result = _run_on_zero_size_pty(code)
    assert result.returncode == 0, result.stderr.decode()
    assert b"OK" in result.stderr and b"(10, 20)" in result.stderr


@pytest.mark.parametrize(
    ("choice", "protocol"),
    [("kitty", "kitty"), ("sixel", "sixel"), ("halfcell", "halfcell"), ("unicode", "unicode")],
)
def test_forced_protocol_is_used(choice, protocol):
    from anagnorisis_tui.ui.graphics import image_widget_class, protocol_name

    assert protocol_name(image_widget_class(choice)) == protocol


def test_unknown_protocol_is_refused():
    from anagnorisis_tui.ui.graphics import image_widget_class

    with pytest.raises(ValueError, match="graphics must be one of"):
        image_widget_class("ascii-art")
