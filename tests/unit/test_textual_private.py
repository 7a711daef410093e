"""The private Textual and textual-image API the app relies on (ui/textual_private.py) is still
there and still behaves as the app expects. A release that changes one fails here, by name,
instead of in a user's terminal; pyproject.toml pins both libraries to where this passed.

Also: no module but ui/textual_private.py reaches for a private name of either library.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from PIL import Image
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingsMap
from textual.widgets import Static

import anagnorisis_tui
from anagnorisis_tui.ui import textual_private as private

PACKAGE = Path(anagnorisis_tui.__file__).parent
PRIVATE_MODULE = PACKAGE / "ui" / "textual_private.py"


class _Small(App[None]):
    BINDINGS = [Binding("z", "zap", "Zap", id="small.zap")]

    def compose(self) -> ComposeResult:
        yield Static("hello")


def test_no_other_module_imports_a_private_textual_name():
    private_import = re.compile(r"^(textual|textual_image)(\.\w+)*\._")
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path == PRIVATE_MODULE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            offenders += [f"{path.name}: {n}" for n in names if private_import.match(n)]
    assert not offenders


async def test_app_internals_the_type_ahead_reads():
    app = _Small()
    async with app.run_test() as pilot:
        assert private.active_app() is app
        bindings = private.bindings_of(app)
        assert isinstance(bindings, BindingsMap) and "z" in bindings.key_to_bindings
        app.set_keymap({"small.zap": "y"})
        assert private.keymap_of(app) == {"small.zap": "y"}
        bindings.apply_keymap(private.keymap_of(app))
        assert "y" in bindings.key_to_bindings
        chain = list(private.modal_binding_chain(app.screen))
        assert chain and all(isinstance(b, BindingsMap) for _, b in chain)
        assert private.has_pending_callbacks(app.screen) in (True, False)
        assert not private.is_exiting(app)
        assert private.driver_of(app) is not None
        app.exit()
        assert private.is_exiting(app)
        await pilot.pause()
    assert private.active_app() is None


def test_the_input_parser_the_driver_builds():
    from textual.drivers import linux_driver

    assert linux_driver.XTermParser is private.XTermParser  # the name run_input_thread reads
    feed = inspect.signature(private.XTermParser.feed)
    assert list(feed.parameters) == ["self", "data"]
    keys = [getattr(e, "key", None) for e in private.XTermParser().feed("a\x1b[A")]
    assert keys[:2] == ["a", "up"]


def test_a_driver_writes_through_its_file_and_reads_with_its_parser():
    from textual.drivers.linux_driver import LinuxDriver

    source = inspect.getsource(LinuxDriver)
    # ui/pictures.py wraps the file the writer thread is given; ui/quick_quit.py sees each key.
    assert "WriterThread(self._file)" in source
    assert "XTermParser(" in inspect.getsource(LinuxDriver.run_input_thread)
    assert callable(LinuxDriver.process_message)


def test_key_names_as_the_parser_gives_them():
    assert private.key_name("a") == "a"
    assert private.key_name("?") == "question_mark"


def test_textual_image_geometry_and_pixels():
    private.seed_cell_size(10, 20)
    assert private.cell_size_known()
    assert issubclass(private.terminal_error(), Exception)
    cells = private.cell_size()
    assert cells.width > 0 and cells.height > 0
    picture = Image.new("RGB", (40, 20), "red")
    scaled = private.pixel_data(picture, mode="rgb").scaled(8, 4).pil_image
    assert scaled.size == (8, 4)
    size = private.image_size(picture, "auto", "auto")
    assert size.get_cell_size(10, 10, cells) > (0, 0)
    assert size.get_pixel_size(10, 10, cells) > (0, 0)


def test_textual_image_widget_classes():
    from textual_image.renderable import tgp
    from textual_image.widget import HalfcellImage, SixelImage, TGPImage

    base = private.picture_widget_base()
    assert issubclass(HalfcellImage, base) and issubclass(TGPImage, base)
    assert private.renderable_of(HalfcellImage).__module__.endswith("halfcell")
    assert private.renderable_of(TGPImage).__module__.endswith("tgp")
    impl, noop = private.sixel_classes()
    for name in (
        "render_lines",
        "_crop_image",
        "_get_sixel_segments",
        "_image_to_sixels",
        "_get_background_rgba",
    ):
        assert callable(getattr(impl, name)), name
    assert issubclass(SixelImage, base) and isinstance(noop, type)
    first, second = private.next_kitty_image_id(), private.next_kitty_image_id()
    assert second > first
    for name in ("_render_size", "_image_data", "_render_diacritics"):
        assert name in inspect.getsource(tgp.Image), name  # what ui/kitty.py's subclass uses


@pytest.mark.parametrize("package", ["textual", "textual-image"])
def test_the_installed_version_is_inside_the_pin(package):
    import tomllib
    from importlib.metadata import version

    from packaging.specifiers import SpecifierSet

    pyproject = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    pins = {
        re.split(r"[<>=!~]", d, maxsplit=1)[0].strip(): d
        for d in pyproject["project"]["dependencies"]
    }
    spec = SpecifierSet(pins[package][len(package) :])
    assert any(op.startswith("<") for op in (s.operator for s in spec)), "no upper bound"
    assert version(package) in spec
