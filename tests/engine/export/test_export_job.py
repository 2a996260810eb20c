"""End-to-end export: catalog -> render -> files, read back and checked."""
from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import cv2
import exifread
import numpy as np
import pyexiv2
import pytest
from click.testing import CliRunner
from PIL import Image, ImageCms, ImageOps

from maskroom.catalog.schema import EditVersion, Folder, Image as ImageRow, Keyword
from maskroom.cli import main
from maskroom.engine.export.job import ExportSettings, master_version_ids, plan_export, run_export
from maskroom.core.progress import RecordingProgress
from conftest import tree_digest

pytestmark = pytest.mark.catalog

FALCON = "immich_prairie_falcon.jpg"
ROTATED = "immich_portrait-orientation-6.jpg"
UPRIGHT = "immich_portrait_curies.jpg"


def _add_images(catalog, folder: Path, names: list[str]) -> dict[str, int]:
    """Image rows for files in ``folder``, with metadata a camera would have written."""
    ids = {}
    with catalog.session() as s:
        f = Folder(path=str(folder.resolve()))
        s.add(f)
        places = Keyword(name="Places")
        alaska = Keyword(name="Alaska", parent=places)
        bird = Keyword(name="Falcon")
        s.add_all([places, alaska, bird])
        for i, name in enumerate(names):
            p = (folder / name).resolve()
            try:
                with Image.open(p) as im:
                    w, h = ImageOps.exif_transpose(im).size
            except Exception:
                w, h = 1, 1  # a corrupt file still gets a row, as an importer may have made
            row = ImageRow(
                folder=f,
                filename=name,
                path=str(p),
                file_size=p.stat().st_size,
                mtime=p.stat().st_mtime,
                content_hash=f"hash{i}-{name}",
                format=p.suffix.lstrip(".").lower(),
                width=w,
                height=h,
                capture_time=datetime(2024, 5, 6, 7, 8, i),
                camera_make="Canon",
                camera_model="Canon EOS R5",
                lens="RF24-70mm F2.8 L IS USM",
                focal_length=35.0,
                aperture=2.8,
                shutter=1 / 250,
                iso=400,
                rating=(i % 5) + 1,
                copyright="© 2024 Test Studio", creator="Ann Example",
            )
            row.keywords = [alaska, bird] if name == FALCON else [alaska]
            s.add(row)
            s.flush()
            ids[name] = row.id
    return ids


def _versions(catalog, ids) -> list[int]:
    with catalog.session() as s:
        return master_version_ids(s, list(ids))


def _icc_description(path: Path) -> str:
    with pyexiv2.Image(str(path)) as im:
        icc = im.read_icc()
    assert icc, f"{path}: no ICC profile"
    return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip()


@pytest.fixture
def shoot(catalog, sample_copy):
    names = sorted(p.name for p in sample_copy.iterdir())
    return catalog, sample_copy, _add_images(catalog, sample_copy, names)


def test_jpeg_long_edge_icc_metadata_originals_untouched(shoot, tmp_path):
    catalog, folder, ids = shoot
    before = tree_digest(folder)
    out = tmp_path / "out"
    pick = [ids[FALCON], ids[UPRIGHT], ids["immich_cyclamen_persicum.jpg"]]
    settings = ExportSettings(long_edge=200, sharpen="screen", template="{date:%Y%m%d}_{seq:03}_{name}")
    progress = RecordingProgress()
    report = run_export(catalog, _versions(catalog, pick), out, settings, progress=progress)
    assert report.ok and len(report.exported) == 3, report.failed
    assert [e[0] for e in progress.events].count("advance") == 3
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [
        "20240506_001_immich_prairie_falcon.jpg",
        "20240506_002_immich_portrait_curies.jpg",
        "20240506_003_immich_cyclamen_persicum.jpg",
    ]
    with catalog.session() as s:
        shapes = {i: (s.get(ImageRow, i).width, s.get(ImageRow, i).height) for i in pick}
    for f, image_id in zip(files, pick):
        with Image.open(f) as im:
            assert im.format == "JPEG" and im.mode == "RGB"
            w, h = im.size
        assert max(w, h) == 200
        sw, sh = shapes[image_id]
        assert abs(w / h - sw / sh) < 0.02  # aspect kept
        assert "srgb" in _icc_description(f).lower()
    falcon = files[0]
    with open(falcon, "rb") as fh:
        tags = exifread.process_file(fh, details=False)
    assert str(tags["Image Model"]) == "Canon EOS R5"
    assert str(tags["EXIF LensModel"]) == "RF24-70mm F2.8 L IS USM"
    assert str(tags["EXIF DateTimeOriginal"]) == "2024:05:06 07:08:06"
    assert str(tags["EXIF ExposureTime"]) == "1/250"
    assert str(tags["Image Orientation"]).startswith("Horizontal")
    with pyexiv2.Image(str(falcon)) as im:
        xmp, iptc, exif = im.read_xmp(), im.read_iptc(), im.read_exif()
    assert set(xmp["Xmp.dc.subject"]) == {"Places", "Alaska", "Falcon"}
    assert set(iptc["Iptc.Application2.Keywords"]) == {"Places", "Alaska", "Falcon"}
    assert "Places|Alaska" in xmp["Xmp.lr.hierarchicalSubject"]
    with catalog.session() as s:
        assert xmp["Xmp.xmp.Rating"] == str(s.get(ImageRow, ids[FALCON]).rating)
    assert exif["Exif.Image.Copyright"] == "© 2024 Test Studio"
    assert exif["Exif.Image.Artist"] == "Ann Example"
    # the tags EXIF requires once a block exists (validators flag files without them)
    w, h = Image.open(falcon).size
    assert (exif["Exif.Photo.PixelXDimension"], exif["Exif.Photo.PixelYDimension"]) == (str(w), str(h))
    assert exif["Exif.Photo.ExifVersion"] == "48 50 51 50" and exif["Exif.Photo.ComponentsConfiguration"]
    assert tree_digest(folder) == before


def test_exported_files_pass_exiftool_validate(shoot, tmp_path, exiftool):
    import subprocess

    catalog, _folder, ids = shoot
    vids = _versions(catalog, [ids[FALCON]])
    for fmt, bits, mode in (("jpeg", 8, "all"), ("png", 16, "all"), ("tiff", 16, "all"), ("jpeg", 8, "copyright"),
                            ("tiff", 16, "copyright"), ("jpeg", 8, "none")):
        out_dir = tmp_path / f"{fmt}-{mode}"
        run_export(catalog, vids, out_dir, ExportSettings(format=fmt, bits=bits, long_edge=96, metadata=mode))
        (f,) = out_dir.iterdir()
        out = subprocess.run([exiftool, "-validate", "-warning", "-a", str(f)], capture_output=True, text=True).stdout
        assert "Validate                        : OK" in out, out


def test_rotated_original_exports_upright(shoot, tmp_path):
    catalog, _folder, ids = shoot
    out = tmp_path / "o"
    report = run_export(catalog, _versions(catalog, [ids[ROTATED], ids[UPRIGHT]]), out, ExportSettings(long_edge=300))
    assert report.ok, report.failed
    rot = np.asarray(Image.open(out / ROTATED).convert("L"), np.float32)
    up = np.asarray(Image.open(out / UPRIGHT).convert("L"), np.float32)
    # The same photo: stored sideways with Orientation=6, and stored upright.
    assert rot.shape == up.shape and rot.shape[1] > rot.shape[0]
    assert np.abs(rot - up).mean() < 12
    with pyexiv2.Image(str(out / ROTATED)) as im:
        assert im.read_exif()["Exif.Image.Orientation"] == "1"


@pytest.mark.parametrize(
    "fmt,bits,colorspace,needle",
    [("tiff", 16, "display-p3", "p3"), ("png", 16, "adobe-rgb", "adobe"), ("png", 8, "srgb", "srgb")],
)
def test_formats_bits_and_profiles(shoot, tmp_path, fmt, bits, colorspace, needle):
    catalog, _folder, ids = shoot
    out = tmp_path / "o"
    settings = ExportSettings(format=fmt, bits=bits, colorspace=colorspace, long_edge=160)
    report = run_export(catalog, _versions(catalog, [ids[FALCON]]), out, settings)
    assert report.ok, report.failed
    (f,) = out.iterdir()
    assert f.suffix == {"tiff": ".tif", "png": ".png"}[fmt]
    px = cv2.imread(str(f), cv2.IMREAD_UNCHANGED)
    assert px.dtype == (np.uint16 if bits == 16 else np.uint8) and px.shape[2] == 3
    if bits == 16:
        assert np.mean(px % 257 != 0) > 0.5, "16-bit file holds only 8-bit values"
    assert needle in _icc_description(f).lower()
    with pyexiv2.Image(str(f)) as im:
        assert im.read_xmp()["Xmp.dc.subject"]


def test_edit_and_crop_are_exported_at_the_exact_long_edge(shoot, tmp_path):
    from maskroom.catalog.edits import get_version, load_recipe, save_recipe

    catalog, _folder, ids = shoot
    (vid,) = _versions(catalog, [ids[FALCON]])
    run_export(catalog, [vid], tmp_path / "before", ExportSettings(format="png"))
    with catalog.session() as s:
        recipe = load_recipe(s, vid)
        recipe.global_layer.adjustments["exposure"] = 1.0
        recipe.settings["crop"] = {"x0": 0.2, "y0": 0.1, "x1": 0.8, "y1": 0.9}
        save_recipe(s, get_version(s, ids[FALCON]).id, recipe, "brighter, cropped")
    rep = run_export(catalog, [vid], tmp_path / "after", ExportSettings(format="png", long_edge=300))
    assert rep.ok, rep.failed
    before = Image.open(tmp_path / "before" / "immich_prairie_falcon.png").convert("L")
    after = Image.open(tmp_path / "after" / "immich_prairie_falcon.png").convert("L")
    assert before.size == (800, 533)
    w, h = after.size
    assert max(w, h) == 300  # exact, although the crop is applied after scaling the source
    assert abs(w / h - (0.6 * 800) / (0.8 * 533)) < 0.02
    region = before.crop((160, 53, 640, 480)).resize(after.size)
    assert np.mean(after) > np.mean(region) + 15  # +1 EV really is in the file


def test_virtual_copies_with_all_versions(shoot, tmp_path):
    from maskroom.catalog.edits import create_virtual_copy

    catalog, _folder, ids = shoot
    with catalog.session() as s:
        create_virtual_copy(s, ids[FALCON], name="Square crop")
    r = _cli(catalog, "export", ids[FALCON], ids[UPRIGHT], "--all-versions", "--to", tmp_path / "o",
             "--long-edge", "64", "--template", "{name} {version}")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "immich_portrait_curies Master.jpg", "immich_prairie_falcon Master.jpg",
        "immich_prairie_falcon Square crop.jpg",
    ]


def test_colour_spaces_differ_on_saturated_pixels(shoot, tmp_path):
    catalog, _folder, ids = shoot
    outs = {}
    for cs in ("srgb", "adobe-rgb"):
        out = tmp_path / cs
        run_export(catalog, _versions(catalog, [ids["immich_cyclamen_persicum.jpg"]]), out,
                   ExportSettings(format="png", colorspace=cs, long_edge=120))
        outs[cs] = np.asarray(Image.open(next(out.iterdir())).convert("RGB"), np.float32)
    # the same colours in a wider gamut are smaller numbers on saturated pixels
    assert np.abs(outs["srgb"] - outs["adobe-rgb"]).mean() > 1.0


def test_conflict_modes(shoot, tmp_path):
    catalog, _folder, ids = shoot
    out = tmp_path / "o"
    vids = _versions(catalog, [ids[FALCON], ids[UPRIGHT]])
    run_export(catalog, vids, out, ExportSettings(long_edge=100))
    first = tree_digest(out)
    assert sorted(first) == sorted([FALCON, UPRIGHT])

    rep = run_export(catalog, vids, out, ExportSettings(long_edge=100, on_conflict="skip"))
    assert len(rep.skipped) == 2 and not rep.exported and tree_digest(out) == first

    # The same photos, edits and settings again: recognised, not copied as name-1.jpg.
    rep = run_export(catalog, vids, out, ExportSettings(long_edge=100, on_conflict="unique"))
    assert len(rep.skipped) == 2 and not rep.exported and tree_digest(out) == first
    rep = run_export(catalog, vids, out, ExportSettings(long_edge=110, on_conflict="unique"))
    assert sorted(Path(p).name for p in rep.exported) == ["immich_portrait_curies-1.jpg", "immich_prairie_falcon-1.jpg"]
    assert {k: v for k, v in tree_digest(out).items() if k in first} == first

    rep = run_export(catalog, vids, out, ExportSettings(long_edge=120, on_conflict="overwrite"))
    assert sorted(Path(p).name for p in rep.exported) == [UPRIGHT, FALCON]
    after = tree_digest(out)
    assert len(after) == 4 and all(after[k] != first[k] for k in first)
    assert max(Image.open(out / FALCON).size) == 120


def test_same_name_twice_in_one_batch_gets_unique_names(shoot, tmp_path):
    catalog, _folder, ids = shoot
    vids = _versions(catalog, list(ids.values())[:4])
    with catalog.session() as s:
        tasks = plan_export(s, vids, tmp_path, ExportSettings(template="{camera}", on_conflict="overwrite"))
    names = [Path(t.target).name for t in tasks]
    assert names == ["Canon EOS R5.jpg", "Canon EOS R5-1.jpg", "Canon EOS R5-2.jpg", "Canon EOS R5-3.jpg"]


def test_export_into_originals_folder_never_replaces_an_original(shoot):
    catalog, folder, ids = shoot
    before = tree_digest(folder)
    rep = run_export(catalog, _versions(catalog, [ids[FALCON]]), folder,
                     ExportSettings(long_edge=64, on_conflict="overwrite"))
    assert rep.ok and Path(rep.exported[0]).name == "immich_prairie_falcon-1.jpg"
    after = tree_digest(folder)
    assert {k: after[k] for k in before} == before


def test_corrupt_original_is_reported_and_the_rest_exported(catalog, sample_copy, tmp_path):
    bad = sample_copy / "zz_broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg" + bytes(200))
    ids = _add_images(catalog, sample_copy, [FALCON, "zz_broken.jpg", UPRIGHT])
    before = tree_digest(sample_copy)
    progress = RecordingProgress()
    rep = run_export(catalog, _versions(catalog, ids.values()), tmp_path / "o", ExportSettings(long_edge=80),
                     progress=progress)
    assert len(rep.exported) == 2 and len(rep.failed) == 1
    path, reason = rep.failed[0]
    assert path == str(bad.resolve()) and reason and path not in reason  # the path once, at the start
    messages = [e[1] for e in progress.events if e[0] == "message"]
    assert messages == [f"{path}: {reason}"] and "\n" not in messages[0]
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [UPRIGHT, FALCON]
    assert tree_digest(sample_copy) == before


def test_parallel_jobs_match_serial(shoot, tmp_path):
    catalog, _folder, ids = shoot
    vids = _versions(catalog, [ids[FALCON], ids[UPRIGHT], ids["immich_denali.webp"]])
    settings = ExportSettings(format="png", long_edge=96)
    serial = run_export(catalog, vids, tmp_path / "a", settings, jobs=1)
    parallel = run_export(catalog, vids, tmp_path / "b", settings, jobs=2)
    assert serial.ok and parallel.ok, (serial.failed, parallel.failed)
    for name in (FALCON, UPRIGHT, "immich_denali.webp"):
        stem = Path(name).stem + ".png"
        a = np.asarray(Image.open(tmp_path / "a" / stem))
        b = np.asarray(Image.open(tmp_path / "b" / stem))
        assert np.array_equal(a, b)


# -- the CLI -------------------------------------------------------------------
def _cli(catalog, *args):
    return CliRunner().invoke(main, ["--catalog", catalog.location.url, *map(str, args)], catch_exceptions=False)


def test_cli_export_presets_and_overrides(shoot, tmp_path):
    catalog, folder, ids = shoot
    before = tree_digest(folder)
    r = _cli(catalog, "export-preset", "save", "web", "--format", "jpeg", "--long-edge", "150", "--quality", "80",
             "--template", "{seq:02}-{name}", "--metadata", "copyright")
    assert r.exit_code == 0, r.output
    r = _cli(catalog, "export-preset", "list")
    assert r.exit_code == 0 and "web:" in r.output and "long_edge=150" in r.output
    r = _cli(catalog, "export-preset", "save", "print", "--format", "tif", "--bits", "16")
    r = _cli(catalog, "export-preset", "list", "--json")
    stored = {p["name"]: p["settings"] for p in json.loads(r.output)}
    assert stored["print"] == {"format": "tiff", "bits": 16}
    out = tmp_path / "o"
    r = _cli(catalog, "export", ids[FALCON], ids[UPRIGHT], "--to", out, "--preset", "web", "--long-edge", "100")
    assert r.exit_code == 0, r.output
    assert "exported 2, skipped 0, failed 0" in r.output
    files = sorted(out.iterdir())
    assert [f.name for f in files] == ["01-immich_prairie_falcon.jpg", "02-immich_portrait_curies.jpg"]
    assert max(Image.open(files[0]).size) == 100  # the flag beat the preset's 150
    with pyexiv2.Image(str(files[0])) as im:
        exif, xmp = im.read_exif(), im.read_xmp()
    assert exif["Exif.Image.Copyright"] == "© 2024 Test Studio" and "Exif.Image.Model" not in exif
    assert "Xmp.xmp.Rating" not in xmp
    r = _cli(catalog, "export-preset", "delete", "web")
    assert r.exit_code == 0
    r = _cli(catalog, "export", ids[FALCON], "--to", out, "--preset", "web")
    assert r.exit_code == 1 and "no export preset named 'web'" in r.output
    assert tree_digest(folder) == before


def test_cli_jpeg_16_bit_is_refused_with_one_line(shoot, tmp_path):
    catalog, _folder, ids = shoot
    r = _cli(catalog, "export", ids[FALCON], "--to", tmp_path / "o", "--bits", "16")
    assert r.exit_code == 1 and "JPEG is 8-bit only" in r.output
    assert not (tmp_path / "o").exists()
    r = _cli(catalog, "export-preset", "save", "bad", "--format", "jpeg", "--bits", "16")
    assert r.exit_code == 1 and "JPEG is 8-bit only" in r.output


def test_cli_template_cannot_escape(shoot, tmp_path):
    catalog, _folder, ids = shoot
    base = tmp_path / "exports"
    out = base / "deep" / "out"
    r = _cli(catalog, "export", ids[FALCON], "--to", out, "--long-edge", "64", "--template", "../../../{name}")
    assert r.exit_code == 0, r.output
    r = _cli(catalog, "export", ids[FALCON], "--to", out, "--long-edge", "64", "--template", "/tmp/{name}")
    assert r.exit_code == 0, r.output
    written = sorted(p.relative_to(base) for p in base.rglob("*") if p.is_file())
    assert written == [Path("deep/out/immich_prairie_falcon.jpg"), Path("deep/out/tmp/immich_prairie_falcon.jpg")]


def test_cli_failures_reported_and_exit_status(catalog, sample_copy, tmp_path):
    bad = sample_copy / "broken.jpg"
    bad.write_bytes(b"garbage" * 10)
    ids = _add_images(catalog, sample_copy, [FALCON, "broken.jpg"])
    r = _cli(catalog, "export", ids[FALCON], ids["broken.jpg"], 9999, "--to", tmp_path / "o", "--long-edge", "64")
    assert r.exit_code == 1
    lines = r.output.splitlines()
    assert any(line.startswith(f"{bad.resolve()}: ") for line in lines), r.output
    assert "id 9999: no such image" in lines
    assert "exported 1, skipped 0, failed 2" in r.output
    assert (tmp_path / "o" / FALCON).is_file()


def test_cli_all_and_selection_errors(shoot, tmp_path):
    catalog, _folder, ids = shoot
    r = _cli(catalog, "export", "--to", tmp_path / "o")
    assert r.exit_code == 1 and "exactly one" in r.output
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    r = _cli(catalog, "export", ids[FALCON], "--to", blocker / "out")
    assert r.exit_code == 1 and "cannot create the export folder" in r.output and len(r.output.splitlines()) == 1
    r = _cli(catalog, "export", "--all", "--to", tmp_path / "o", "--long-edge", "48", "--jobs", "2", "--json")
    assert r.exit_code == 0, r.output
    assert len(list((tmp_path / "o").iterdir())) == len(ids)


@pytest.mark.parametrize("jobs", [1, 2])
def test_cancel_stops_the_batch_and_leaves_no_partial_files(shoot, tmp_path, jobs):
    from maskroom.core.progress import Progress

    catalog, _folder, ids = shoot
    vids = _versions(catalog, list(ids.values()))
    done = []
    progress = Progress(on_advance=lambda n, item: done.append(item), cancelled=lambda: len(done) >= 1)
    rep = run_export(catalog, vids, tmp_path / "o", ExportSettings(long_edge=64), jobs=jobs, progress=progress)
    assert rep.interrupted and "interrupted" in rep.summary()
    assert 1 <= len(rep.exported) < len(vids)
    files = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert files == sorted(Path(p).name for p in rep.exported)  # no .export-* leftovers


@pytest.mark.parametrize("colorspace", ["display-p3", "adobe-rgb"])
def test_embedded_profile_matches_the_pixels(shoot, tmp_path, colorspace):
    """Colour-managed software converting the file with its own profile sees the sRGB export."""
    catalog, _folder, ids = shoot
    vids = _versions(catalog, [ids["immich_cyclamen_persicum.jpg"], ids["immich_el_torcal_rocks.jpg"]])
    run_export(catalog, vids, tmp_path / "srgb", ExportSettings(format="png", long_edge=200))
    run_export(catalog, vids, tmp_path / "wide", ExportSettings(format="png", long_edge=200, colorspace=colorspace))
    srgb_profile = ImageCms.createProfile("sRGB")
    for f in sorted((tmp_path / "wide").iterdir()):
        wide = Image.open(f)
        profile = ImageCms.ImageCmsProfile(io.BytesIO(wide.info["icc_profile"]))
        converted = ImageCms.profileToProfile(wide, profile, srgb_profile, outputMode="RGB")
        ref = np.asarray(Image.open(tmp_path / "srgb" / f.name).convert("RGB"), np.float32)
        got = np.asarray(converted, np.float32)
        raw = np.asarray(wide.convert("RGB"), np.float32)
        assert np.abs(got - ref).mean() < 1.5, f.name
        assert np.abs(raw - ref).mean() > 2 * np.abs(got - ref).mean()  # the profile did real work


def test_imported_shoot_exports_with_its_own_exif(catalog, sample_copy, tmp_path):
    """Through the real importer: what the cameras wrote reaches the exported files."""
    from maskroom.engine.importer import run_import

    before = tree_digest(sample_copy)
    run_import(catalog, [sample_copy])
    with catalog.session() as s:
        ids = {row.filename: row.id for row in s.query(ImageRow)}
    assert len(ids) == 10
    out = tmp_path / "o"
    r = _cli(catalog, "export", "--all", "--to", out, "--long-edge", "128", "--template", "{camera}_{name}")
    assert r.exit_code == 0, r.output
    assert "exported 10, skipped 0, failed 0" in r.output
    names = sorted(p.name for p in out.iterdir())
    assert "Canon EOS R5_immich_prairie_falcon.jpg" in names
    assert "NIKON D750_immich_tanners_ridge.jpg" in names
    assert "_immich_portrait_curies.jpg" in names  # no camera in this file's EXIF
    with open(out / "Canon EOS R5_immich_prairie_falcon.jpg", "rb") as fh:
        tags = exifread.process_file(fh, details=False)
    assert str(tags["EXIF ExposureTime"]) == "1/4000"
    assert str(tags["EXIF FNumber"]) == "71/10"
    assert str(tags["EXIF ISOSpeedRatings"]) == "1000"
    assert str(tags["EXIF DateTimeOriginal"]) == "2022:03:31 11:31:56"
    assert str(tags["Image ImageDescription"]).startswith("Adult female prairie falcon")
    gps_file = next(p for p in out.iterdir() if "thompson" in p.name)
    with open(gps_file, "rb") as fh:
        tags = exifread.process_file(fh, details=False)
    lat = [float(v) for v in tags["GPS GPSLatitude"].values]
    assert abs(lat[0] + lat[1] / 60 + lat[2] / 3600 - 39.115) < 1e-4
    rotated = Image.open(next(p for p in out.iterdir() if "orientation-6" in p.name))
    assert rotated.size[0] > rotated.size[1]  # stored sideways, exported upright
    with pyexiv2.Image(str(out / "PENTAX K10D_immich_notocactus_minimus.jpg")) as im:
        assert im.read_exif()["Exif.Image.Model"] == "PENTAX K10D"  # EXIF padding trimmed
    assert tree_digest(sample_copy) == before


def test_cli_filter_selects_and_sorts(shoot, tmp_path):
    catalog, _folder, ids = shoot
    with catalog.session() as s:
        want = sorted(row.filename for row in s.query(ImageRow).filter(ImageRow.rating >= 4))
    r = _cli(catalog, "export", "--filter", "rating>=4", "--to", tmp_path / "a", "--long-edge", "40",
             "--format", "png", "--template", "{seq}_{name}", "--sort", "-name")
    assert r.exit_code == 0, r.output
    got = sorted((tmp_path / "a").iterdir(), key=lambda p: int(p.name.split("_")[0]))
    assert [p.name.split("_", 1)[1] for p in got] == [Path(n).stem + ".png" for n in sorted(want, reverse=True)]
    r = _cli(catalog, "export", "--filter", "keyword=Falcon", "--to", tmp_path / "b", "--long-edge", "40")
    assert r.exit_code == 0 and [p.name for p in (tmp_path / "b").iterdir()] == [FALCON]
    r = _cli(catalog, "export", "--filter", "stars=5", "--to", tmp_path / "c")
    assert r.exit_code == 1 and "unknown key 'stars'" in r.output and len(r.output.splitlines()) == 1


def test_symlink_out_of_the_export_folder_fails_that_image_only(shoot, tmp_path):
    import os

    catalog, _folder, ids = shoot
    out, elsewhere = tmp_path / "o", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    with catalog.session() as s:
        falcon_rating = s.get(ImageRow, ids[FALCON]).rating
        assert s.get(ImageRow, ids[UPRIGHT]).rating != falcon_rating
    os.symlink(elsewhere, out / f"r{falcon_rating}")  # only the falcon's folder leads out
    vids = _versions(catalog, [ids[FALCON], ids[UPRIGHT]])
    rep = run_export(catalog, vids, out, ExportSettings(long_edge=48, template="r{rating}/{name}"))
    assert len(rep.failed) == 1 and len(rep.exported) == 1
    path, why = rep.failed[0]
    assert path.endswith(FALCON) and "outside" in why
    assert Path(rep.exported[0]).name == UPRIGHT
    assert not list(elsewhere.iterdir())


def test_reexport_of_an_unchanged_photo_is_recognised_not_copied(shoot, tmp_path):
    """Issue 13: the same photo, edit and settings to the same place is skipped, also when
    its earlier export got a -N name; a changed edit is written anew; a file the user
    replaced under that name is not taken for ours."""
    from maskroom.catalog.edits import load_recipe, save_recipe

    catalog, _folder, ids = shoot
    out = tmp_path / "o"
    vids = _versions(catalog, [ids[FALCON]])
    (out).mkdir()
    (out / FALCON).write_bytes(b"someone else's file")  # so our export becomes -1
    rep = run_export(catalog, vids, out, ExportSettings(long_edge=80))
    assert [Path(p).name for p in rep.exported] == ["immich_prairie_falcon-1.jpg"]
    before = tree_digest(out)
    rep = run_export(catalog, vids, out, ExportSettings(long_edge=80))
    assert rep.exported == [] and [Path(p).name for p in rep.skipped] == ["immich_prairie_falcon-1.jpg"]
    assert tree_digest(out) == before
    with catalog.session() as s:
        recipe = load_recipe(s, vids[0])
        recipe.global_layer.adjustments["exposure"] = 0.5
        save_recipe(s, vids[0], recipe, "brighter")
    rep = run_export(catalog, vids, out, ExportSettings(long_edge=80))
    assert [Path(p).name for p in rep.exported] == ["immich_prairie_falcon-2.jpg"]
    (out / "immich_prairie_falcon-2.jpg").write_bytes(b"replaced by hand")
    rep = run_export(catalog, vids, out, ExportSettings(long_edge=80))
    assert [Path(p).name for p in rep.exported] == ["immich_prairie_falcon-3.jpg"]
