"""XMP sidecars: the star mapping, exact round trips, and editing other apps' sidecars safely."""

from __future__ import annotations

import pytest

from anagnorisis_tui.core.evaluator import xmp
from tests.support.preference import rate_first

DARKTABLE = """<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:darktable="http://darktable.sf.net/"
    xmp:Rating="{stars}"
    darktable:xmp_version="5">
   <darktable:history><rdf:Seq/></darktable:history>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""

LIGHTROOM_ELEMENT = """<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
   <xmp:Rating>{stars}</xmp:Rating>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


def test_star_mapping_is_the_documented_one():
    assert [xmp.stars_for(r) for r in range(11)] == [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert xmp.stars_for(0.5) == 1 and xmp.stars_for(8.5) == 5
    assert [xmp.rating_for(s) for s in range(-1, 6)] == [0.0, None, 2.0, 4.0, 6.0, 8.0, 10.0]
    # Stars -> rating -> stars is the identity for every star value.
    assert all(xmp.stars_for(xmp.rating_for(s)) == s for s in range(1, 6))


@pytest.mark.parametrize("value", [0, 0.5, 1, 3, 6, 7.25, 9, 10])
def test_new_sidecar_round_trips_exactly(tmp_path, value):
    image = tmp_path / "photo.jpg"
    image.write_bytes(b"jpeg")
    sidecar, changed = xmp.write_rating(image, value)
    assert changed and sidecar.name == "photo.jpg.xmp"
    assert xmp.read_rating(sidecar) == value
    assert f'xmp:Rating="{xmp.stars_for(value)}"' in sidecar.read_text()
    assert xmp.write_rating(image, value) == (sidecar, False)


@pytest.mark.parametrize("template", [DARKTABLE, LIGHTROOM_ELEMENT])
def test_other_apps_sidecars_are_read_and_edited_in_place(tmp_path, template):
    image = tmp_path / "raw.nef"
    image.write_bytes(b"raw")
    sidecar = tmp_path / "raw.nef.xmp"
    sidecar.write_text(template.format(stars=3))
    assert xmp.read_rating(sidecar) == 6.0
    # Stars another app set are kept unless the user asks to overwrite them.
    with pytest.raises(xmp.XmpKept):
        xmp.write_rating(image, 7.5)
    assert sidecar.read_text() == template.format(stars=3)
    xmp.write_rating(image, 7.5, overwrite=True)
    text = sidecar.read_text()
    assert xmp.read_rating(sidecar) == 7.5
    assert xmp.stars_for(7.5) == 4
    if template is DARKTABLE:
        assert 'darktable:xmp_version="5"' in text and "<darktable:history>" in text
        assert 'xmp:Rating="4"' in text
    else:
        assert "<xmp:Rating>4</xmp:Rating>" in text
    # The user changes the stars in the other app: their change wins over our exact value.
    sidecar.write_text(
        text.replace('xmp:Rating="4"', 'xmp:Rating="2"').replace("<xmp:Rating>4<", "<xmp:Rating>2<")
    )
    assert xmp.read_rating(sidecar) == 4.0


def test_unrated_and_rejected_and_lightroom_names(tmp_path):
    image = tmp_path / "img.cr2"
    image.write_bytes(b"x")
    lr = tmp_path / "img.xmp"
    lr.write_text(DARKTABLE.format(stars=0))
    assert xmp.find_sidecar(image) == lr
    assert xmp.read_rating(lr) is None  # digiKam writes 0 for unrated images
    lr.write_text(DARKTABLE.format(stars=-1))
    assert xmp.read_rating(lr) == 0.0


def test_a_broken_sidecar_is_reported_and_left_untouched(tmp_path):
    image = tmp_path / "a.jpg"
    image.write_bytes(b"x")
    sidecar = tmp_path / "a.jpg.xmp"
    sidecar.write_text("<x:xmpmeta><not closed")
    with pytest.raises(xmp.XmpError, match="not valid XML"):
        xmp.read_rating(sidecar)
    with pytest.raises(xmp.XmpError):
        xmp.write_rating(image, 5)
    assert sidecar.read_text() == "<x:xmpmeta><not closed"


@pytest.mark.slow
def test_library_sidecar_export_import_round_trip(pref_library):
    lib = pref_library.library
    rate_first(pref_library, 20)
    lib.ratings.set(pref_library.hashes[0], 0)
    lib.ratings.set(pref_library.hashes[1], 7.5)
    before = dict(lib.db.execute("SELECT hash, value FROM ratings").fetchall())
    # Nothing is written inside the library folder unless asked: rating and training don't.
    lib.evaluator.train()
    assert not list(pref_library.root.glob("*.xmp"))
    report = lib.ratings.export_xmp()
    assert report.written == 20 and not report.errors
    assert len(list(pref_library.root.glob("*.xmp"))) == 20
    lib.db.execute("DELETE FROM ratings")
    lib.db.conn.commit()
    side, imported = lib.ratings.import_xmp()
    assert side.imported == 20 and imported.added == 20
    assert dict(lib.db.execute("SELECT hash, value FROM ratings").fetchall()) == before
    assert lib.ratings.export_xmp().unchanged == 20
