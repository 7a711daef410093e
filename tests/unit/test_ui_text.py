"""Names shown on screen: control characters and undecodable bytes become visible and inert."""

from anagnorisis_tui.core.base import fsnames
from anagnorisis_tui.ui.state.text import safe


def test_control_characters_are_escaped():
    assert safe("esc\x1b[31mred\n.jpg") == "esc\\x1b[31mred\\x0a.jpg"
    assert safe("a\x9bb") == "a\\x9bb"  # C1 CSI


def test_undecodable_bytes_are_replaced_for_os_and_catalogue_text():
    os_name = b"caf\xe9.jpg".decode("utf-8", "surrogateescape")
    assert safe(os_name) == "caf\ufffd.jpg"
    assert safe(fsnames.to_db(os_name)) == "caf\ufffd.jpg"
    safe(os_name).encode("utf-8")  # printable


def test_ordinary_names_unchanged():
    for name in ("ok.jpg", "été 日本.png", "[bold]x[/].jpg"):
        assert safe(name) == name
