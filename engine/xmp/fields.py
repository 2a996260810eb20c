"""The metadata fields maskroom reads from and writes to XMP, and their checks.

One table (``FIELDS``) says which XMP property holds what; ``read_fields`` turns a
packet's properties into checked values (a value of the wrong type or out of range
becomes a warning naming the file and the property, never a catalog value), and
``field_properties`` is the way back for the sidecar writer.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

# Namespaces, as their owners publish them.
NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "lr": "http://ns.adobe.com/lightroom/1.0/",
    "crs": "http://ns.adobe.com/camera-raw-settings/1.0/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "darktable": "http://darktable.sf.net/",
    "digiKam": "http://www.digikam.org/ns/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "maskroom": "https://maskroom.app/ns/1.0/",
}


def q(prefix: str, name: str) -> str:
    """Clark name of prefix:name."""
    return f"{{{NS[prefix]}}}{name}"


# Colour labels: Lightroom writes the label's English name; darktable an index.
LABEL_NAMES = {"red": "Red", "yellow": "Yellow", "green": "Green", "blue": "Blue", "purple": "Purple"}
DARKTABLE_LABELS = ("red", "yellow", "green", "blue", "purple")
# digiKam:PickLabel: 0 none, 1 rejected, 2 pending, 3 accepted.
DIGIKAM_PICK = {"1": "reject", "2": "none", "3": "pick", "0": "none"}

# (field, XMP property, what it holds) -- docs/xmp.md prints this table.
FIELDS = (
    ("rating", "xmp:Rating", "stars 0..5; -1 = rejected"),
    ("label", "xmp:Label", "colour label by name (Red, Yellow, Green, Blue, Purple)"),
    ("label", "darktable:colorlabels", "colour labels by index 0..4 (read; written for darktable)"),
    ("flag", "digiKam:PickLabel", "1 reject, 3 pick (read only)"),
    ("keywords", "dc:subject", "flat keywords (every level of a hierarchy)"),
    ("keywords", "lr:hierarchicalSubject", "hierarchical keywords, levels joined by |"),
    ("keywords", "digiKam:TagsList", "hierarchical keywords, levels joined by / (read only)"),
    ("title", "dc:title", "title (x-default)"),
    ("caption", "dc:description", "caption / description (x-default)"),
    ("creator", "dc:creator", "creator(s)"),
    ("copyright", "dc:rights", "copyright notice (x-default)"),
    ("usage_terms", "xmpRights:UsageTerms", "usage terms (x-default)"),
    ("gps", "exif:GPSLatitude / exif:GPSLongitude / exif:GPSAltitude", "position"),
    ("capture_time", "exif:DateTimeOriginal (or photoshop:DateCreated, xmp:CreateDate)", "capture time with offset"),
    ("metadata_date", "xmp:MetadataDate", "when the metadata last changed (decides embedded vs sidecar)"),
)


@dataclass
class XmpFields:
    rating: int | None = None
    flag: str | None = None  # pick | reject | none
    label: str | None = None
    keywords: list[str] = field(default_factory=list)  # hierarchy paths "Places|Japan|Kyoto"
    title: str | None = None
    caption: str | None = None
    creator: str | None = None
    copyright: str | None = None
    usage_terms: str | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    gps_alt: float | None = None
    capture_time: datetime | None = None  # local wall-clock time, as EXIF
    capture_offset: str | None = None  # "+09:00" when the writer recorded one
    metadata_date: datetime | None = None  # aware (UTC when no offset was written)
    unmapped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("capture_time", "metadata_date"):
            d[k] = d[k].isoformat() if d[k] else None
        return d


def _text(value: Any) -> str | None:
    """Text of a simple value or the first (x-default) item of an Alt/Seq."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if isinstance(value, str):
        value = value.strip()
        return value[:2000] or None
    return None


def _list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return []


def parse_date(text: str) -> tuple[datetime, str | None]:
    """ISO 8601 as XMP writes it: (wall-clock time, offset or None)."""
    m = re.fullmatch(r"(\d{4})(?:-(\d\d)(?:-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?)?)?)?"
                     r"(Z|[+-]\d\d:?\d\d)?", text.strip())
    if not m:
        raise ValueError(f"not an XMP date: {text!r}")
    y, mo, d, hh, mm, ss, tz = m.groups()
    when = datetime(int(y), int(mo or 1), int(d or 1), int(hh or 0), int(mm or 0), int(ss or 0))
    offset = None
    if tz:
        offset = "+00:00" if tz == "Z" else (tz if ":" in tz else f"{tz[:3]}:{tz[3:]}")
    return when, offset


def _aware(when: datetime, offset: str | None) -> datetime:
    if not offset:
        return when.replace(tzinfo=timezone.utc)
    sign = -1 if offset[0] == "-" else 1
    hh, mm = int(offset[1:3]), int(offset[4:6])
    return when.replace(tzinfo=timezone(sign * timedelta(hours=hh, minutes=mm)))


def parse_gps(text: str) -> float:
    """XMP GPSCoordinate "DDD,MM.mmk" or "DDD,MM,SSk" (k = N/S/E/W), or a plain decimal."""
    s = text.strip().upper()
    ref = s[-1] if s and s[-1] in "NSEW" else ""
    body = s[:-1] if ref else s
    parts = [float(p) for p in body.split(",")]
    if not parts or len(parts) > 3:
        raise ValueError(f"not a GPS coordinate: {text!r}")
    value = parts[0] + (parts[1] / 60 if len(parts) > 1 else 0) + (parts[2] / 3600 if len(parts) > 2 else 0)
    return -value if ref in ("S", "W") else value


def format_gps(value: float, lat: bool) -> str:
    ref = ("N" if value >= 0 else "S") if lat else ("E" if value >= 0 else "W")
    value = abs(value)
    deg = int(value)
    return f"{deg},{(value - deg) * 60:.6f}{ref}"


def _rational(text: str) -> float:
    if "/" in text:
        n, d = text.split("/", 1)
        return float(n) / float(d)
    return float(text)


def _finite(x: float, name: str) -> float:
    if not math.isfinite(x):
        raise ValueError(f"{name} is not a finite number")
    return x


def read_fields(props: dict[str, Any], source: str) -> XmpFields:
    """Checked metadata from a packet's properties; bad values become warnings."""
    f = XmpFields()

    def bad(prop: str, value: Any, why: str) -> None:
        f.warnings.append(f"{source}: {prop}={str(value)[:60]!r} ignored ({why})")

    raw = props.get(q("xmp", "Rating"))
    if raw is not None:
        try:
            r = float(_text(raw) or "")
            if not math.isfinite(r) or r != int(r) or not -1 <= r <= 5:
                raise ValueError
            if r < 0:
                f.flag, f.rating = "reject", 0
            else:
                f.rating = int(r)
        except ValueError:
            bad("xmp:Rating", raw, "not a whole number in -1..5")
    raw = props.get(q("digiKam", "PickLabel"))
    if raw is not None and f.flag is None:
        if _text(raw) in DIGIKAM_PICK:
            f.flag = DIGIKAM_PICK[_text(raw)]
        else:
            bad("digiKam:PickLabel", raw, "not 0..3")
    raw = props.get(q("xmp", "Label"))
    if raw is not None and _text(raw):
        name = _text(raw).lower()
        if name in LABEL_NAMES:
            f.label = name
        else:
            f.unmapped.append(f"xmp:Label={_text(raw)!r} (maskroom labels: {', '.join(LABEL_NAMES)})")
    raw = props.get(q("darktable", "colorlabels"))
    if raw is not None and f.label is None:
        idx = _list(raw)
        try:
            labels = [DARKTABLE_LABELS[int(i)] for i in idx]
            f.label = labels[0] if labels else None
            if len(labels) > 1:
                f.unmapped.append(f"darktable:colorlabels: {', '.join(labels[1:])} (maskroom keeps one label)")
        except (ValueError, IndexError):
            bad("darktable:colorlabels", raw, "not indices 0..4")

    hier = [k.strip("|") for k in _list(props.get(q("lr", "hierarchicalSubject"))) if k.strip("|")]
    hier += [k.strip("/").replace("/", "|") for k in _list(props.get(q("digiKam", "TagsList")))
             if k.strip("/")]
    levels = {part for path in hier for part in path.split("|")}
    flat = [k for k in _list(props.get(q("dc", "subject"))) if k not in levels]
    keywords = []
    for k in hier + flat:
        k = "|".join(p.strip() for p in k.split("|") if p.strip())[:1000]
        if k and k not in keywords:
            keywords.append(k)
    f.keywords = keywords

    f.title = _text(props.get(q("dc", "title")))
    f.caption = _text(props.get(q("dc", "description")))
    creators = _list(props.get(q("dc", "creator")))
    f.creator = "; ".join(creators)[:2000] or None
    f.copyright = _text(props.get(q("dc", "rights")))
    f.usage_terms = _text(props.get(q("xmpRights", "UsageTerms")))

    for attr, prop, lo, hi in (("gps_lat", "GPSLatitude", -90, 90), ("gps_lon", "GPSLongitude", -180, 180)):
        raw = props.get(q("exif", prop))
        if raw is None:
            continue
        try:
            v = _finite(parse_gps(_text(raw) or ""), prop)
            if not lo <= v <= hi:
                raise ValueError
            setattr(f, attr, v)
        except (ValueError, ZeroDivisionError):
            bad(f"exif:{prop}", raw, f"not a coordinate in {lo}..{hi}")
    raw = props.get(q("exif", "GPSAltitude"))
    if raw is not None:
        try:
            alt = _finite(_rational(_text(raw) or ""), "GPSAltitude")
            if not -20000 <= alt <= 100000:
                raise ValueError
            f.gps_alt = -alt if _text(props.get(q("exif", "GPSAltitudeRef"))) == "1" else alt
        except (ValueError, ZeroDivisionError):
            bad("exif:GPSAltitude", raw, "not a number of metres")

    for prop in (q("exif", "DateTimeOriginal"), q("photoshop", "DateCreated"), q("xmp", "CreateDate")):
        raw = props.get(prop)
        if raw is None:
            continue
        try:
            f.capture_time, f.capture_offset = parse_date(_text(raw) or "")
            break
        except ValueError:
            bad(prop.split("}")[1], raw, "not an ISO 8601 date")
    raw = props.get(q("xmp", "MetadataDate"))
    if raw is not None:
        try:
            f.metadata_date = _aware(*parse_date(_text(raw) or ""))
        except ValueError:
            bad("xmp:MetadataDate", raw, "not an ISO 8601 date")
    return f
