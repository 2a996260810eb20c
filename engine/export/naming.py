"""Output file names from a template, made safe: a name can never leave the export folder.

A template is ``str.format``-like: ``"{date:%Y%m%d}_{seq:04}_{name}"``.  Fields:
name (original file stem), date (capture time; the spec is a strftime format), seq
(1-based position in the batch), id (image id), rating, camera, version (virtual
copy name), ext (format extension without a dot).  ``/`` in the template's literal
text makes subfolders; a field's value can never add one.

Everything that comes out is sanitised component by component: path separators,
``..``, NUL and control characters, characters Windows forbids, Windows device
names (CON, NUL, COM1...), trailing dots/spaces and overlong names.  `target_path`
then checks the resolved result is inside the export folder, so a symlink inside
it cannot lead out either.
"""
from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from maskroom.core.errors import InvalidValue

DEFAULT_TEMPLATE = "{name}"
FIELDS = ("name", "date", "seq", "id", "rating", "camera", "version", "ext")

# Bytes, not characters: Linux and macOS limit a name to 255 bytes of UTF-8.  Room
# is kept for the extension and a "-NNN" uniqueness suffix.
MAX_NAME_BYTES = 255
_SUFFIX_ROOM = 8
_MAX_DEPTH = 8

_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{p}{d}" for p in ("COM", "LPT") for d in "0123456789¹²³"
}


class TemplateError(InvalidValue):
    """A template that cannot be used (unknown field, bad spec); the message says which."""


@dataclass(frozen=True)
class NameFields:
    name: str
    id: int
    seq: int = 1
    date: datetime | None = None
    rating: int = 0
    camera: str = ""
    version: str = ""
    ext: str = ""


def check_template(template: str) -> None:
    """Raise TemplateError unless every field is known and its spec works."""
    render_template(template, NameFields(name="x", id=1, date=datetime(2000, 1, 2, 3, 4, 5), camera="c", version="v"))


def _parse(template: str):
    try:
        return list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"template {template!r}: {exc}") from None


def _format_field(field: str, spec: str, conversion: str | None, values: NameFields, template: str) -> str:
    # Only bare names: "{name.__class__}" or "{name[0]}" would reach into objects.
    if field not in FIELDS:
        known = ", ".join(FIELDS)
        raise TemplateError(f"template {template!r}: unknown field {{{field}}} (known: {known})")
    if conversion:
        raise TemplateError(f"template {template!r}: conversions like !{conversion} are not supported")
    # "{seq:999999999}" would build a gigabyte of padding before truncation: a width or
    # precision beyond what a file name can hold is refused up front.
    too_big = [n for n in re.findall(r"\d+", spec or "") if int(n) > MAX_NAME_BYTES]
    if too_big:
        raise TemplateError(f"template {template!r}: field {{{field}:{spec}}}: width {too_big[0]} is more "
                            f"than a file name can hold ({MAX_NAME_BYTES})")
    value = getattr(values, field)
    try:
        if field == "date":
            if value is None:
                return "nodate"
            return value.strftime(spec or "%Y%m%d")
        return format(value, spec)
    except (ValueError, TypeError) as exc:
        raise TemplateError(f"template {template!r}: field {{{field}:{spec}}}: {exc}") from None


def render_template(template: str, values: NameFields) -> list[str]:
    """The template filled in, as a list of sanitised path components (last = file stem)."""
    if not template or not template.strip():
        raise TemplateError("template is empty")
    parts: list[str] = [""]
    for literal, field, spec, conversion in _parse(template):
        # Literal text may hold "/" (subfolders); a field value may not.
        chunks = re.split(r"[/\\]", literal)
        parts[-1] += chunks[0]
        parts.extend(chunks[1:])
        if field is not None:
            text = _format_field(field, spec or "", conversion, values, template)
            # A "/" written in a date spec ("{date:%Y/%m}") is the template's own text,
            # so it makes date folders; any other value's separators are replaced.
            chunks = text.split("/") if field == "date" and "/" in (spec or "") else [text]
            parts[-1] += _FORBIDDEN.sub("_", chunks[0])
            parts.extend(_FORBIDDEN.sub("_", c) for c in chunks[1:])
    # Empty folder components vanish ("a//b", "../"); an empty file stem stays ''
    # so the caller can put a fallback name in its place.
    folders = [c for c in (sanitize_component(p) for p in parts[:-1]) if c][:_MAX_DEPTH]
    return folders + [sanitize_component(parts[-1])]


def sanitize_component(text: str) -> str:
    """One path component that every common filesystem accepts; may return ''."""
    text = unicodedata.normalize("NFC", text)
    text = _FORBIDDEN.sub("_", text)
    # Leading dots would hide the file; trailing dots and spaces Windows drops.  This
    # also turns ".", ".." and "..." into "".
    text = text.strip(" .")
    stem = text.split(".", 1)[0].strip().upper()
    if stem in _RESERVED:
        text = "_" + text
    return truncate_bytes(text, MAX_NAME_BYTES - _SUFFIX_ROOM - 8)


def truncate_bytes(text: str, limit: int) -> str:
    """Cut to at most ``limit`` UTF-8 bytes without splitting a character."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[:limit].decode("utf-8", errors="ignore").strip(" .")


def fallback_stem(values: NameFields) -> str:
    return f"image_{values.id}"


def relative_name(template: str, values: NameFields, ext: str) -> Path:
    """The relative output path (folders + file name with extension) for one image."""
    comps = render_template(template, values)
    stem = comps[-1]
    if stem.lower().endswith("." + ext.lower()):  # a template that already adds .jpg
        stem = stem[: -len(ext) - 1].rstrip(". ")
    stem = stem or fallback_stem(values)
    comps[-1] = f"{stem}.{ext}"
    return Path(*comps)


def ensure_inside(root: Path, candidate: Path) -> Path:
    """``candidate`` resolved; ValueError unless it lies inside ``root``."""
    root_r = root.resolve()
    resolved = (root_r / candidate).resolve()
    if resolved == root_r or not resolved.is_relative_to(root_r):
        raise ValueError(f"{candidate}: would be written outside {root_r}")
    return resolved


def with_counter(path: Path, n: int) -> Path:
    """``name.jpg`` -> ``name-n.jpg`` (the uniqueness suffix)."""
    return path.with_name(f"{path.stem}-{n}{path.suffix}")
