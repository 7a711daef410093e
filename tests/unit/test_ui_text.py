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


def test_an_empty_grid_says_what_is_being_made_or_scanned(monkeypatch):
    from anagnorisis_tui.core.base.progress import Progress
    from anagnorisis_tui.ui.state.text import scan_wait_text

    monkeypatch.setenv("HOME", "/home/ann")
    photos = "/home/ann/photos"
    assert scan_wait_text(None, photos) == "Scanning ~/photos…"
    walk = Progress("walk", 1204, None)
    assert scan_wait_text(walk, photos) == "Scanning ~/photos: 1,204 files found…"
    read = Progress("catalogue", 1204, 5000)
    assert scan_wait_text(read, photos) == "Scanning ~/photos: 1,204 of 5,000 files read…"
    assert (
        scan_wait_text(read, "/srv/\x1b[2Jpics")
        == "Scanning /srv/\\x1b[2Jpics: 1,204 of 5,000 files read…"
    )
    made = Progress("demo", 40, 113)
    assert scan_wait_text(made, "/d/demo/library", demo=True) == (
        "Making the demo library: 40 of 113 pictures made…"
    )
    assert scan_wait_text(read, "/d/demo/library", demo=True).startswith(
        "Scanning the demo library"
    )
