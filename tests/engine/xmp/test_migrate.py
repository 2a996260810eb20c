"""Migration from Lightroom Classic and darktable.

No public .lrcat or library.db with a licence that allows redistribution was found
(searched: public repositories hold schema dumps and readers, not catalogs with their
photos), so both fixtures are built here from the published schemas: the tables and
column names of a Lightroom Classic 13 catalog (``sqlite3 .schema`` of a .lrcat) and
of darktable 4.x's library.db/data.db, holding only the rows these tests need.
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image as PILImage
from sqlalchemy import func, select

from maskroom.catalog import edits, library
from maskroom.catalog.schema import Collection, EditVersion, Image
from maskroom.engine.migrate import MigrateError
from maskroom.services import migrate

from conftest import run_cli, sha256

pytestmark = pytest.mark.catalog
from conftest import DATA as TEST_DATA  # noqa: E402

DATA = TEST_DATA / "xmp"

LR_SCHEMA = """
CREATE TABLE AgLibraryRootFolder (id_local INTEGER PRIMARY KEY, id_global UNIQUE NOT NULL,
  absolutePath UNIQUE NOT NULL DEFAULT '', name NOT NULL DEFAULT '', relativePathFromCatalog);
CREATE TABLE AgLibraryFolder (id_local INTEGER PRIMARY KEY, id_global UNIQUE NOT NULL, parentId INTEGER,
  pathFromRoot NOT NULL DEFAULT '', rootFolder INTEGER NOT NULL DEFAULT 0, visibility INTEGER);
CREATE TABLE AgLibraryFile (id_local INTEGER PRIMARY KEY, id_global UNIQUE NOT NULL, baseName NOT NULL DEFAULT '',
  errorMessage, errorTime, extension NOT NULL DEFAULT '', externalModTime, folder INTEGER NOT NULL DEFAULT 0,
  idx_filename NOT NULL DEFAULT '', importHash, lc_idx_filename NOT NULL DEFAULT '',
  lc_idx_filenameExtension NOT NULL DEFAULT '', md5, modTime, originalFilename NOT NULL DEFAULT '',
  sidecarExtensions);
CREATE TABLE Adobe_images (id_local INTEGER PRIMARY KEY, id_global UNIQUE NOT NULL,
  aspectRatioCache NOT NULL DEFAULT -1, bitDepth NOT NULL DEFAULT 0, captureTime,
  colorChannels NOT NULL DEFAULT 0, colorLabels NOT NULL DEFAULT '', colorMode NOT NULL DEFAULT -1,
  copyCreationTime NOT NULL DEFAULT -63113817600, copyName, copyReason, developSettingsIDCache,
  editLock INTEGER NOT NULL DEFAULT 0, fileFormat NOT NULL DEFAULT 'unset', fileHeight, fileWidth,
  hasMissingSidecars INTEGER, masterImage INTEGER, orientation, originalCaptureTime, originalRootEntity INTEGER,
  panningDistanceH, panningDistanceV, pick NOT NULL DEFAULT 0, positionInFolder NOT NULL DEFAULT 'z',
  propertiesCache, pyramidIDCache, rating, rootFile INTEGER NOT NULL DEFAULT 0, sidecarStatus,
  touchCount NOT NULL DEFAULT 0, touchTime NOT NULL DEFAULT 0);
CREATE TABLE AgLibraryKeyword (id_local INTEGER PRIMARY KEY, id_global UNIQUE NOT NULL,
  dateCreated NOT NULL DEFAULT '', genealogy NOT NULL DEFAULT '', imageCountCache DEFAULT -1,
  includeOnExport INTEGER NOT NULL DEFAULT 1, includeParents INTEGER NOT NULL DEFAULT 1,
  includeSynonyms INTEGER NOT NULL DEFAULT 1, keywordType, lastApplied, lc_name, name, parent INTEGER);
CREATE TABLE AgLibraryKeywordImage (id_local INTEGER PRIMARY KEY, image INTEGER NOT NULL DEFAULT 0,
  tag INTEGER NOT NULL DEFAULT 0);
CREATE TABLE AgLibraryCollection (id_local INTEGER PRIMARY KEY, creationId NOT NULL DEFAULT '',
  genealogy NOT NULL DEFAULT '', imageCount, name NOT NULL DEFAULT '', parent INTEGER,
  systemOnly NOT NULL DEFAULT '');
CREATE TABLE AgLibraryCollectionImage (id_local INTEGER PRIMARY KEY, collection INTEGER NOT NULL DEFAULT 0,
  image INTEGER NOT NULL DEFAULT 0, pick NOT NULL DEFAULT 0, positionInCollection);
CREATE TABLE Adobe_AdditionalMetadata (id_local INTEGER PRIMARY KEY, id_global UNIQUE NOT NULL,
  additionalInfoSet INTEGER NOT NULL DEFAULT 0, embeddedXmp INTEGER NOT NULL DEFAULT 0,
  externalXmpIsDirty INTEGER NOT NULL DEFAULT 0, image INTEGER, incrementalWhiteBalance INTEGER NOT NULL DEFAULT 0,
  internalXmpDigest, isRawFile INTEGER NOT NULL DEFAULT 0, lastSynchronizedHash,
  lastSynchronizedTimestamp NOT NULL DEFAULT -63113817600, metadataPresetID, metadataVersion,
  monochrome INTEGER NOT NULL DEFAULT 0, xmp NOT NULL DEFAULT '');
CREATE TABLE Adobe_imageDevelopSettings (id_local INTEGER PRIMARY KEY, allowFastRender INTEGER, beforeSettingsIDCache,
  croppedHeight, croppedWidth, digest, fileHeight, fileWidth, grayscale INTEGER, hasDevelopAdjustments INTEGER,
  hasDevelopAdjustmentsEx, historySettingsID, image INTEGER, processVersion, settingsID, snapshotID, text,
  validatedForVersion, whiteBalance);
CREATE TABLE AgLibraryIPTC (id_local INTEGER PRIMARY KEY, altTextAccessibility, caption, copyright,
  extDescrAccessibility, image INTEGER NOT NULL DEFAULT 0);
"""

COPY_XMP = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
 crs:Exposure2012="-0.50" crs:Saturation="-100" crs:ConvertToGrayscale="True"/></rdf:RDF></x:xmpmeta>"""


def photos(folder: Path, names) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for n, name in enumerate(names):
        p = folder / name
        PILImage.new("RGB", (80, 60), (40 * n % 255, 90, 160)).save(p)
        out.append(p)
    return out


def build_lrcat(path: Path, root: str) -> None:
    """A small Lightroom catalog: 3 photos (one missing on disk), a virtual copy, a
    keyword tree, a collection inside a collection set, a smart collection."""
    db = sqlite3.connect(path)
    db.executescript(LR_SCHEMA)
    db.execute("INSERT INTO AgLibraryRootFolder VALUES (1, 'r1', ?, 'Photos', NULL)", (root,))
    db.execute("INSERT INTO AgLibraryFolder VALUES (2, 'f2', NULL, '2024/Kyoto/', 1, NULL)")
    for fid, base in ((10, "IMG_0001"), (11, "IMG_0002"), (12, "IMG_0003")):
        db.execute("INSERT INTO AgLibraryFile (id_local, id_global, baseName, extension, folder, originalFilename) "
                   "VALUES (?, ?, ?, 'jpg', 2, ?)", (fid, f"file{fid}", base, base + ".jpg"))
    rows = [  # id, file, rating, pick, label, capture, master, copyName
        (100, 10, 4, 1, "Red", "2024-05-01T09:30:15.20", None, None),
        (101, 11, 2, -1, "", "2024-05-01T09:31:00", None, None),
        (102, 12, 5, 0, "Blue", "2024-05-01T09:32:00", None, None),
        (103, 10, 0, 0, "", "2024-05-01T09:30:15", 100, "Black and white"),
    ]
    for rid, file_, rating, pick, label, capture, master, copy in rows:
        db.execute("INSERT INTO Adobe_images (id_local, id_global, rootFile, rating, pick, colorLabels, captureTime, "
                   "masterImage, copyName) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (rid, f"img{rid}", file_, rating, pick, label, capture, master, copy))
    db.executemany("INSERT INTO AgLibraryKeyword (id_local, id_global, name, parent, lc_name) VALUES (?, ?, ?, ?, ?)",
                   [(1, "k1", None, None, None), (2, "k2", "Places", 1, "places"), (3, "k3", "Japan", 2, "japan"),
                    (4, "k4", "Kyoto", 3, "kyoto"), (5, "k5", "temple", 1, "temple")])
    db.executemany("INSERT INTO AgLibraryKeywordImage (image, tag) VALUES (?, ?)", [(100, 4), (100, 5), (101, 5)])
    db.executemany("INSERT INTO AgLibraryCollection (id_local, creationId, name, parent) VALUES (?, ?, ?, ?)",
                   [(50, "com.adobe.ag.library.group", "Trips", None),
                    (51, "com.adobe.ag.library.collection", "Kyoto best", 50),
                    (52, "com.adobe.ag.library.smart_collection", "Five stars", None)])
    db.executemany("INSERT INTO AgLibraryCollectionImage (collection, image) VALUES (?, ?)", [(51, 100), (51, 101)])
    db.execute("INSERT INTO Adobe_AdditionalMetadata (id_global, image, xmp) VALUES ('m1', 100, ?)",
               ((DATA / "lightroom_subject.xmp").read_text(),))
    db.execute("INSERT INTO Adobe_AdditionalMetadata (id_global, image, xmp) VALUES ('m2', 103, ?)", (COPY_XMP,))
    # IMG_0002 has no XMP in the catalog: its sliders come from the develop settings' Lua table.
    db.execute("INSERT INTO Adobe_imageDevelopSettings (image, text) VALUES (101, ?)", (
        's = { AutoGrayscaleMix = true,\n\tBlacks2012 = -5,\n\tCameraProfile = "Adobe Standard",\n'
        '\tExposure2012 = 0.75,\n\tGradientBasedCorrections = { { What = "Correction", CorrectionAmount = 1, }, },\n'
        '\tToneCurvePV2012 = { 0, 0, 255, 255, },\n\tRedEyeInfo = { },\n\tWhiteBalance = "As Shot",\n}',))
    db.execute("INSERT INTO AgLibraryIPTC (image, caption, copyright) VALUES (100, 'Morning light', '(c) LR user')")
    db.commit()
    db.close()


@pytest.fixture
def lr_setup(tmp_path):
    # The catalog says D:/Photos (another machine); the files are here now.
    here = tmp_path / "photos"
    photos(here / "2024" / "Kyoto", ["IMG_0001.jpg", "IMG_0002.jpg"])  # IMG_0003 is missing
    lrcat = tmp_path / "Lightroom Catalog.lrcat"
    build_lrcat(lrcat, "D:\\Photos\\")
    return lrcat, here


def test_lightroom_dry_run_changes_nothing(catalog, lr_setup):
    lrcat, here = lr_setup
    before = sha256(lrcat)
    res = json.loads(run_cli(catalog, "migrate", "lightroom", lrcat, "--dry-run", "--map", f"D:/Photos={here}",
                             "--json").output)
    assert (res["photos"], len(res["missing"]), res["virtual_copies"]) == (3, 1, 1)
    assert res["missing"] == [f"{here}/2024/Kyoto/IMG_0003.jpg"]
    with catalog.session() as s:
        assert s.scalar(select(func.count()).select_from(Image)) == 0
    assert sha256(lrcat) == before


def test_lightroom_migration_brings_everything_and_reruns_without_duplicates(catalog, lr_setup):
    lrcat, here = lr_setup
    before_cat, before_photos = sha256(lrcat), {p: sha256(p) for p in here.rglob("*.jpg")}
    out = run_cli(catalog, "migrate", "lightroom", lrcat, "--map", f"D:/Photos={here}").output
    assert "not found" in out or "IMG_0003" in out
    with catalog.session() as s:
        imgs = {i.filename: i for i in s.scalars(select(Image))}
        assert set(imgs) == {"IMG_0001.jpg", "IMG_0002.jpg"}
        one, two = imgs["IMG_0001.jpg"], imgs["IMG_0002.jpg"]
        assert (one.rating, one.flag, one.color_label) == (4, 1, "red")
        assert (two.rating, two.flag, two.color_label) == (2, -1, None)
        assert str(one.capture_time) == "2024-05-01 09:30:15"
        assert (one.caption, one.copyright) == ("Morning light", "(c) LR user")
        assert library.image_keywords(s, one.id) == ["Places|Japan|Kyoto", "temple"]
        trips = s.scalar(select(Collection).where(Collection.name == "Trips"))
        best = s.scalar(select(Collection).where(Collection.name == "Kyoto best"))
        assert best.parent_id == trips.id
        assert s.scalar(select(Collection).where(Collection.name == "Five stars")) is None
        master = edits.load_recipe(s, edits.get_version(s, one.id).id)
        assert master.global_layer.adjustments["exposure"] == 1.0
        assert [c.kind for c in master.layer("Subject").mask.components] == ["subject"]
        copy = s.scalar(select(EditVersion).where(EditVersion.name == "Black and white"))
        assert copy.image_id == one.id and not copy.is_master
        assert edits.load_recipe(s, copy.id).global_layer.adjustments == {"exposure": -0.5, "saturation": -100.0}
        assert "ToneCurvePV2012" in " ".join(one.extra["xmp_unmapped"])
        assert edits.load_recipe(s, edits.get_version(s, two.id).id).global_layer.adjustments == {
            "exposure": 0.75, "blacks": -5.0}
        assert [u for u in two.extra["xmp_unmapped"] if "develop settings table" in u] == [
            "crs:GradientBasedCorrections (in Lightroom's develop settings table only)",
            "crs:ToneCurvePV2012 (in Lightroom's develop settings table only)"]
    summary = migrate.lightroom(catalog, lrcat, maps=[("D:/Photos", str(here))])
    assert (summary.imported, summary.already) == (0, 2)
    copy_key = f"{here}/2024/Kyoto/IMG_0001.jpg [Black and white]"
    assert summary.unmapped[copy_key] == ["crs:ConvertToGrayscale=True"]  # listed, not dropped
    with catalog.session() as s:
        assert s.scalar(select(func.count()).select_from(Image)) == 2
        assert s.scalar(select(func.count()).select_from(EditVersion)) == 3  # 2 masters + 1 copy
        assert s.scalar(select(func.count()).select_from(Collection)) == 2
        one = s.scalar(select(Image).where(Image.filename == "IMG_0001.jpg"))
        assert library.image_keywords(s, one.id) == ["Places|Japan|Kyoto", "temple"]
        assert len(edits.history(s, edits.get_version(s, one.id).id)) == 2  # no new step: same edit
    assert sha256(lrcat) == before_cat
    assert {p: sha256(p) for p in here.rglob("*.jpg")} == before_photos


def test_not_a_catalog_is_one_line(catalog, tmp_path):
    bad = tmp_path / "x.lrcat"
    bad.write_bytes(b"not sqlite at all" * 100)
    res = run_cli(catalog, "migrate", "lightroom", bad, ok=False)
    assert res.exit_code == 1 and str(bad) in res.output and "Traceback" not in res.output
    with pytest.raises(MigrateError, match="--map"):
        migrate.parse_maps(["nothing"])


# -- darktable ---------------------------------------------------------------------------

DT_LIBRARY = """
CREATE TABLE film_rolls (id INTEGER PRIMARY KEY, access_timestamp INTEGER, folder VARCHAR(1024) NOT NULL);
CREATE TABLE images (id INTEGER PRIMARY KEY AUTOINCREMENT, group_id INTEGER, film_id INTEGER, width INTEGER,
  height INTEGER, filename VARCHAR, maker_id INTEGER, model_id INTEGER, lens_id INTEGER, exposure REAL,
  aperture REAL, iso REAL, focal_length REAL, focus_distance REAL, datetime_taken INTEGER, flags INTEGER,
  output_width INTEGER, output_height INTEGER, crop REAL, raw_parameters INTEGER, raw_black INTEGER,
  raw_maximum INTEGER, orientation INTEGER, longitude REAL, latitude REAL, altitude REAL, color_matrix BLOB,
  colorspace INTEGER, version INTEGER, max_version INTEGER, write_timestamp INTEGER, history_end INTEGER,
  position INTEGER, aspect_ratio REAL, exposure_bias REAL, import_timestamp INTEGER, change_timestamp INTEGER,
  export_timestamp INTEGER, print_timestamp INTEGER, thumb_timestamp INTEGER, thumb_maxmip INTEGER);
CREATE TABLE color_labels (imgid INTEGER, color INTEGER);
CREATE TABLE tagged_images (imgid INTEGER, tagid INTEGER, position INTEGER, PRIMARY KEY (imgid, tagid));
CREATE TABLE history (imgid INTEGER, num INTEGER, module INTEGER, operation VARCHAR(256), op_params BLOB,
  enabled INTEGER, blendop_params BLOB, blendop_version INTEGER, multi_priority INTEGER,
  multi_name VARCHAR(256), multi_name_hand_edited INTEGER);
"""
DT_DATA = "CREATE TABLE tags (id INTEGER PRIMARY KEY, name VARCHAR, synonyms VARCHAR, flags INTEGER);"


def build_darktable(folder: Path, photo_dir: Path) -> Path:
    folder.mkdir(parents=True)
    lib = sqlite3.connect(folder / "library.db")
    lib.executescript(DT_LIBRARY)
    lib.execute("INSERT INTO film_rolls VALUES (1, 0, ?)", (str(photo_dir),))
    # flags: stars in bits 0-2, rejected = 0x8. datetime_taken: microseconds since 0001-01-01.
    taken = int((datetime(2023, 8, 14, 18, 22, 5) - datetime(1, 1, 1)).total_seconds()) * 1_000_000
    lib.executemany("INSERT INTO images (id, film_id, filename, flags, datetime_taken, history_end) "
                    "VALUES (?, 1, ?, ?, ?, ?)",
                    [(1, "falcon.png", 3, taken, 2), (2, "rocks.png", 0x8 | 2, taken, 0), (3, "gone.png", 1, None, 0)])
    lib.executemany("INSERT INTO color_labels VALUES (?, ?)", [(1, 2), (1, 4)])
    lib.executemany("INSERT INTO tagged_images VALUES (?, ?, 0)", [(1, 1), (1, 2), (2, 3)])
    lib.executemany("INSERT INTO history VALUES (1, ?, 6, ?, ?, 1, ?, 13, 0, '', 0)",
                    [(0, "exposure", bytes.fromhex("0000803f"), b"\x01\x02"), (1, "filmicrgb", b"\xff\x00", None)])
    lib.commit()
    lib.close()
    data = sqlite3.connect(folder / "data.db")
    data.executescript(DT_DATA)
    data.executemany("INSERT INTO tags (id, name) VALUES (?, ?)",
                     [(1, "birds|falcon"), (2, "darktable|format|png"), (3, "rocks")])
    data.commit()
    data.close()
    return folder / "library.db"


def test_darktable_migration_and_history_goes_back_out(catalog, tmp_path, exiftool):
    here = tmp_path / "roll"
    photos(here, ["falcon.png", "rocks.png"])
    db = build_darktable(tmp_path / "config", here)
    before = sha256(db)
    dry = migrate.darktable(catalog, db, dry_run=True)
    assert (dry.photos, len(dry.missing), dry.histories_kept) == (3, 1, 1)
    out = run_cli(catalog, "migrate", "darktable", db).output
    assert "1 darktable histories kept" in out and "automatic darktable" in out
    with catalog.session() as s:
        imgs = {i.filename: i for i in s.scalars(select(Image))}
        falcon, rocks = imgs["falcon.png"], imgs["rocks.png"]
        assert (falcon.rating, falcon.color_label, rocks.rating, rocks.flag) == (3, "green", 0, -1)
        assert str(falcon.capture_time) == "2023-08-14 18:22:05"
        assert library.image_keywords(s, falcon.id) == ["birds|falcon"]
        assert library.image_keywords(s, rocks.id) == ["rocks"]
        assert any("purple" in u for u in falcon.extra["xmp_unmapped"])
        kept = edits.get_version(s, falcon.id).extra["darktable_history"]
        assert [x["operation"] for x in kept["steps"]] == ["exposure", "filmicrgb"]
        falcon_id = falcon.id
    again = migrate.darktable(catalog, db)
    assert (again.imported, again.already) == (0, 2)
    assert sha256(db) == before
    run_cli(catalog, "xmp", "write", falcon_id)
    got = json.loads(subprocess.run([exiftool, "-j", "-struct", str(here / "falcon.xmp")], capture_output=True,
                                    text=True, check=True).stdout)[0]
    assert [h["Operation"] for h in got["History"]] == ["exposure", "filmicrgb"]
    assert got["History"][0]["Params"] == "0000803f" and got["History_end"] == 2
