"""Writers (format, bit depth, ICC), metadata read back, output sharpening."""
from __future__ import annotations

import io
from datetime import datetime

import cv2
import exifread
import numpy as np
import pyexiv2
import pytest
from PIL import Image, ImageCms

from maskroom.engine.export.metadata import ImageMetadata, build_tags, write_metadata
from maskroom.engine.export.sharpen import sharpen
from maskroom.engine.export.writers import ExportFormatError, check_format, write_image


def _icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _gradient(bits: int, h: int = 48, w: int = 64) -> np.ndarray:
    # A smooth 16-bit ramp: values that 8 bits cannot hold.
    x = np.linspace(0, 1, w, dtype=np.float64)[None, :, None]
    y = np.linspace(0, 1, h, dtype=np.float64)[:, None, None]
    img = np.concatenate([x + 0 * y, y + 0 * x, (x + y) / 2], axis=2)
    if bits == 16:
        return np.rint(img * 65535).astype(np.uint16)
    return np.rint(img * 255).astype(np.uint8)


def _icc_description(path) -> str:
    with pyexiv2.Image(str(path)) as im:
        icc = im.read_icc()
    assert icc, f"{path}: no ICC profile"
    return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip()


@pytest.mark.parametrize("fmt,bits", [("jpeg", 8), ("png", 8), ("png", 16), ("tiff", 8), ("tiff", 16)])
def test_write_format_bits_and_icc(tmp_path, fmt, bits):
    px = _gradient(bits)
    path = tmp_path / f"out.{fmt}"
    write_image(path, px, fmt, bits=bits, icc=_icc(), quality=95)
    back = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert back.shape == px.shape
    assert back.dtype == (np.uint16 if bits == 16 else np.uint8)
    if fmt == "jpeg":
        assert Image.open(path).format == "JPEG"
        assert np.abs(back.astype(int) - px.astype(int)).mean() < 2
    else:
        assert np.array_equal(back, px)  # lossless, every bit kept
    if bits == 16:
        # really 16 bits: values that are not multiples of 257 survive
        assert np.any(back % 257 != 0)
    assert _icc_description(path) == "sRGB built-in"
    assert not list(tmp_path.glob(".export-*")), "temporary file left behind"


@pytest.mark.parametrize("quality", [90, 94, 100])
def test_jpeg_of_detail_dense_pixels_is_written(tmp_path, quality):
    # White noise (a heavy-grain or high-ISO photo at its extreme) compresses to more
    # bytes than Pillow's optimised encoder buffers: it had failed with "Suspension not
    # allowed here" and the export was lost.
    px = np.random.default_rng(7).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    path = tmp_path / "noise.jpg"
    write_image(path, px, "jpeg", bits=8, icc=_icc(), quality=quality)
    with Image.open(path) as im:
        assert im.format == "JPEG" and im.size == (400, 300)
        back = np.asarray(im.convert("RGB"), np.int32)
    assert np.abs(back - px).mean() < 30  # the pixels, not a blank file
    assert path.stat().st_size > px.shape[0] * px.shape[1]  # over a byte a pixel: more than the buffer held
    assert _icc_description(path) == "sRGB built-in"
    from PIL import ImageFile

    assert ImageFile.MAXBLOCK == 65536  # Pillow's own buffer size is left as it was


def test_png16_header_says_16_bits(tmp_path):
    path = tmp_path / "x.png"
    write_image(path, _gradient(16), "png", bits=16, icc=_icc())
    data = path.read_bytes()
    assert data[12:16] == b"IHDR" and data[24] == 16  # bit depth byte
    # Our iCCP chunk has a keyword (libpng rejects exiv2's empty one)
    i = data.find(b"iCCP")
    assert i > 0 and data[i + 4 : i + 5] != b"\x00"
    assert i < data.find(b"IDAT")


def test_tiff16_bits_per_sample(tmp_path):
    path = tmp_path / "x.tif"
    write_image(path, _gradient(16), "tiff", bits=16, icc=_icc())
    with pyexiv2.Image(str(path)) as im:
        assert im.read_exif()["Exif.Image.BitsPerSample"] == "16 16 16"


def test_jpeg_16_bits_is_a_clear_error(tmp_path):
    with pytest.raises(ExportFormatError, match="JPEG is 8-bit only"):
        check_format("jpeg", 16)
    with pytest.raises(ExportFormatError):
        write_image(tmp_path / "x.jpg", _gradient(16), "jpeg", bits=16, icc=None)
    assert not list(tmp_path.iterdir())
    with pytest.raises(ExportFormatError):
        check_format("gif", 8)
    with pytest.raises(ExportFormatError):
        check_format("jpeg", 8, quality=0)


def test_dtype_must_match_bits(tmp_path):
    with pytest.raises(ExportFormatError, match="uint16"):
        write_image(tmp_path / "x.png", _gradient(8), "png", bits=16, icc=None)


META = ImageMetadata(
    camera_make="Canon",
    camera_model="EOS R5",
    lens="RF24-70mm F2.8 L IS USM",
    capture_time=datetime(2024, 5, 6, 7, 8, 9),
    focal_length=35.0,
    aperture=2.8,
    shutter=1 / 250,
    iso=400,
    exposure_bias=-1 / 3,
    gps_lat=63.0695,
    gps_lon=-151.0074,
    gps_alt=6190.0,
    rating=4,
    keywords=["Places", "Alaska", "Dénali"],
    hierarchical_keywords=["Places|Alaska|Dénali"],
    copyright="© 2024 Ann Example",
    creator="Ann Exämple",
)


@pytest.mark.parametrize("fmt,bits", [("jpeg", 8), ("png", 16), ("tiff", 16)])
def test_metadata_all_read_back(tmp_path, fmt, bits):
    path = tmp_path / f"m.{fmt}"
    write_image(path, _gradient(bits), fmt, bits=bits, icc=_icc())
    write_metadata(path, META, "all")
    with open(path, "rb") as f:
        tags = exifread.process_file(f, details=False)
    assert str(tags["Image Make"]) == "Canon"
    assert str(tags["Image Model"]) == "EOS R5"
    assert str(tags["EXIF LensModel"]) == "RF24-70mm F2.8 L IS USM"
    assert str(tags["EXIF DateTimeOriginal"]) == "2024:05:06 07:08:09"
    assert str(tags["EXIF ExposureTime"]) == "1/250"
    assert str(tags["EXIF FNumber"]) == "14/5"
    assert str(tags["EXIF ISOSpeedRatings"]) == "400"
    assert str(tags["Image Orientation"]).startswith("Horizontal")
    lat = [float(v) for v in tags["GPS GPSLatitude"].values]
    assert abs(lat[0] + lat[1] / 60 + lat[2] / 3600 - 63.0695) < 1e-4
    assert str(tags["GPS GPSLongitudeRef"]) == "W"
    with pyexiv2.Image(str(path)) as im:
        xmp, iptc, exif = im.read_xmp(), im.read_iptc(), im.read_exif()
        icc = im.read_icc()
    assert xmp["Xmp.xmp.Rating"] == "4"
    assert xmp["Xmp.dc.subject"] == ["Places", "Alaska", "Dénali"]
    assert xmp["Xmp.lr.hierarchicalSubject"] == ["Places|Alaska|Dénali"]
    assert iptc["Iptc.Application2.Keywords"] == ["Places", "Alaska", "Dénali"]
    assert exif["Exif.Image.Copyright"] == "© 2024 Ann Example"
    assert xmp["Xmp.dc.creator"] == ["Ann Exämple"]
    assert icc, "metadata writing dropped the ICC profile"


def test_metadata_copyright_only_and_none(tmp_path):
    p1, p2 = tmp_path / "c.jpg", tmp_path / "n.jpg"
    for p, mode in ((p1, "copyright"), (p2, "none")):
        write_image(p, _gradient(8), "jpeg", bits=8, icc=_icc())
        write_metadata(p, META, mode)
    with pyexiv2.Image(str(p1)) as im:
        exif, xmp, iptc = im.read_exif(), im.read_xmp(), im.read_iptc()
    assert exif["Exif.Image.Copyright"] == "© 2024 Ann Example"
    assert exif["Exif.Image.Artist"] == "Ann Exämple"
    assert "Exif.Image.Make" not in exif and "Exif.Photo.DateTimeOriginal" not in exif
    assert "Xmp.xmp.Rating" not in xmp and "Xmp.dc.subject" not in xmp
    assert "Iptc.Application2.Keywords" not in iptc
    with pyexiv2.Image(str(p2)) as im:
        assert im.read_exif() == {} and im.read_xmp() == {} and im.read_iptc() == {}
        assert im.read_icc()  # colour is not metadata: the profile stays


def test_bad_metadata_mode():
    with pytest.raises(ValueError, match="metadata mode"):
        build_tags(META, "some")


def test_sharpen_modes_increase_edge_contrast_in_order():
    img = np.zeros((40, 40, 3), np.uint8)
    img[:, 20:] = 200
    img[:, :20] = 60
    contrast = {}
    for mode in ("none", "screen", "glossy", "matte"):
        out = sharpen(img, mode)
        assert out.shape == img.shape and out.dtype == img.dtype
        contrast[mode] = int(out[20, 20:].max()) - int(out[20, :20].min())
    assert contrast["none"] == 140
    assert contrast["none"] < contrast["screen"] < contrast["glossy"] < contrast["matte"]
    flat = np.full((30, 30, 3), 123, np.uint16)
    assert np.array_equal(sharpen(flat, "matte"), flat)  # nothing to sharpen, nothing changes
    with pytest.raises(ValueError):
        sharpen(img, "extreme")


def test_long_unicode_keyword_cut_for_iptc_kept_in_xmp(tmp_path):
    kw = "é" * 50  # 100 bytes of UTF-8; IPTC allows 64
    meta = ImageMetadata(keywords=[kw], creator="Ø" * 40)
    path = tmp_path / "k.jpg"
    write_image(path, _gradient(8), "jpeg", bits=8, icc=_icc())
    write_metadata(path, meta, "all")
    with pyexiv2.Image(str(path)) as im:
        iptc, xmp = im.read_iptc(), im.read_xmp()
    assert iptc["Iptc.Application2.Keywords"] == ["é" * 32]
    assert iptc["Iptc.Application2.Byline"] == ["Ø" * 16]
    assert xmp["Xmp.dc.subject"] == [kw] and xmp["Xmp.dc.creator"] == ["Ø" * 40]
