"""Finding and parsing XMP: packets embedded in photos, and sidecar files.

Every read goes through defusedxml with DTDs forbidden, so entity expansion
("billion laughs"), external entities and DOCTYPEs are refused before anything is
expanded; a size cap refuses huge payloads before they are parsed.  A problem is an
``XmpError`` whose message names the file and the reason in one line: the caller
warns and goes on (an image with a broken sidecar still imports).

The parsed packet is turned into plain values by ``properties``: a dict keyed by
Clark names (``{namespace}Name``) whose values are text, lists (rdf:Bag/Seq/Alt)
or dicts (structs), whichever RDF spelling the writer used (attribute or element).
"""
from __future__ import annotations

import hashlib
import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import defusedxml
import defusedxml.ElementTree as DET

from maskroom.core.errors import InvalidValue

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
X = "adobe:ns:meta/"
XML_NS = "http://www.w3.org/XML/1998/namespace"

MAX_SIDECAR_BYTES = 8 << 20  # the largest darktable histories seen are well under 1 MB
EMBEDDED_SCAN_BYTES = 16 << 20  # embedded packets sit near a file's start (APP1, TIFF tag, chunk)


class XmpError(InvalidValue):
    """XMP that cannot be read; the message names the file and the reason."""


@dataclass
class Packet:
    """One parsed XMP packet: its tree, the prefixes it declared, where it came from."""

    root: ET.Element  # x:xmpmeta (or rdf:RDF when a writer left the wrapper out)
    prefixes: dict[str, str] = field(default_factory=dict)  # uri -> prefix as the file spelled it
    source: str = ""
    digest: str = ""  # sha256 of the bytes parsed

    @property
    def rdf(self) -> ET.Element:
        return self.root if self.root.tag == f"{{{RDF}}}RDF" else self.root.find(f".//{{{RDF}}}RDF")

    def descriptions(self) -> list[ET.Element]:
        return [d for d in self.rdf if d.tag == f"{{{RDF}}}Description"]


def sidecar_candidates(path: Path) -> list[Path]:
    """Both naming conventions: ``IMG_1.CR3.xmp`` (darktable, digiKam) and ``IMG_1.xmp``
    (Lightroom, Capture One), upper- or lower-case extension."""
    out = []
    for name in (path.name + ".xmp", path.name + ".XMP", path.stem + ".xmp", path.stem + ".XMP"):
        p = path.with_name(name)
        if p.is_file() and p not in out:
            out.append(p)
    return out


def parse_bytes(data: bytes, source: str) -> Packet:
    """Parse an XMP packet (or a sidecar's whole text) with DTDs and entities forbidden."""
    if len(data) > MAX_SIDECAR_BYTES:
        raise XmpError(f"{source}: XMP is {len(data) / 1e6:.1f} MB, more than the {MAX_SIDECAR_BYTES >> 20} MB "
                       "accepted; not read")
    prefixes: dict[str, str] = {}
    try:
        # start-ns events keep the prefixes the writer chose, so a rewrite spells
        # foreign namespaces the same way.
        events = DET.iterparse(io.BytesIO(data), events=("start-ns",), forbid_dtd=True,
                               forbid_entities=True, forbid_external=True)
        for _event, (prefix, uri) in events:
            prefixes.setdefault(uri, prefix or "")
        root = events.root
    except defusedxml.DTDForbidden:
        raise XmpError(f"{source}: XMP has a DOCTYPE (refused: DTDs can expand entities)") from None
    except defusedxml.EntitiesForbidden:
        raise XmpError(f"{source}: XMP declares entities (refused: entity expansion)") from None
    except defusedxml.DefusedXmlException as exc:
        raise XmpError(f"{source}: XMP refused ({type(exc).__name__})") from None
    except ET.ParseError as exc:
        raise XmpError(f"{source}: malformed XMP ({exc})") from None
    if root.tag not in (f"{{{X}}}xmpmeta", f"{{{RDF}}}RDF") and root.find(f".//{{{RDF}}}RDF") is None:
        raise XmpError(f"{source}: not an XMP packet (root element {root.tag})")
    return Packet(root=root, prefixes=prefixes, source=source, digest=hashlib.sha256(data).hexdigest())


def read_sidecar(path: Path) -> Packet:
    try:
        size = path.stat().st_size
        if size > MAX_SIDECAR_BYTES:
            raise XmpError(f"{path}: XMP is {size / 1e6:.1f} MB, more than the {MAX_SIDECAR_BYTES >> 20} MB "
                           "accepted; not read")
        data = path.read_bytes()
    except OSError as exc:
        raise XmpError(f"{path}: cannot read sidecar ({exc.strerror or exc})") from None
    return parse_bytes(data, str(path))


def embedded_packet_bytes(path: Path) -> bytes | None:
    """The XMP packet inside a photo (JPEG APP1, TIFF/DNG tag 700, PNG iTXt, WebP and HEIC
    chunks all store it as plain UTF-8 text), found by its markers in the file's head."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(EMBEDDED_SCAN_BYTES)
    except OSError:
        return None
    start = head.find(b"<x:xmpmeta")
    if start < 0:
        return None
    end = head.find(b"</x:xmpmeta>", start)
    if end < 0:
        return None
    return head[start:end + len(b"</x:xmpmeta>")]


def read_embedded(path: Path) -> Packet | None:
    data = embedded_packet_bytes(path)
    return None if data is None else parse_bytes(data, f"{path} (embedded XMP)")


def file_state(path: Path) -> dict[str, Any]:
    """size, mtime and sha256 of a sidecar: what `xmp status` compares against."""
    st = path.stat()
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return {"size": st.st_size, "mtime": st.st_mtime, "digest": h.hexdigest()}


# -- RDF to plain values --------------------------------------------------------------------

_CONTAINERS = {f"{{{RDF}}}Bag", f"{{{RDF}}}Seq", f"{{{RDF}}}Alt"}
_SKIP_ATTRS = {f"{{{RDF}}}about", f"{{{RDF}}}parseType", f"{{{XML_NS}}}lang", f"{{{RDF}}}resource"}


def _struct(el: ET.Element) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in el.attrib.items() if k not in _SKIP_ATTRS}
    for child in el:
        if child.tag == f"{{{RDF}}}Description":
            out.update(_struct(child))
        else:
            out[child.tag] = value_of(child)
    return out


def value_of(el: ET.Element) -> Any:
    """A property element's value: text, a list (Bag/Seq/Alt) or a dict (struct)."""
    children = list(el)
    if children and children[0].tag in _CONTAINERS:
        items = []
        for li in children[0]:
            if li.tag != f"{{{RDF}}}li":
                continue
            if len(li) or set(li.attrib) - _SKIP_ATTRS:
                items.append(_struct(li))
            else:
                items.append((li.text or "").strip())
        return items
    if el.get(f"{{{RDF}}}parseType") == "Resource" or children or set(el.attrib) - _SKIP_ATTRS:
        return _struct(el)
    return (el.text or "").strip()


def properties(packet: Packet) -> dict[str, Any]:
    """Every top-level property of the packet, attribute and element forms alike."""
    props: dict[str, Any] = {}
    for desc in packet.descriptions():
        props.update(_struct(desc))
    return props

