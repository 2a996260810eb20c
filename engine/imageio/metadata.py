"""EXIF metadata through exifread, as the typed fields the catalog stores."""
from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import exifread
from PIL import Image

from maskroom.engine.imageio import decode  # noqa: F401  (registers the HEIF opener with Pillow)

# exifread logs every odd tag it meets at WARNING; a catalog import is not the place.
logging.getLogger("exifread").setLevel(logging.ERROR)


@dataclass
class PhotoMetadata:
    orientation: int = 1
    capture_time: datetime | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    lens: str | None = None
    focal_length: float | None = None
    aperture: float | None = None
    shutter: float | None = None
    iso: int | None = None
    exposure_bias: float | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    gps_alt: float | None = None
    copyright: str | None = None
    artist: str | None = None
    tags: dict[str, str] = field(default_factory=dict)  # every tag, printable, for `show`


def _ratio(value: Any) -> float | None:
    try:
        if isinstance(value, exifread.utils.Ratio):
            return None if value.denominator == 0 else float(Fraction(value.numerator, value.denominator))
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _first(tags: dict, *names: str):
    for n in names:
        t = tags.get(n)
        if t is not None and t.values not in ("", [], None):
            return t
    return None


def _num(tags: dict, *names: str) -> float | None:
    t = _first(tags, *names)
    if t is None:
        return None
    values = t.values if isinstance(t.values, list) else [t.values]
    return _ratio(values[0]) if values else None


def _text(tags: dict, *names: str) -> str | None:
    t = _first(tags, *names)
    if t is None:
        return None
    s = str(t.printable).strip().strip("\x00").strip()
    return s or None


def _gps(tags: dict, key: str, ref_key: str) -> float | None:
    t = tags.get(key)
    if t is None or not isinstance(t.values, list) or len(t.values) < 3:
        return None
    d, m, s = (_ratio(v) for v in t.values[:3])
    if d is None or m is None or s is None:
        return None
    value = d + m / 60 + s / 3600
    ref = str(tags.get(ref_key, "")).strip().upper()
    return -value if ref in ("S", "W") else value


def _datetime(tags: dict) -> datetime | None:
    raw = _text(tags, "EXIF DateTimeOriginal", "EXIF DateTimeDigitized", "Image DateTime")
    if not raw:
        return None
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y:%m:%d %H:%M"):
        try:
            return datetime.strptime(raw[:19], fmt)
        except ValueError:
            continue
    return None


def from_tags(tags: dict) -> PhotoMetadata:
    md = PhotoMetadata()
    o = _first(tags, "Image Orientation")
    if o is not None:
        try:
            md.orientation = int(o.values[0]) if isinstance(o.values, list) else int(o.values)
        except (TypeError, ValueError, IndexError):
            md.orientation = 1
        if md.orientation not in range(1, 9):
            md.orientation = 1
    md.capture_time = _datetime(tags)
    md.camera_make = _text(tags, "Image Make")
    md.camera_model = _text(tags, "Image Model")
    md.lens = _text(tags, "EXIF LensModel", "MakerNote LensModel", "EXIF LensSpecification")
    md.focal_length = _num(tags, "EXIF FocalLength")
    md.aperture = _num(tags, "EXIF FNumber")
    md.shutter = _num(tags, "EXIF ExposureTime")
    iso = _num(tags, "EXIF ISOSpeedRatings", "EXIF PhotographicSensitivity")
    md.iso = int(iso) if iso is not None else None
    md.exposure_bias = _num(tags, "EXIF ExposureBiasValue")
    md.gps_lat = _gps(tags, "GPS GPSLatitude", "GPS GPSLatitudeRef")
    md.gps_lon = _gps(tags, "GPS GPSLongitude", "GPS GPSLongitudeRef")
    alt = _num(tags, "GPS GPSAltitude")
    if alt is not None:
        below = str(tags.get("GPS GPSAltitudeRef", "0")).strip() in ("1", "Below Sea Level")
        md.gps_alt = -alt if below else alt
    md.copyright = _text(tags, "Image Copyright")
    md.artist = _text(tags, "Image Artist")
    md.tags = {
        k: str(v.printable)[:500]
        for k, v in tags.items()
        if k not in ("JPEGThumbnail", "TIFFThumbnail") and not k.startswith("MakerNote") and "Thumbnail" not in k
    }
    return md


def _embedded_exif_block(path: Path) -> bytes | None:
    """The raw EXIF (TIFF-structured) block of containers exifread cannot walk (WebP, HEIC, PNG)."""
    try:
        with Image.open(path) as im:  # (decode, imported above, registered the HEIF opener)
            block = im.info.get("exif")
    except Exception:
        return None
    if not block:
        return None
    return block[6:] if block.startswith(b"Exif\x00\x00") else block


def read_metadata(path: Path) -> PhotoMetadata:
    """EXIF of any supported file; a file without EXIF gives empty metadata, not an error."""
    try:
        with open(path, "rb") as fh:
            tags = exifread.process_file(fh, details=False, extract_thumbnail=False)
    except Exception:  # exifread raises on many odd files; metadata is optional
        tags = {}
    if not tags:
        block = _embedded_exif_block(path)
        if block:
            try:
                tags = exifread.process_file(io.BytesIO(block), details=False, extract_thumbnail=False)
            except Exception:
                tags = {}
    md = from_tags(tags)
    if md.capture_time is None:
        md.capture_time = _xmp_capture_time(path)
    return md


_XMP_DATE = re.compile(
    rb"(?:exif:DateTimeOriginal|photoshop:DateCreated|xmp:CreateDate)"
    rb"""(?:=["']|>)(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)"""
)


def _xmp_capture_time(path: Path) -> datetime | None:
    """Capture time from an XMP packet (phone apps and editors often write only XMP).

    Stored as local wall-clock time, like EXIF's DateTimeOriginal (the offset is dropped).
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(512 * 1024)
    except OSError:
        return None
    start = head.find(b"<x:xmpmeta")
    if start < 0:
        return None
    m = _XMP_DATE.search(head, start)
    if not m:
        return None
    text = m.group(1).decode()
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S" if text.count(":") == 2 else "%Y-%m-%dT%H:%M")
    except ValueError:
        return None
