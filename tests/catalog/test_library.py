"""Filters, bulk library changes and the browsing CLI on an imported catalog."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from sqlalchemy import select

from maskroom.catalog import library
from maskroom.catalog.queries import FilterError, build_query, parse_filter_args
from maskroom.catalog.schema import Image
from maskroom.engine.importer import run_import

from conftest import add_missing_photos, run_cli

pytestmark = pytest.mark.catalog


@pytest.fixture
def imported(catalog, sample_copy):
    run_import(catalog, [sample_copy], jobs=1)
    with catalog.session() as s:
        return {i.filename: i.id for i in s.scalars(select(Image))}


def names(catalog, filters, sort=None):
    with catalog.session() as s:
        return [i.filename for i in s.scalars(build_query(parse_filter_args(filters), sort))]


def test_filters_combine(catalog, imported):
    with catalog.session() as s:
        library.set_rating(s, [imported["immich_el_torcal_rocks.jpg"], imported["immich_tanners_ridge.jpg"]], 4)
        library.set_flag(s, [imported["immich_tanners_ridge.jpg"]], "pick")
        library.set_label(s, [imported["immich_el_torcal_rocks.jpg"]], "red")
        library.add_keyword(s, [imported["immich_tanners_ridge.jpg"]], "Places|USA|Utah")
        library.add_keyword(s, [imported["immich_thompson-springs.jpg"]], "Places|USA")
    assert names(catalog, ["rating>=4"], "name") == ["immich_el_torcal_rocks.jpg", "immich_tanners_ridge.jpg"]
    assert names(catalog, ["rating>=4", "flag=pick"]) == ["immich_tanners_ridge.jpg"]
    assert names(catalog, ["label=red"]) == ["immich_el_torcal_rocks.jpg"]
    # a keyword matches its children
    assert sorted(names(catalog, ["keyword=Places|USA"])) == ["immich_tanners_ridge.jpg", "immich_thompson-springs.jpg"]
    assert names(catalog, ["keyword=Utah"]) == ["immich_tanners_ridge.jpg"]
    assert names(catalog, ["camera=nikon"]) == ["immich_tanners_ridge.jpg"]
    assert names(catalog, ["iso=100-200"], "name") == ["immich_cyclamen_persicum.jpg", "immich_denali.webp",
                                                       "immich_el_torcal_rocks.jpg", "immich_notocactus_minimus.jpg"]
    assert names(catalog, ["date=2008..2013"], "capture") == ["immich_notocactus_minimus.jpg", "immich_denali.webp",
                                                              "immich_el_torcal_rocks.jpg"]
    assert names(catalog, ["date=2012-08-05"]) == ["immich_el_torcal_rocks.jpg"]
    assert names(catalog, ["text=curies"]) == ["immich_portrait_curies.jpg"]
    assert names(catalog, ["format=webp"]) == ["immich_denali.webp"]
    assert names(catalog, ["rating>=1"], "-rating")[0] in ("immich_el_torcal_rocks.jpg", "immich_tanners_ridge.jpg")


@pytest.mark.parametrize("bad", ["rating>=9", "flag=maybe", "label=pink", "iso=abc", "date=yesterday", "colour=red"])
def test_bad_filters_say_why(catalog, imported, bad):
    with pytest.raises(FilterError):
        names(catalog, [bad])


def test_collections_regular_and_smart(catalog, imported):
    with catalog.session() as s:
        library.collection(s, "Portfolio", create=True)
        library.add_to_collection(s, "Portfolio", [imported["mpl_grace_hopper.jpg"], imported["immich_denali.webp"]])
        library.collection(s, "Good", create=True, smart_filter={"rating": ">=3"})
        library.set_rating(s, [imported["immich_denali.webp"]], 5)
    assert sorted(names(catalog, ["collection=Portfolio"])) == ["immich_denali.webp", "mpl_grace_hopper.jpg"]
    with catalog.session() as s:
        smart = library.collection_filter(s, "Good")
        with pytest.raises(library.LibraryError):
            library.add_to_collection(s, "Good", [1])
    with catalog.session() as s:
        assert [i.filename for i in s.scalars(build_query(smart))] == ["immich_denali.webp"]


def run(catalog, *args):
    return run_cli(catalog, *args, ok=False)


def test_cli_bulk_rate_on_filter_and_ls_json(catalog, imported):
    assert run(catalog, "rate", "3", "--filter", "camera=EOS R5").exit_code == 0
    out = run(catalog, "ls", "--filter", "rating>=3", "--json")
    rows = json.loads(out.stdout)
    assert [r["filename"] for r in rows] == ["immich_prairie_falcon.jpg"]
    assert run(catalog, "tag", "add", "Birds|Falcon", str(rows[0]["id"])).exit_code == 0
    shown = json.loads(run(catalog, "show", str(rows[0]["id"]), "--json").stdout)
    # The sample's own embedded XMP keywords came in at import too (docs/xmp.md).
    assert "Birds|Falcon" in shown["keywords"] and shown["rating"] == 3 and shown["iso"] == 1000
    bad = run(catalog, "rate", "3", "99999")
    assert bad.exit_code != 0 and "no image with id 99999" in bad.output


def test_cli_import_reports_skipped_file(catalog, tmp_path, samples_dir):
    shutil.copy(samples_dir / "mpl_grace_hopper.jpg", tmp_path / "a.jpg")
    (tmp_path / "b.jpg").write_bytes(b"")
    result = run(catalog, "import", str(tmp_path), "--jobs", "1", "--json")
    report = json.loads(result.stdout)
    assert len(report["imported"]) == 1
    assert report["skipped"] == [{"path": str(tmp_path / "b.jpg"), "reason": "empty file (0 bytes)"}]


def test_exif_fields_agree_with_exiftool(catalog, imported, sample_copy, exiftool):
    raw = subprocess.run([exiftool, "-j", "-n", "-DateTimeOriginal", "-Make", "-Model", "-ISO", "-FNumber",
                          "-ExposureTime", "-FocalLength", "-Orientation", "-GPSLatitude", "-GPSLongitude",
                          "-ExposureCompensation", *map(str, sorted(sample_copy.iterdir()))],
                         capture_output=True, text=True, check=True)
    compared = 0
    with catalog.session() as s:
        for ref in json.loads(raw.stdout):
            img = s.scalar(select(Image).where(Image.filename == ref["SourceFile"].rsplit("/", 1)[1]))
            pairs = [("Make", img.camera_make), ("Model", img.camera_model), ("ISO", img.iso),
                     ("FNumber", img.aperture), ("ExposureTime", img.shutter), ("FocalLength", img.focal_length),
                     ("Orientation", img.orientation), ("GPSLatitude", img.gps_lat),
                     ("GPSLongitude", img.gps_lon), ("ExposureCompensation", img.exposure_bias)]
            for key, ours in pairs:
                if key in ref:
                    expected = ref[key]
                    if isinstance(expected, str):
                        assert ours == expected.strip(), (img.filename, key)
                    else:
                        assert ours == pytest.approx(expected, rel=1e-3, abs=1e-6), (img.filename, key)
                    compared += 1
            if "DateTimeOriginal" in ref:
                # exiftool may add the XMP time-zone offset; the catalog keeps wall-clock time
                assert img.capture_time.strftime("%Y:%m:%d %H:%M:%S") == ref["DateTimeOriginal"][:19]
                compared += 1
    assert compared >= 40


def test_ls_streams_in_chunks(catalog):
    """`ls` reads the catalog chunk by chunk as it writes: the first row comes before the
    rest are read, and the whole output (JSON and text) is the list a non-streamed read gives."""
    from maskroom.services import library as library_service

    last = add_missing_photos(catalog, [f"IMG_{i:04d}.jpg" for i in range(2500)])[-1]
    with catalog.session() as s:
        library.add_keyword(s, [last], "Late|Chunk")
    rows = library_service.iter_images(catalog, sort="name", chunk=1000)
    assert next(rows)["filename"] == "IMG_0000.jpg"  # a generator: nothing else read yet
    rest = list(rows)
    assert len(rest) == 2499 and rest[-1]["keywords"] == ["Late|Chunk"]
    out = json.loads(run_cli(catalog, "ls", "--sort", "name", "--json").stdout)
    assert [r["filename"] for r in out] == [f"IMG_{i:04d}.jpg" for i in range(2500)]
    assert out[-1]["keywords"] == ["Late|Chunk"] and out[0]["keywords"] == []
    assert json.loads(run_cli(catalog, "ls", "--sort", "name", "--limit", "3", "--json").stdout)[2]["filename"] \
        == "IMG_0002.jpg"
    assert json.loads(run_cli(catalog, "ls", "--filter", "text=nothing-matches", "--json").stdout) == []
    text = run_cli(catalog, "ls", "--sort", "name", "--limit", "2500")
    assert text.stdout.count("\n") == 2501 and "2500 image(s)" in text.stderr
