"""Writing XMP sidecars: maskroom's fields replaced, everything else kept.

A write starts from the sidecar already on disk (when there is one) and changes
only the properties maskroom owns (``OWNED`` plus the crs: names ``crs.owned_crs_names``
allows); every other namespace and property -- darktable's history stack, Capture
One's or digiKam's fields, Lightroom settings maskroom does not map -- goes back out
as it came in.  The file is replaced atomically (core.files: temp file in the same
folder, fsync, rename): a reader sees the old sidecar or the new one, never half.
Originals are never opened for writing.
"""
from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from maskroom.core.files import atomic_path
from maskroom.core.recipe import Recipe
from maskroom.engine.xmp import crs
from maskroom.engine.xmp.fields import DARKTABLE_LABELS, LABEL_NAMES, NS, format_gps, q
from maskroom.engine.xmp.read import RDF, XML_NS, Packet, X, read_sidecar

RECIPE_PROP = q("maskroom", "Recipe")
RECIPE_FORMAT = "maskroom-recipe"


@dataclass
class Alt:
    """A language alternative (dc:title, dc:description, dc:rights...): one x-default."""
    text: str


@dataclass
class Bag:
    items: list[str]


@dataclass
class Seq:
    items: list[Any]  # strings, or dicts (structs)


# Properties a maskroom write owns (replaces or removes); everything else is kept.
OWNED = {
    q("xmp", "Rating"), q("xmp", "Label"), q("xmp", "MetadataDate"),
    q("dc", "subject"), q("lr", "hierarchicalSubject"), q("dc", "title"), q("dc", "description"),
    q("dc", "creator"), q("dc", "rights"), q("xmpRights", "UsageTerms"),
    q("exif", "GPSLatitude"), q("exif", "GPSLongitude"), q("exif", "GPSAltitude"), q("exif", "GPSAltitudeRef"),
    q("exif", "DateTimeOriginal"), RECIPE_PROP,
}
# Owned only where the sidecar already has them (another tool's spelling of our fields).
OWNED_IF_PRESENT = {q("darktable", "colorlabels"), q("digiKam", "TagsList")}


def metadata_properties(meta: dict[str, Any], existing: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The owned non-develop properties for catalog metadata ``meta`` (keys as
    ``fields.XmpFields``); None removes a property.  Returns (properties, lossy)."""
    out: dict[str, Any] = {}
    lossy: list[str] = []
    rating = int(meta.get("rating") or 0)
    if meta.get("flag") == "reject":
        if rating:
            lossy.append(f"rating {rating} of a rejected photo (XMP writes a reject as rating -1)")
        rating = -1
    elif meta.get("flag") == "pick":
        lossy.append("pick flag (no XMP field Lightroom or darktable read)")
    out[q("xmp", "Rating")] = str(rating)
    label = meta.get("label")
    out[q("xmp", "Label")] = LABEL_NAMES[label] if label else None
    if q("darktable", "colorlabels") in existing:
        out[q("darktable", "colorlabels")] = Seq([str(DARKTABLE_LABELS.index(label))]) if label else None
    paths = list(meta.get("keywords") or [])
    flat: list[str] = []
    for p in paths:
        for part in p.split("|"):
            if part not in flat:
                flat.append(part)
    out[q("dc", "subject")] = Bag(flat) if flat else None
    # Only real hierarchies: a one-level keyword is in dc:subject already (as Lightroom reads it).
    hier = [p for p in paths if "|" in p]
    out[q("lr", "hierarchicalSubject")] = Bag(hier) if hier else None
    if q("digiKam", "TagsList") in existing:
        out[q("digiKam", "TagsList")] = Seq([p.replace("|", "/") for p in paths]) if paths else None
    for key, prop in (("title", q("dc", "title")), ("caption", q("dc", "description")),
                      ("copyright", q("dc", "rights")), ("usage_terms", q("xmpRights", "UsageTerms"))):
        out[prop] = Alt(meta[key]) if meta.get(key) else None
    creator = meta.get("creator")
    out[q("dc", "creator")] = Seq([x.strip() for x in creator.split(";") if x.strip()]) if creator else None
    if meta.get("gps_lat") is not None and meta.get("gps_lon") is not None:
        out[q("exif", "GPSLatitude")] = format_gps(float(meta["gps_lat"]), lat=True)
        out[q("exif", "GPSLongitude")] = format_gps(float(meta["gps_lon"]), lat=False)
        if meta.get("gps_alt") is not None:
            alt = float(meta["gps_alt"])
            out[q("exif", "GPSAltitude")] = f"{round(abs(alt) * 1000)}/1000"
            out[q("exif", "GPSAltitudeRef")] = "1" if alt < 0 else "0"
    when = meta.get("capture_time")
    if when:
        text = when.isoformat(timespec="seconds") if isinstance(when, datetime) else str(when)
        out[q("exif", "DateTimeOriginal")] = text + (meta.get("capture_offset") or "")
    out[q("xmp", "MetadataDate")] = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
    return out, lossy


def develop_properties(recipe: Recipe | None, width: int, height: int, existing: dict[str, Any],
                       source: str) -> tuple[dict[str, Any], list[str]]:
    """maskroom's whole edit in its own namespace, plus the crs: projection."""
    if recipe is None:
        return {}, []
    out: dict[str, Any] = {RECIPE_PROP: json.dumps({"format": RECIPE_FORMAT, **recipe.to_dict()},
                                                   sort_keys=True, separators=(",", ":"))}
    projected, lossy = crs.crs_from_recipe(recipe, width, height)
    owned = crs.owned_crs_names(existing, source)
    for name in owned:
        key = crs.c(name)
        out[key] = _keep_spelling(name, projected.get(key), existing.get(key))
    if not owned >= set(crs.CORRECTIONS) and len(recipe.layers) > 1:
        lossy.append("masked layers not projected to crs: (the sidecar's own Lightroom corrections are kept)")
    return out, lossy


# library.db history columns -> darktable's XMP attribute names (blobs as hex, which darktable reads).
DARKTABLE_XMP_NAMES = {"module": "modversion", "op_params": "params"}


def darktable_history_properties(kept: dict | None, existing: dict[str, Any]) -> dict[str, Any]:
    """A darktable history migrated from library.db, written back verbatim (as darktable
    writes it: one rdf:li per step, blobs as hex) when the sidecar has none of its own."""
    if not kept or q("darktable", "history") in existing:
        return {}
    steps = []
    for step in kept.get("steps") or []:
        steps.append({q("darktable", DARKTABLE_XMP_NAMES.get(k, k)): "" if v is None else str(v)
                      for k, v in step.items()})
    out: dict[str, Any] = {q("darktable", "history"): Seq(steps)}
    if kept.get("history_end") is not None:
        out[q("darktable", "history_end")] = str(kept["history_end"])
    return out


def _keep_spelling(name: str, new: Any, old: Any) -> Any:
    """An owned crs: value as the sidecar already spells it when it means the same
    ("+12" stays "+12"); a slider maskroom has at neutral becomes 0, not a gap."""
    if old is None or isinstance(old, (list, dict)) or isinstance(new, list):
        return new
    if new is None:
        if name in crs.GLOBAL:
            new = "0"
        elif name == "HasCrop":
            new = "False"
        elif name == "WhiteBalance":
            new = "As Shot"  # maskroom decodes with the camera's white balance
        else:
            return old  # crop corners without a crop, process version: Lightroom's, kept
    try:
        return old if float(str(old)) == float(str(new)) else new
    except ValueError:
        return old if str(old).lower() == str(new).lower() else new


# -- building the tree ---------------------------------------------------------------------------

def _el(tag: str, attrib: dict | None = None) -> ET.Element:
    return ET.Element(tag, attrib or {})


def _fill(parent: ET.Element, value: Any) -> None:
    """Put ``value`` inside property element ``parent``."""
    if isinstance(value, Alt):
        alt = ET.SubElement(parent, f"{{{RDF}}}Alt")
        ET.SubElement(alt, f"{{{RDF}}}li", {f"{{{XML_NS}}}lang": "x-default"}).text = value.text
    elif isinstance(value, (Bag, Seq)) or isinstance(value, list):
        items = value.items if isinstance(value, (Bag, Seq)) else value
        box = ET.SubElement(parent, f"{{{RDF}}}{'Bag' if isinstance(value, Bag) else 'Seq'}")
        for item in items:
            li = ET.SubElement(box, f"{{{RDF}}}li")
            if isinstance(item, dict):
                _struct(li, item)
            else:
                li.text = str(item)
    elif isinstance(value, dict):
        _struct(parent, value)
    else:
        parent.text = str(value)


def _struct(li: ET.Element, item: dict) -> None:
    """A struct as Lightroom writes one: simple fields as attributes, nested ones as elements
    of an rdf:Description (an element with attributes *and* children is not valid RDF)."""
    simple = {k: str(v) for k, v in item.items() if not isinstance(v, (list, dict, Alt, Bag, Seq))}
    nested = {k: v for k, v in item.items() if k not in simple}
    if not nested:
        li.attrib.update(simple)
        return
    desc = ET.SubElement(li, f"{{{RDF}}}Description", simple)
    for k, v in nested.items():
        _fill(ET.SubElement(desc, k), v)


def _new_root() -> ET.Element:
    root = _el(f"{{{X}}}xmpmeta", {f"{{{X}}}xmptk": "maskroom"})
    rdf = ET.SubElement(root, f"{{{RDF}}}RDF")
    ET.SubElement(rdf, f"{{{RDF}}}Description", {f"{{{RDF}}}about": ""})
    return root


def render(existing: Packet | None, updates: dict[str, Any]) -> bytes:
    """The sidecar's new bytes: ``existing`` with ``updates`` applied (None removes)."""
    root = existing.root if existing is not None else _new_root()
    rdf = root if root.tag == f"{{{RDF}}}RDF" else root.find(f".//{{{RDF}}}RDF")
    descs = [d for d in rdf if d.tag == f"{{{RDF}}}Description"]
    if not descs:
        descs = [ET.SubElement(rdf, f"{{{RDF}}}Description", {f"{{{RDF}}}about": ""})]
    for key in updates:
        for d in descs:
            d.attrib.pop(key, None)
            for child in [ch for ch in d if ch.tag == key]:
                d.remove(child)
    target = descs[0]
    for key, value in updates.items():
        if value is None:
            continue
        if isinstance(value, str):
            target.set(key, value)
        else:
            _fill(ET.SubElement(target, key), value)
    _register_prefixes(existing)
    ET.indent(root, space=" ")
    body = ET.tostring(root, encoding="unicode")
    return (body + "\n").encode("utf-8")


_AUTO_PREFIX = re.compile(r"ns\d+$")


def _register_prefixes(existing: Packet | None) -> None:
    # ElementTree's prefix table is process-wide; set it to the spellings this sidecar
    # used (foreign first, maskroom's own names win) so prefixes survive the rewrite.
    if existing is not None:
        for uri, prefix in existing.prefixes.items():
            if prefix and not _AUTO_PREFIX.match(prefix) and prefix not in NS:
                ET.register_namespace(prefix, uri)
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)


def atomic_write(path: Path, data: bytes) -> None:
    """core.files' atomic writer (temp beside, fsync, rename, folder fsync), keeping the
    replaced sidecar's permissions; the temp file must parse as XMP before it replaces
    the sidecar."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        mode = None
    with atomic_path(path, verify=read_sidecar, mode=mode) as tmp:
        tmp.write_bytes(data)


def copy_sidecar_beside(sidecar: Path, original: Path, copy: Path) -> Path | None:
    """Import --copy-to: the original's sidecar goes beside the copy, in the same naming
    convention; an existing different file there is left alone (None)."""
    full = sidecar.name.lower() == (original.name + ".xmp").lower()
    dest = copy.with_name(copy.name + sidecar.suffix) if full else copy.with_name(copy.stem + sidecar.suffix)
    if dest.exists():
        return dest if dest.read_bytes() == sidecar.read_bytes() else None
    with atomic_path(dest, mode=sidecar.stat().st_mode & 0o777) as tmp:
        shutil.copyfile(sidecar, tmp)
    return dest

