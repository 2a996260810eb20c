"""`maskroom meta`: IPTC title/caption/creator/copyright set and printed, shown by
`maskroom show`, refused at the door when bad, and carried by XMP sidecars as
dc:title/dc:description/dc:creator/dc:rights both ways."""
from __future__ import annotations

import json
import shutil

import pytest

from conftest import run_cli
from maskroom.catalog.schema import Image
from maskroom.services import library

pytestmark = pytest.mark.catalog


@pytest.fixture
def falcon(catalog, samples_dir, tmp_path):
    shutil.copy(samples_dir / "immich_prairie_falcon.jpg", tmp_path / "falcon.jpg")
    run_cli(catalog, "import", tmp_path)
    with catalog.session() as s:
        return s.query(Image).one().id


def test_meta_sets_prints_and_show_lists(catalog, falcon):
    run_cli(catalog, "meta", falcon, "--title", "Falcon", "--caption", "On the post\nat dawn",
            "--creator", "A. Person", "--copyright", "(c) 2026 A. Person")
    rows = json.loads(run_cli(catalog, "meta", falcon, "--json").output)
    assert rows == [{"id": falcon, "title": "Falcon", "caption": "On the post\nat dawn", "creator": "A. Person",
                     "copyright": "(c) 2026 A. Person"}]
    shown = run_cli(catalog, "show", falcon).output
    assert "title: Falcon" in shown and "copyright: (c) 2026 A. Person" in shown
    assert json.loads(run_cli(catalog, "show", falcon, "--json").output)["creator"] == "A. Person"
    run_cli(catalog, "meta", falcon, "--title", "")  # empty clears, the rest stays
    assert library.image_metadata(catalog, falcon)["iptc"] == {
        "title": None, "caption": "On the post\nat dawn", "creator": "A. Person", "copyright": "(c) 2026 A. Person"}


@pytest.mark.parametrize("args, why", [
    (["--title", "a\x07b"], "title contains a control character"),
    (["--title", "two\nlines"], "title contains a control character"),
    (["--copyright", "x" * 600], "copyright is 600 characters long; at most 512"),
])
def test_bad_text_is_refused_and_nothing_stored(catalog, falcon, args, why):
    r = run_cli(catalog, "meta", falcon, *args, ok=False)
    assert r.exit_code == 1 and why in r.output
    assert library.image_metadata(catalog, falcon)["iptc"]["title"] != "a\x07b"


def test_xmp_sidecar_carries_the_fields_both_ways(catalog, falcon, tmp_path):
    run_cli(catalog, "meta", falcon, "--title", "Falcon", "--caption", "At dawn", "--creator", "A. Person",
            "--copyright", "(c) A. Person")
    run_cli(catalog, "xmp", "write", falcon)
    sidecar = tmp_path / "falcon.xmp"
    text = sidecar.read_text(encoding="utf-8")
    for prop, value in (("dc:title", "Falcon"), ("dc:description", "At dawn"), ("dc:creator", "A. Person"),
                        ("dc:rights", "(c) A. Person")):
        start = text.index(f"<{prop}>")
        assert value in text[start:text.index(f"</{prop}>", start)], prop
    # Another program changes the title in the sidecar: reading it brings the change in.
    sidecar.write_text(text.replace(">Falcon<", ">Prairie falcon<"), encoding="utf-8")
    run_cli(catalog, "xmp", "read", falcon)
    assert library.image_metadata(catalog, falcon)["iptc"]["title"] == "Prairie falcon"
