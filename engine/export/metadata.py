"""Metadata written into exported files (pyexiv2): EXIF, IPTC and XMP from the catalog.

Modes: ``all`` (camera, lens, capture time, exposure, GPS, keywords, rating,
copyright/creator), ``copyright`` (only copyright and creator), ``none`` (nothing).
The pixels of an export are already upright, so ``all`` writes Orientation=1: a
viewer must not rotate them a second time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path

METADATA_MODES = ("all", "copyright", "none")
SOFTWARE = "maskroom"

# Where an importer may have kept the original's copyright/creator in Image.exif.
_COPYRIGHT_KEYS = ("Exif.Image.Copyright", "Image Copyright", "Copyright", "copyright")
_CREATOR_KEYS = ("Exif.Image.Artist", "Image Artist", "Artist", "artist", "creator", "Creator")
_CAPTION_KEYS = ("Exif.Image.ImageDescription", "Image ImageDescription", "ImageDescription")
# Text some cameras put in ImageDescription by default: not a caption.
_CAMERA_DEFAULT_CAPTIONS = {"sony dsc", "olympus digital camera", "default", "digital camera", "dcim"}


@dataclass
class ImageMetadata:
    """What an export may carry about one image: plain data, so it crosses processes."""

    camera_make: str | None = None
    camera_model: str | None = None
    lens: str | None = None
    capture_time: datetime | None = None
    focal_length: float | None = None
    aperture: float | None = None
    shutter: float | None = None
    iso: int | None = None
    exposure_bias: float | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    gps_alt: float | None = None
    rating: int = 0
    keywords: list[str] = field(default_factory=list)  # flat, parents included
    hierarchical_keywords: list[str] = field(default_factory=list)  # "Places|Alaska|Denali"
    copyright: str | None = None
    creator: str | None = None
    title: str | None = None
    caption: str | None = None


def _lookup(mapping: dict, keys) -> str | None:
    for k in keys:
        v = (mapping or {}).get(k)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return None


def metadata_from_image(image, *, copyright: str | None = None, creator: str | None = None) -> ImageMetadata:
    """Collect an Image row's metadata; explicit copyright/creator win over the image's."""
    flat: list[str] = []
    hier: list[str] = []
    for kw in sorted(image.keywords, key=lambda k: k.name.lower()):
        chain = []
        node = kw
        while node is not None and len(chain) < 32:
            chain.append(node.name)
            node = node.parent
        chain.reverse()
        hier.append("|".join(chain))
        for name in chain:
            if name not in flat:
                flat.append(name)
    exif = image.exif or {}
    caption = image.caption or _lookup(exif, _CAPTION_KEYS)
    if caption and caption.lower() in _CAMERA_DEFAULT_CAPTIONS:
        caption = None
    return ImageMetadata(
        camera_make=_clean(image.camera_make),
        camera_model=_clean(image.camera_model),
        lens=_clean(image.lens),
        capture_time=image.capture_time,
        focal_length=image.focal_length,
        aperture=image.aperture,
        shutter=image.shutter,
        iso=image.iso,
        exposure_bias=image.exposure_bias,
        gps_lat=image.gps_lat,
        gps_lon=image.gps_lon,
        gps_alt=image.gps_alt,
        rating=int(image.rating or 0),
        keywords=flat,
        hierarchical_keywords=hier,
        copyright=copyright or image.copyright or _lookup(exif, _COPYRIGHT_KEYS),
        creator=creator or image.creator or _lookup(exif, _CREATOR_KEYS),
        title=image.title,
        caption=caption,
    )


def _clean(text: str | None) -> str | None:
    # EXIF strings are often padded with spaces or NULs ("PENTAX K10D        ").
    text = (text or "").replace("\x00", "").strip()
    return text or None


def _iptc(text: str, max_bytes: int) -> str:
    """IPTC IIM fields have byte limits; cut UTF-8 on a character boundary."""
    return text.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")


def _rational(x: float, max_den: int = 10000) -> str:
    f = Fraction(x).limit_denominator(max_den)
    return f"{f.numerator}/{f.denominator}"


def _exposure_time(seconds: float) -> str:
    # 1/250 rather than 2/500; long exposures as n/1 or n/10.
    if seconds < 1:
        return f"1/{round(1 / seconds)}"
    return _rational(seconds, 10)


def _gps_dms(value: float) -> str:
    value = abs(value)
    d = int(value)
    m = int((value - d) * 60)
    s = (value - d - m / 60) * 3600
    return f"{d}/1 {m}/1 {round(s * 1000)}/1000"


def _required_exif(size: tuple[int, int] | None, fmt: str | None, colorspace: str) -> dict:
    """The tags the EXIF 2.32 spec requires once an EXIF block exists (exiftool -validate)."""
    tags = {
        # 1 = sRGB; anything else is "uncalibrated" and the embedded ICC profile rules.
        "Exif.Photo.ColorSpace": "1" if colorspace == "srgb" else "65535",
        "Exif.Photo.ExifVersion": "48 50 51 50",  # "0232"
        "Exif.Photo.FlashpixVersion": "48 49 48 48",  # "0100"
        "Exif.Image.XResolution": "300/1",
        "Exif.Image.YResolution": "300/1",
        "Exif.Image.ResolutionUnit": "2",  # inches
    }
    if fmt == "tiff":
        # In TIFF these live in the image's own IFD (the writer sets them); the
        # pixel dimensions tags are not allowed there.
        for k in ("Exif.Image.XResolution", "Exif.Image.YResolution", "Exif.Image.ResolutionUnit"):
            del tags[k]
    elif size:
        tags["Exif.Photo.PixelXDimension"] = str(int(size[0]))
        tags["Exif.Photo.PixelYDimension"] = str(int(size[1]))
    if fmt == "jpeg":
        tags["Exif.Photo.ComponentsConfiguration"] = "1 2 3 0"  # Y Cb Cr
        tags["Exif.Image.YCbCrPositioning"] = "1"
    return tags


def build_tags(
    meta: ImageMetadata,
    mode: str,
    colorspace: str = "srgb",
    *,
    size: tuple[int, int] | None = None,
    fmt: str | None = None,
) -> tuple[dict, dict, dict]:
    """The (exif, iptc, xmp) dictionaries pyexiv2 writes for ``mode``.

    ``size`` (width, height) and ``fmt`` complete the EXIF block with the tags the
    standard requires, so validators do not flag the file.
    """
    if mode not in METADATA_MODES:
        raise ValueError(f"metadata mode must be one of {', '.join(METADATA_MODES)}, not {mode!r}")
    exif: dict = {}
    iptc: dict = {}
    xmp: dict = {}
    if mode == "none":
        return exif, iptc, xmp
    if meta.copyright:
        exif["Exif.Image.Copyright"] = meta.copyright
        iptc["Iptc.Application2.Copyright"] = _iptc(meta.copyright, 128)
        xmp["Xmp.dc.rights"] = {'lang="x-default"': meta.copyright}
    if meta.creator:
        exif["Exif.Image.Artist"] = meta.creator
        iptc["Iptc.Application2.Byline"] = [_iptc(meta.creator, 32)]
        xmp["Xmp.dc.creator"] = [meta.creator]
    if mode == "copyright":
        if iptc:
            iptc["Iptc.Envelope.CharacterSet"] = "\x1b%G"  # UTF-8
        if exif:
            exif.update(_required_exif(size, fmt, colorspace))
        return exif, iptc, xmp

    exif["Exif.Image.Orientation"] = "1"
    exif["Exif.Image.Software"] = SOFTWARE
    if meta.camera_make:
        exif["Exif.Image.Make"] = meta.camera_make
    if meta.camera_model:
        exif["Exif.Image.Model"] = meta.camera_model
    if meta.lens:
        exif["Exif.Photo.LensModel"] = meta.lens
        xmp["Xmp.aux.Lens"] = meta.lens
    if meta.capture_time:
        stamp = meta.capture_time.strftime("%Y:%m:%d %H:%M:%S")
        exif["Exif.Photo.DateTimeOriginal"] = stamp
        exif["Exif.Photo.DateTimeDigitized"] = stamp
        exif["Exif.Image.DateTime"] = stamp
        xmp["Xmp.photoshop.DateCreated"] = meta.capture_time.strftime("%Y-%m-%dT%H:%M:%S")
    if meta.focal_length:
        exif["Exif.Photo.FocalLength"] = _rational(meta.focal_length, 100)
    if meta.aperture:
        exif["Exif.Photo.FNumber"] = _rational(meta.aperture, 100)
    if meta.shutter and meta.shutter > 0:
        exif["Exif.Photo.ExposureTime"] = _exposure_time(meta.shutter)
    if meta.iso:
        exif["Exif.Photo.ISOSpeedRatings"] = str(int(meta.iso))
    if meta.exposure_bias is not None:
        exif["Exif.Photo.ExposureBiasValue"] = _rational(meta.exposure_bias, 100)
    if meta.gps_lat is not None and meta.gps_lon is not None:
        exif["Exif.GPSInfo.GPSVersionID"] = "2 3 0 0"
        exif["Exif.GPSInfo.GPSLatitudeRef"] = "N" if meta.gps_lat >= 0 else "S"
        exif["Exif.GPSInfo.GPSLatitude"] = _gps_dms(meta.gps_lat)
        exif["Exif.GPSInfo.GPSLongitudeRef"] = "E" if meta.gps_lon >= 0 else "W"
        exif["Exif.GPSInfo.GPSLongitude"] = _gps_dms(meta.gps_lon)
        if meta.gps_alt is not None:
            exif["Exif.GPSInfo.GPSAltitudeRef"] = "0" if meta.gps_alt >= 0 else "1"
            exif["Exif.GPSInfo.GPSAltitude"] = _rational(abs(meta.gps_alt), 100)
    xmp["Xmp.xmp.Rating"] = str(max(-1, min(5, meta.rating)))
    if meta.keywords:
        # IPTC limits a keyword to 64 bytes; XMP has no limit.
        iptc["Iptc.Application2.Keywords"] = [_iptc(k, 64) for k in meta.keywords]
        xmp["Xmp.dc.subject"] = list(meta.keywords)
    if meta.hierarchical_keywords:
        xmp["Xmp.lr.hierarchicalSubject"] = list(meta.hierarchical_keywords)
    if meta.caption:
        exif["Exif.Image.ImageDescription"] = meta.caption
        xmp["Xmp.dc.description"] = {'lang="x-default"': meta.caption}
        iptc["Iptc.Application2.Caption"] = _iptc(meta.caption, 2000)
    if meta.title:
        xmp["Xmp.dc.title"] = {'lang="x-default"': meta.title}
        iptc["Iptc.Application2.ObjectName"] = _iptc(meta.title, 64)
    if iptc:
        iptc["Iptc.Envelope.CharacterSet"] = "\x1b%G"
    exif.update(_required_exif(size, fmt, colorspace))
    return exif, iptc, xmp


def write_metadata(
    path: Path,
    meta: ImageMetadata,
    mode: str,
    colorspace: str = "srgb",
    *,
    size: tuple[int, int] | None = None,
    fmt: str | None = None,
) -> None:
    """Write the tags for ``mode`` into an exported file (JPEG, PNG or TIFF)."""
    exif, iptc, xmp = build_tags(meta, mode, colorspace, size=size, fmt=fmt)
    if not (exif or iptc or xmp):
        return
    import pyexiv2  # lazy: exiv2 (a large C++ library) only to write metadata

    with pyexiv2.Image(str(path)) as img:
        if exif:
            img.modify_exif(exif)
        if iptc:
            img.modify_iptc(iptc)
        if xmp:
            img.modify_xmp(xmp)
