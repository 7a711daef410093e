"""Pictures sized to the link: kitty pictures sent once and placed again, sixel palettes at low
quality, no pictures for pages flipped past in a burst of keys, the link meter's verdict."""

from __future__ import annotations

import re
import threading
import time

from textual_image.widget import sixel as sixel_module

from anagnorisis_tui.ui.graphics import image_widget_class
from anagnorisis_tui.ui.pictures import (
    LOW_SIXEL_COLOURS,
    SIXELS,
    LinkMeter,
    MeteredFile,
    Pictures,
)
from anagnorisis_tui.ui.widgets.grid.grid_cell import GridCell
from anagnorisis_tui.ui.widgets.grid.thumbnail_grid import ThumbnailGrid
from tests.support.keyburst import burst
from tests.support.waiting import settled_until

SIZE = (120, 40)


async def _all_shown(pilot, settle, grid) -> None:
    await settled_until(
        pilot,
        settle,
        lambda: all(c.shown_image is not None for c in grid.cells if c.index is not None),
    )


async def test_kitty_pictures_are_sent_once_and_placed_again(library, make_test_app, settle):
    kitty = image_widget_class("kitty")
    app = make_test_app(library, image_class=kitty)
    async with app.run_test(size=(60, 30)) as pilot:  # two cells: ten images make five pages
        grid = app.screen.query_one(ThumbnailGrid)
        await _all_shown(pilot, settle, grid)
        first = kitty.transmitted
        assert first >= 1
        await pilot.press("pagedown")
        await _all_shown(pilot, settle, grid)
        after_new_page = kitty.transmitted
        assert after_new_page > first  # new pictures are sent
        await pilot.press("pageup")
        await _all_shown(pilot, settle, grid)
        await pilot.press("right", "left")  # the cursor's restyle repaints the cells
        await settle(pilot)
        assert kitty.transmitted == after_new_page  # seen before: placed, not sent again


async def test_low_quality_sixel_uses_a_small_palette(library, make_test_app, settle):
    sixel = image_widget_class("sixel")
    app = make_test_app(library, image_class=sixel)
    app.pictures = Pictures("low")
    async with app.run_test(size=SIZE) as pilot:
        grid = app.screen.query_one(ThumbnailGrid)
        await _all_shown(pilot, settle, grid)
        impls = [w for w in app.screen.walk_children() if type(w).__name__ == "_SixelImpl"]
        assert impls and all(w._sixel_options.colors == LOW_SIXEL_COLOURS for w in impls)


async def _sixels_drawn(pilot, settle, grid) -> None:
    await _all_shown(pilot, settle, grid)
    await settled_until(pilot, settle, lambda: SIXELS.idle)
    await settle(pilot)


async def test_sixel_pictures_are_encoded_off_the_event_loop_and_kept(
    library, make_test_app, settle, monkeypatch
):
    # Encoding a screen of sixel thumbnails in the render held back the frame that answers a
    # key; now the frame goes out with blank cells and each picture follows once encoded in
    # the encoder's thread. A page seen before is drawn from the kept encodings.
    on_loop: list[bool] = []
    original = sixel_module._ImageSixelImpl._image_to_sixels

    def record(self, *args, **kwargs):
        on_loop.append(threading.current_thread() is threading.main_thread())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sixel_module._ImageSixelImpl, "_image_to_sixels", record)
    sixel = image_widget_class("sixel")
    app = make_test_app(library, image_class=sixel)
    async with app.run_test(size=(60, 30)) as pilot:  # two cells a page
        grid = app.screen.query_one(ThumbnailGrid)
        await _sixels_drawn(pilot, settle, grid)
        await pilot.press("pagedown")
        await _sixels_drawn(pilot, settle, grid)
        two_pages = len(on_loop)
        await pilot.press("pageup")
        await _sixels_drawn(pilot, settle, grid)
        await pilot.press("right")  # the cursor's cell changes background: opaque, no matter
        await _sixels_drawn(pilot, settle, grid)
        impls = [w for w in app.screen.walk_children() if type(w).__name__ == "_SixelImpl"]
        lines = [impl.render_lines(impl.size.region) for impl in impls if impl.image]
    assert two_pages >= 2 * len(grid.cells)  # both pages' pictures were encoded
    assert not any(on_loop)  # never on the event loop's thread
    assert len(on_loop) == two_pages  # the first page again, the cursor moved: all kept
    assert lines and all("\x1bP" in line[-1].text for line in lines)  # with its pictures


async def test_pages_flipped_past_in_a_burst_get_no_pictures(
    library, make_test_app, settle, monkeypatch
):
    shown: list[int] = []
    original = GridCell.set_image

    def record(cell, image, placeholder=""):
        if image is not None and cell.index is not None:
            shown.append(cell.index)
        return original(cell, image, placeholder)

    monkeypatch.setattr(GridCell, "set_image", record)
    app = make_test_app(library)
    async with app.run_test(size=(60, 30)) as pilot:  # two cells a page
        grid = app.screen.query_one(ThumbnailGrid)
        await _all_shown(pilot, settle, grid)
        per_page = len(grid.cells)
        shown.clear()
        burst(app, "pagedown", "pagedown", "pagedown")
        await settled_until(
            pilot, settle, lambda: not app.typeahead.backlog and grid.top_index == 3 * per_page
        )
        await _all_shown(pilot, settle, grid)
        last_page = set(range(3 * per_page, 4 * per_page))
        assert set(shown) == last_page  # pages 2 and 3 were passed without pictures


class _GatedTerminal:
    """A terminal whose link stalls while `gate` is closed; it records what got through."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.text: list[str] = []
        self.stalled = threading.Event()  # a write is waiting at the closed gate

    def write(self, text: str) -> int:
        if not self.gate.is_set():
            self.stalled.set()
            self.gate.wait(30)
        self.text.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def placed(self) -> set[int]:
        return {int(i) for i in re.findall(r"\x1b_Ga=p,i=(\d+)", "".join(self.text))}


async def test_kitty_pictures_queued_for_a_page_flipped_past_are_not_sent(
    library, make_test_app, settle
):
    # Over a slow link a page's kitty pictures take seconds to go out; those still queued when
    # the user flips on were sent anyway, ahead of the new page's. Now they are dropped, the
    # one going out is finished, and a page shown again gets what it lacks.
    kitty = image_widget_class("kitty")
    app = make_test_app(library, image_class=kitty)
    terminal = _GatedTerminal()

    def new_ids(before: set[int]) -> set[int]:
        return {t.image_id for t in kitty.sent.values()} - before

    async with app.run_test(size=(60, 30)) as pilot:  # two cells a page
        app._driver._file = MeteredFile(terminal, LinkMeter())
        grid = app.screen.query_one(ThumbnailGrid)
        await _all_shown(pilot, settle, grid)
        known = {t.image_id for t in kitty.sent.values()}
        terminal.gate.clear()  # the link stalls: page 2's first picture gets stuck going out
        await pilot.press("pagedown")
        await _all_shown(pilot, settle, grid)
        page2 = new_ids(known)
        assert len(page2) == 2 and terminal.stalled.wait(10)
        known |= page2
        await pilot.press("pagedown")
        await _all_shown(pilot, settle, grid)
        page3 = new_ids(known)
        assert len(page3) == 2
        terminal.gate.set()
        await settled_until(pilot, settle, lambda: page3 <= terminal.placed())
        placed = terminal.placed()
        assert page3 <= placed  # the page on screen has its pictures
        assert len(page2 & placed) == 1  # the one going out was finished, the other dropped
        await pilot.press("pageup")  # page 2 again: its missing picture is sent now
        await settled_until(pilot, settle, lambda: page2 <= terminal.placed())
        assert page2 <= terminal.placed()


class _SlowTerminal:
    """A terminal on a link of `rate` bytes/s: flushing waits until the bytes got through."""

    def __init__(self, rate: float) -> None:
        self.rate, self.pending = rate, 0

    def write(self, text: str) -> int:
        self.pending += len(text)
        return len(text)

    def flush(self) -> None:
        time.sleep(self.pending / self.rate)
        self.pending = 0


def test_link_meter_turns_auto_quality_low_on_a_slow_link_only():
    slow, fast = Pictures("auto", LinkMeter()), Pictures("auto", LinkMeter())
    for pictures, rate in ((slow, 1e6), (fast, 50e6)):
        terminal = MeteredFile(_SlowTerminal(rate), pictures.meter)
        for _ in range(6):
            terminal.write("x" * 100_000)
            terminal.flush()
    assert slow.level == "low" and fast.level == "high"
    assert Pictures("high", slow.meter).level == "high"  # a fixed setting is never changed


class _BufferedLink:
    """A terminal behind a link of `rate` bytes/s and `buffer` bytes of buffers (the TCP
    window, SSH's): a write blocks only for what does not fit in them."""

    def __init__(self, rate: float, buffer: int) -> None:
        self.rate, self.buffer = rate, buffer
        self.queued, self.pending, self.at = 0.0, 0, time.monotonic()

    def write(self, text: str) -> int:
        self.pending += len(text)
        return len(text)

    def flush(self) -> None:
        drained = (time.monotonic() - self.at) * self.rate
        self.queued = max(0.0, self.queued - drained) + self.pending
        self.pending = 0
        if self.queued > self.buffer:
            time.sleep((self.queued - self.buffer) / self.rate)
            self.queued = self.buffer
        self.at = time.monotonic()


def test_link_meter_is_not_fooled_by_a_write_that_fits_in_the_buffers():
    # On a 2 Mbit/s link the meter read 44 MB/s after one 69 kB write went into the buffers
    # at once (an average of each write's rate), and `auto` stayed high over a slow link.
    pictures = Pictures("auto", LinkMeter())
    terminal = MeteredFile(_BufferedLink(1e6, 256 * 1024), pictures.meter)
    levels = []
    for size, pause in ((600_000, 0.3), (69_000, 0.0), (600_000, 0.0), (600_000, 0.0)):
        terminal.write("x" * size)
        terminal.flush()
        levels.append(pictures.level)
        time.sleep(pause)  # the link drains meanwhile: the next write fits in the buffers
    assert levels == ["low"] * 4


class _BusyFastTerminal:
    """A fast local terminal, written to by a thread that waits `wait` s for the GIL after each
    write (the event loop drawing meanwhile)."""

    def __init__(self, wait: float) -> None:
        self.wait = wait

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        time.sleep(self.wait)


def test_link_meter_keeps_a_fast_link_high_through_many_small_slow_writes():
    # Small frames (a cursor, a caption, one sixel picture) each cost the writer thread a wait
    # for the GIL; counted, 300 of them made a fast local link read as 0.4 MB/s.
    pictures = Pictures("auto", LinkMeter())
    terminal = MeteredFile(_BusyFastTerminal(0.005), pictures.meter)
    levels = []
    for _ in range(300):
        terminal.write("x" * 2_000)
        terminal.flush()
    levels.append(pictures.level)
    for _ in range(6):  # then whole pages, which do measure the link
        terminal.write("x" * 200_000)
        terminal.flush()
    levels.append(pictures.level)
    assert levels == ["high", "high"]


async def test_sixel_lines_redrawn_alone_keep_the_whole_picture(library, make_test_app, settle):
    # In xterm, on a first launch, thumbnails had their middle third black until redrawn: the
    # cell's placeholder text going away repainted those lines alone, and the picture of just
    # those lines was not encoded yet (drawn blank). Now the whole picture kept is drawn again.
    from textual.geometry import Region

    sixel = image_widget_class("sixel")
    app = make_test_app(library, image_class=sixel)
    async with app.run_test(size=SIZE) as pilot:
        grid = app.screen.query_one(ThumbnailGrid)
        await _all_shown(pilot, settle, grid)
        await settled_until(pilot, settle, lambda: SIXELS.idle)
        impl = next(w for w in app.screen.walk_children() if type(w).__name__ == "_SixelImpl")
        width, height = impl.content_size
        middle = Region(0, height // 3, width, max(1, height // 3))
        lines = impl.render_lines(middle)
        assert len(lines) == middle.height
        assert all(line.cell_length == 0 for line in lines[:-1])  # nothing written over it
        drawn = "".join(segment.text for segment in lines[-1])
        assert "\x1bP" in drawn  # the picture itself, at once


async def test_auto_quality_turning_low_reaches_the_grids_sixel_pictures(
    library, make_test_app, settle
):
    # The grid's picture widgets are made once; their palette was fixed when they were, so
    # `auto` turning low reached only the viewer's pictures, after megabytes over SSH.
    sixel = image_widget_class("sixel")
    app = make_test_app(library, image_class=sixel)
    app.pictures = Pictures("auto", LinkMeter())
    async with app.run_test(size=SIZE) as pilot:
        grid = app.screen.query_one(ThumbnailGrid)
        await _sixels_drawn(pilot, settle, grid)
        impls = [w for w in app.screen.walk_children() if type(w).__name__ == "_SixelImpl"]
        assert impls and all(w._sixel_options is None for w in impls)  # high: 256 colours
        app.pictures.meter.rate = 100e3  # the link is measured slow (its first pictures out)
        for impl in impls:  # the same page's pictures drawn again (those still to come)
            impl.refresh()
        await _sixels_drawn(pilot, settle, grid)
        shown = [w for w in impls if w.image is not None]
        assert shown and all(w._sixel_options.colors == LOW_SIXEL_COLOURS for w in shown)
