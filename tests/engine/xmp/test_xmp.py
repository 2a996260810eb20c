"""XMP in and out: embedded packets, sidecars of both conventions, Lightroom's crs:
develop settings, hostile files, conflicts, and exiftool as the independent reader."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage
from sqlalchemy import select

from maskroom.catalog import edits, library
from maskroom.catalog.schema import Image, XmpSidecarState
from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition, Recipe
from maskroom.engine.importer import run_import
from maskroom.engine.xmp import read_image_xmp
from maskroom.engine.xmp.crs import crs_from_recipe, recipe_from_crs
from maskroom.engine.xmp.fields import q
from maskroom.engine.xmp.read import XmpError, parse_bytes, properties
from maskroom.services import xmp as xmp_service

from conftest import run_cli, sha256, tree_digest

pytestmark = pytest.mark.catalog
from conftest import DATA as TEST_DATA  # noqa: E402
from conftest import SAMPLES  # noqa: E402

DATA = TEST_DATA / "xmp"


def exif_json(exiftool: str, path: Path, *args: str) -> dict:
    out = subprocess.run([exiftool, "-j", "-n", *args, str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


def photo(folder: Path, name: str = "a.jpg", colour=(90, 110, 130)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    PILImage.new("RGB", (96, 64), colour).save(p, quality=90)
    return p


def image_row(catalog, name: str) -> Image:
    with catalog.session() as s:
        img = s.scalar(select(Image).where(Image.filename == name))
        s.expunge(img)
        return img


# -- read ------------------------------------------------------------------------------------

def test_embedded_xmp_written_by_exiftool_comes_in_on_import(catalog, tmp_path, exiftool):
    p = photo(tmp_path / "shoot")
    subprocess.run([exiftool, "-q", "-overwrite_original", "-XMP:Rating=4", "-XMP:Label=Red",
                    "-XMP-lr:HierarchicalSubject=Places|Kyoto", "-XMP-dc:Subject=Places", "-XMP-dc:Subject=Kyoto",
                    "-XMP-dc:Title=Temple", "-XMP-dc:Rights=(c) A. Person", str(p)], check=True)
    before = sha256(p)
    report = run_import(catalog, [p.parent], jobs=1)
    assert report.xmp_read == report.imported and not report.warnings
    rows = json.loads(run_cli(catalog, "ls", "--json").output)
    assert (rows[0]["rating"], rows[0]["label"], rows[0]["keywords"]) == (4, "red", ["Places|Kyoto"])
    shown = json.loads(run_cli(catalog, "show", rows[0]["id"], "--json").output)
    assert shown["keywords"] == ["Places|Kyoto"]
    assert (shown["title"], shown["copyright"]) == ("Temple", "(c) A. Person")
    assert sha256(p) == before


@pytest.mark.parametrize("fmt", ["png", "tif", "webp", "heic", "dng"])
def test_embedded_xmp_in_every_container(tmp_path, exiftool, fmt):
    from synth_files import make_dng, make_heic

    p = tmp_path / f"x.{fmt}"
    if fmt == "dng":
        make_dng(p)
    elif fmt == "heic":
        make_heic(p)
    else:
        PILImage.new("RGB", (40, 30), (10, 200, 90)).save(p)
    subprocess.run([exiftool, "-q", "-q", "-overwrite_original", "-XMP:Rating=3", "-XMP-lr:HierarchicalSubject=A|B",
                    str(p)], check=True)
    r = read_image_xmp(p)
    assert (r.source, r.fields.rating, r.fields.keywords) == ("embedded", 3, ["A|B"])


def test_real_photoshop_packet_in_a_sample_photo(tmp_path):
    # immich_prairie_falcon.jpg (NPS, public domain; maskroom/data/samples/SOURCES.md) carries
    # the XMP packet Photoshop 23.4 wrote: a real-world reader check.
    r = read_image_xmp(SAMPLES / "immich_prairie_falcon.jpg")
    assert r.source == "embedded" and not r.warnings
    assert r.fields.keywords == ["Other Keywords|SFAN", "PINN", "raptors", "Events", "birds", "monitoring",
                                "prairie falcons"]  # lr:hierarchicalSubject, with dc:subject folded in
    assert (r.fields.creator, r.fields.copyright) == ("NPS / Gavin Emmons", "All rights reserved")
    assert r.fields.caption.startswith("Adult female prairie falcon")
    assert str(r.fields.capture_time) == "2022-03-31 11:31:56"


def test_lightroom_sidecar_exposure_and_subject_mask(catalog, tmp_path):
    p = tmp_path / "shoot" / "curies.jpg"
    p.parent.mkdir()
    shutil.copy(SAMPLES / "immich_portrait_curies.jpg", p)
    shutil.copy(DATA / "lightroom_subject.xmp", p.with_suffix(".xmp"))
    before = tree_digest(p.parent)
    report = run_import(catalog, [p], jobs=1)
    image_id = report.imported[0]
    with catalog.session() as s:
        recipe = edits.load_recipe(s, edits.get_version(s, image_id).id)
        img = s.get(Image, image_id)
        assert (img.rating, img.color_label) == (3, "green")
        assert library.image_keywords(s, image_id) == ["Places|Kyoto", "portrait"]
        unmapped = img.extra["xmp_unmapped"]
    assert recipe.global_layer.adjustments["exposure"] == 1.0
    assert recipe.global_layer.adjustments["highlights"] == -40 and recipe.global_layer.adjustments["vibrance"] == 15
    assert recipe.settings["crop"] == {"x0": 0.1, "y0": 0.05, "x1": 0.9, "y1": 0.95}
    subject = recipe.layer("Subject")
    assert subject.adjustments == {"exposure": 0.5, "clarity": 20.0}  # local values are stored -1..1
    assert [c.kind for c in subject.mask.components] == ["subject"]
    # What does not map is listed, per image, not dropped.
    assert any("Mask/Paint" in u for u in unmapped) and "crs:ToneCurvePV2012" in unmapped
    assert any("GrainAmount" in u for u in unmapped)
    assert image_id in report.xmp_unmapped
    # maskroom derives the subject itself.
    out = tmp_path / "subject.png"
    res = run_cli(catalog, "mask", "render", image_id, "Subject", "--out", out)
    assert "derived" in res.output
    alpha = np.asarray(PILImage.open(out).convert("L"))
    assert 0.15 < (alpha > 127).mean() < 0.9
    assert tree_digest(p.parent) == before  # originals and the sidecar untouched by import


def test_copy_to_takes_the_sidecar_along(catalog, tmp_path):
    p = photo(tmp_path / "card", "DSC_1.jpg")
    shutil.copy(DATA / "darktable.xmp", p.with_name("DSC_1.jpg.xmp"))
    before = tree_digest(p.parent)
    report = run_import(catalog, [p], copy_to=tmp_path / "library", template="{name}", jobs=1)
    copied = tmp_path / "library" / "DSC_1.jpg.xmp"
    assert copied.read_bytes() == (DATA / "darktable.xmp").read_bytes()
    with catalog.session() as s:
        assert s.scalar(select(XmpSidecarState.path)) == str(copied)
        assert s.get(Image, report.imported[0]).rating == 2
    assert tree_digest(p.parent) == before


def test_sidecar_conventions_and_which_wins(tmp_path):
    p = photo(tmp_path, "IMG_1.jpg")
    lr = p.with_name("IMG_1.xmp")
    dt = p.with_name("IMG_1.jpg.xmp")
    shutil.copy(DATA / "lightroom_subject.xmp", lr)
    assert read_image_xmp(p).source == str(lr)
    shutil.copy(DATA / "darktable.xmp", dt)
    assert read_image_xmp(p).source == str(dt)  # the full name belongs to this file alone


def test_embedded_packet_wins_only_when_its_metadata_date_is_newer(tmp_path, exiftool):
    p = photo(tmp_path, "b.jpg")
    subprocess.run([exiftool, "-q", "-overwrite_original", "-XMP:Rating=5",
                    "-XMP:MetadataDate=2030:01:01 00:00:00+00:00", str(p)], check=True)
    shutil.copy(DATA / "lightroom_subject.xmp", p.with_suffix(".xmp"))  # MetadataDate 2024
    r = read_image_xmp(p)
    assert (r.source, r.fields.rating) == ("embedded", 5)
    subprocess.run([exiftool, "-q", "-overwrite_original", "-XMP:MetadataDate=2020:01:01 00:00:00+00:00",
                    str(p)], check=True)
    r = read_image_xmp(p)
    assert r.source.endswith("b.xmp") and r.fields.rating == 3


def test_darktable_sidecar_fields(tmp_path):
    p = photo(tmp_path, "IMG_0042.jpg")
    shutil.copy(DATA / "darktable.xmp", p.with_name("IMG_0042.jpg.xmp"))
    r = read_image_xmp(p)
    assert (r.fields.rating, r.fields.label, r.fields.keywords) == (2, "blue", ["birds|falcon"])
    assert str(r.fields.capture_time) == "2023-08-14 18:22:05" and r.recipe is None


@pytest.mark.parametrize("name, body, reason", [
    ("malformed", b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF", "malformed XMP"),
    ("laughs", b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
               b']><x:xmpmeta xmlns:x="adobe:ns:meta/">&lol2;</x:xmpmeta>', "DOCTYPE"),
    ("doctype", b'<?xml version="1.0"?><!DOCTYPE x:xmpmeta SYSTEM "http://example.com/x.dtd">'
                b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>', "DOCTYPE"),
    ("huge", None, "MB"),
    ("types", b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:exif="http://ns.adobe.com/exif/1.0/"'
              b' xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/" xmp:Rating="lots" exif:GPSLatitude="91,0N"'
              b' crs:Exposure2012="nan" crs:Contrast2012="+250" crs:Vibrance="30"/></rdf:RDF></x:xmpmeta>',
     "xmp:Rating"),
])
def test_hostile_sidecar_is_one_warning_and_the_image_still_imports(catalog, tmp_path, name, body, reason):
    p = photo(tmp_path / name, f"{name}.jpg")
    sidecar = p.with_suffix(".xmp")
    if body is None:
        with open(sidecar, "wb") as fh:  # 50 MB of valid-looking XMP
            fh.write(b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><!--' + b"x" * (50 << 20) + b"--></x:xmpmeta>")
    else:
        sidecar.write_bytes(body)
    before = sha256(sidecar)
    report = run_import(catalog, [p], jobs=1)
    assert len(report.imported) == 1 and not report.skipped
    assert report.warnings and all("\n" not in w and str(sidecar) in w for w in report.warnings)
    assert any(reason in w for w in report.warnings), report.warnings
    with catalog.session() as s:
        img = s.get(Image, report.imported[0])
        assert img.rating == 0 and img.gps_lat is None
        recipe = edits.load_recipe(s, edits.get_version(s, img.id).id)
    if name == "types":  # the good value comes in, the bad ones are refused at the door
        assert recipe.global_layer.adjustments == {"vibrance": 30.0}
        assert any("Contrast2012" in w and "outside" in w for w in report.warnings)
        assert any("Exposure2012" in w for w in report.warnings)
    assert sha256(sidecar) == before


def test_parser_refuses_entities_before_expanding_them():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "' + b"a" * 1000 + b'">'
            + b"".join(b'<!ENTITY a%d "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">' % i for i in range(9))
            + b']><x:xmpmeta xmlns:x="adobe:ns:meta/">&a8;</x:xmpmeta>')
    with pytest.raises(XmpError, match="f.xmp"):
        parse_bytes(bomb, "f.xmp")


# -- crs mapping ---------------------------------------------------------------------------------

def test_crs_mapping_round_trip_keeps_mapped_sliders_and_masks():
    recipe = Recipe()
    recipe.global_layer.adjustments = {"exposure": -0.7, "contrast": 20, "clarity": -15, "temperature": 12,
                                       "hue": 30}
    recipe.settings = {"crop": {"x0": 0.1, "y0": 0.2, "x1": 0.8, "y1": 0.9}, "straighten": 2.5}
    recipe.layers += [
        Layer("Sky", adjustments={"exposure": -1.0, "saturation": 20}, mask=MaskDefinition([MaskComponent("sky")])),
        Layer("Lips", opacity=0.5, adjustments={"saturation": 10},
              mask=MaskDefinition([MaskComponent("lips", params={"ref": [0.4, 0.3]})])),
        Layer("Grad", adjustments={"exposure": 0.5},
              mask=MaskDefinition([MaskComponent("linear", params={"x0": 0.5, "y0": 0.0, "x1": 0.5, "y1": 0.6}),
                                   MaskComponent("radial", mode="subtract", params={"cx": 0.3, "cy": 0.4, "rx": 0.2,
                                                                                   "ry": 0.1, "feather": 0.4})])),
        Layer("Painted", adjustments={"exposure": 1}, mask=MaskDefinition([MaskComponent("brush")])),
    ]
    props, lossy = crs_from_recipe(recipe, 600, 400)
    assert props[q("crs", "Exposure2012")] == "-0.70" and props[q("crs", "IncrementalTemperature")] == "+12"
    assert any("hue" in x for x in lossy) and any("Painted" in x for x in lossy)
    back, unmapped, warnings = recipe_from_crs(props, "t", 600, 400)
    assert not unmapped and not warnings
    assert back.global_layer.adjustments == {"exposure": -0.7, "contrast": 20, "clarity": -15, "temperature": 12}
    assert back.settings["straighten"] == pytest.approx(2.5) and back.settings["crop"]["x1"] == 0.8
    assert [layer.name for layer in back.layers[1:]] == ["Sky", "Lips", "Grad"]
    lips = back.layer("Lips").mask.components[0]
    assert (lips.kind, lips.params["ref"], back.layer("Lips").opacity) == ("lips", [0.4, 0.3], 0.5)
    grad = back.layer("Grad").mask.components
    assert [(c.kind, c.mode) for c in grad] == [("linear", "add"), ("radial", "subtract")]
    for key in ("cx", "cy", "rx", "ry", "feather"):
        assert grad[1].params[key] == pytest.approx(recipe.layer("Grad").mask.components[1].params[key])
    assert back.layer("Sky").adjustments == {"exposure": -1.0, "saturation": 20.0}


def test_white_balance_kelvin_and_presets_map_to_the_raw_decode():
    props = {q("crs", "WhiteBalance"): "Custom", q("crs", "Temperature"): "6500", q("crs", "Tint"): "+10"}
    recipe, unmapped, warnings = recipe_from_crs(props, "t")
    assert recipe.settings["raw"] == {"white_balance": "kelvin", "temperature": 6500.0, "tint": 10.0}
    back, _ = crs_from_recipe(recipe)
    assert (back[q("crs", "WhiteBalance")], back[q("crs", "Temperature")], back[q("crs", "Tint")]) == (
        "Custom", "6500", "+10")
    recipe, _, _ = recipe_from_crs({q("crs", "WhiteBalance"): "Tungsten"}, "t")
    assert recipe.settings["raw"] == {"white_balance": "tungsten"}
    recipe, unmapped, warnings = recipe_from_crs({q("crs", "WhiteBalance"): "Custom",
                                                  q("crs", "Temperature"): "90000"}, "t")
    assert "raw" not in recipe.settings and "2000..50000" in warnings[0]  # refused at the door
    _, unmapped, _ = recipe_from_crs({q("crs", "WhiteBalance"): "Underwater"}, "t")
    assert unmapped == ["crs:WhiteBalance=Underwater"]


# -- write ------------------------------------------------------------------------------------

def _imported(catalog, tmp_path, name="w.jpg") -> tuple[int, Path]:
    p = photo(tmp_path / "w", name)
    report = run_import(catalog, [p], jobs=1)
    return report.imported[0], p


def test_written_sidecar_agrees_with_exiftool_field_by_field(catalog, tmp_path, exiftool):
    image_id, p = _imported(catalog, tmp_path)
    before = sha256(p)
    with catalog.session() as s:
        library.set_rating(s, [image_id], 4)
        library.set_label(s, [image_id], "purple")
        library.add_keyword(s, [image_id], "Places|Japan|Kyoto")
        library.add_keyword(s, [image_id], "cherry blossom")
        img = s.get(Image, image_id)
        img.title, img.caption, img.creator = "Hanami", "Under the trees", "A. Person"
        img.copyright = "(c) 2024 A. Person"
        img.extra = {**img.extra, "usage_terms": "All rights reserved"}
        img.gps_lat, img.gps_lon, img.gps_alt = 35.0116, 135.7681, 50.5
        v = edits.get_version(s, image_id)
        r = edits.load_recipe(s, v.id)
        r.global_layer.adjustments = {"exposure": 0.5, "shadows": 30}
        r.layers.append(Layer("Subject", adjustments={"exposure": 0.3},
                              mask=MaskDefinition([MaskComponent("subject")])))
        edits.save_recipe(s, v.id, r, "test")
    res = json.loads(run_cli(catalog, "xmp", "write", image_id, "--json").output)
    assert res[0]["status"] == "written"
    sidecar = Path(res[0]["path"])
    assert sidecar == p.with_suffix(".xmp") and sha256(p) == before
    got = exif_json(exiftool, sidecar, "-struct")
    assert got["Rating"] == 4 and got["Label"] == "Purple"
    assert sorted(got["Subject"]) == sorted(["Places", "Japan", "Kyoto", "cherry blossom"])
    assert got["HierarchicalSubject"] == ["Places|Japan|Kyoto"]
    assert (got["Title"], got["Description"], got["Creator"]) == ("Hanami", "Under the trees", ["A. Person"])
    assert (got["Rights"], got["UsageTerms"]) == ("(c) 2024 A. Person", "All rights reserved")
    assert got["GPSLatitude"] == pytest.approx(35.0116, abs=1e-5)
    assert got["GPSLongitude"] == pytest.approx(135.7681, abs=1e-5)
    assert got["GPSAltitude"] == pytest.approx(50.5)
    assert (got["Exposure2012"], got["Shadows2012"]) == ("+0.50", "+30")  # "+0.50", as Lightroom spells it
    corr = got["MaskGroupBasedCorrections"][0]
    assert corr["CorrectionName"] == "Subject" and corr["LocalExposure2012"] == pytest.approx(0.075)
    assert corr["CorrectionMasks"][0]["What"] == "Mask/Image" and corr["CorrectionMasks"][0]["MaskSubType"] == 1
    # Another maskroom catalog restores the edit exactly.
    r2 = read_image_xmp(p, 96, 64)
    assert r2.recipe_from == "maskroom"
    with catalog.session() as s:
        assert Recipe.from_dict(r2.recipe).digest() == edits.load_recipe(s, edits.get_version(s, image_id).id).digest()


def test_sidecar_written_by_exiftool_is_read(catalog, tmp_path, exiftool):
    image_id, p = _imported(catalog, tmp_path, "e.jpg")
    sidecar = p.with_suffix(".xmp")
    subprocess.run([exiftool, "-q", "-o", str(sidecar), "-XMP:Rating=2", "-XMP:Label=Yellow",
                    "-XMP-lr:HierarchicalSubject=Animals|Cats", "-XMP-dc:Subject=Animals", "-XMP-dc:Subject=Cats",
                    "-XMP-dc:Description=A cat", "-XMP-exif:GPSLatitude=48.5 S", "-XMP-exif:GPSLongitude=2.25 E",
                    "-XMP-crs:Exposure2012=-0.5", str(p)], check=True)
    res = json.loads(run_cli(catalog, "xmp", "read", image_id, "--json").output)
    assert res[0]["status"] == "read"
    with catalog.session() as s:
        img = s.get(Image, image_id)
        assert (img.rating, img.color_label, img.caption) == (2, "yellow", "A cat")
        assert (img.gps_lat, img.gps_lon) == (pytest.approx(-48.5), pytest.approx(2.25))
        assert library.image_keywords(s, image_id) == ["Animals|Cats"]
        assert edits.load_recipe(s, edits.get_version(s, image_id).id).global_layer.adjustments == {"exposure": -0.5}


@pytest.mark.parametrize("fixture", ["darktable.xmp", "lightroom_subject.xmp"])
def test_rewrite_keeps_every_foreign_field(catalog, tmp_path, exiftool, fixture):
    p = photo(tmp_path / "rt", "IMG_0042.jpg")
    sidecar = p.with_name("IMG_0042.jpg.xmp") if fixture == "darktable.xmp" else p.with_suffix(".xmp")
    shutil.copy(DATA / fixture, sidecar)
    image_id = run_import(catalog, [p], jobs=1).imported[0]
    before = exif_json(exiftool, sidecar, "-struct", "-G1")
    with catalog.session() as s:
        library.set_rating(s, [image_id], 5)
    run_cli(catalog, "xmp", "write", image_id)
    after = exif_json(exiftool, sidecar, "-struct", "-G1")
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    ours = {"XMP-xmp:Rating", "XMP-xmp:Label", "XMP-xmp:MetadataDate", "XMP-maskroom:Recipe", "XMP-exif:DateTimeOriginal",
            "XMP-crs:MaskGroupBasedCorrections", "System:FileModifyDate", "System:FileAccessDate",
            "System:FileInodeChangeDate", "System:FileSize", "XMP-x:XMPToolkit"}
    assert changed <= ours, changed - ours
    assert after["XMP-xmp:Rating"] == 5
    if fixture == "darktable.xmp":
        assert after["XMP-darktable:History"] == before["XMP-darktable:History"]
        assert after["XMP-darktable:Colorlabels"] == before["XMP-darktable:Colorlabels"]
    else:
        # Lightroom's brush correction could not be read, so its corrections stay as written.
        assert "XMP-crs:MaskGroupBasedCorrections" not in changed
        assert after["XMP-crs:ToneCurvePV2012"] == before["XMP-crs:ToneCurvePV2012"]


def test_status_conflict_and_force(catalog, tmp_path):
    image_id, p = _imported(catalog, tmp_path, "c.jpg")
    run_cli(catalog, "xmp", "write", image_id)
    assert [r.status for r in xmp_service.status(catalog)] == ["in-sync"]
    sidecar = p.with_suffix(".xmp")
    sidecar.write_text(sidecar.read_text().replace('xmp:Rating="0"', 'xmp:Rating="3"'))
    assert xmp_service.changed_image_ids(catalog) == {image_id}
    res = run_cli(catalog, "xmp", "write", image_id, ok=False)
    assert res.exit_code == 1 and "changed outside maskroom" in res.output
    assert 'xmp:Rating="3"' in sidecar.read_text()  # not overwritten
    run_cli(catalog, "xmp", "read", image_id)
    assert image_row(catalog, "c.jpg").rating == 3
    assert [r.status for r in xmp_service.status(catalog)] == ["in-sync"]
    sidecar.write_text(sidecar.read_text().replace('xmp:Rating="3"', 'xmp:Rating="1"'))
    run_cli(catalog, "xmp", "write", image_id, "--force")
    assert 'xmp:Rating="3"' in sidecar.read_text()
    sidecar.unlink()
    assert [r.status for r in xmp_service.status(catalog)] == ["missing"]


def test_auto_write_setting_writes_after_a_rating(catalog, tmp_path, exiftool):
    image_id, p = _imported(catalog, tmp_path, "auto.jpg")
    run_cli(catalog, "rate", 2, image_id)
    assert not p.with_suffix(".xmp").exists()  # off by default
    assert "on" in run_cli(catalog, "xmp", "auto-write", "on").output
    run_cli(catalog, "rate", 4, image_id)
    assert exif_json(exiftool, p.with_suffix(".xmp"))["Rating"] == 4
    run_cli(catalog, "edit", image_id, "--set", "exposure=0.8")
    assert float(exif_json(exiftool, p.with_suffix(".xmp"))["Exposure2012"]) == 0.8
    with catalog.session() as s:
        assert s.scalar(select(XmpSidecarState.last_action)) == "write"


def test_reject_writes_rating_minus_one_and_reads_back(catalog, tmp_path):
    image_id, p = _imported(catalog, tmp_path, "rej.jpg")
    run_cli(catalog, "flag", "reject", image_id)
    xmp_service.write(catalog, [image_id])
    props = properties(parse_bytes(p.with_suffix(".xmp").read_bytes(), "t"))
    assert props[q("xmp", "Rating")] == "-1"
    assert read_image_xmp(p).fields.flag == "reject"
