"""darktable libraries (``library.db``, SQLite; tag names in ``data.db`` beside it since
darktable 3.0, in ``library.db`` before), read by darktable's published schema.

Tables used: film_rolls (folders), images (file name, ``flags``: stars in bits 0-2,
rejected as bit 3 or as the old "6 stars", datetime_taken), color_labels,
tagged_images + tags, and history (the develop stack, kept verbatim -- maskroom does
not apply it; it goes back out in the sidecar's ``darktable:history``).
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from maskroom.engine.migrate import MigrateError, open_catalog_file, open_readonly, remap

REQUIRED = {"film_rolls", "images"}
LABELS = ("red", "yellow", "green", "blue", "purple")
REJECTED = 0x8
# darktable >= 3.6 stores datetime_taken as microseconds since 0001-01-01 (GTimeSpan).
_EPOCH = datetime(1, 1, 1)
HISTORY_COLUMNS = ("num", "module", "operation", "op_params", "enabled", "blendop_params", "blendop_version",
                   "multi_priority", "multi_name")


@dataclass
class DtImage:
    id: int
    path: str
    rating: int = 0
    flag: str = "none"
    labels: list[str] = field(default_factory=list)
    capture_time: str | None = None
    keywords: list[str] = field(default_factory=list)
    auto_tags: int = 0  # darktable's own "darktable|..." tags, not taken
    history: list[dict] = field(default_factory=list)  # rows as stored, blobs as hex
    history_end: int | None = None
    film_roll: str = ""


@dataclass
class DtLibrary:
    path: str
    film_rolls: list[str] = field(default_factory=list)
    images: list[DtImage] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _when(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        try:
            return (_EPOCH + timedelta(microseconds=int(value))).isoformat(timespec="seconds")
        except OverflowError:
            return None
    text = str(value).strip()
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text[:19], fmt).isoformat(timespec="seconds")
        except ValueError:
            continue
    return None


def _tag_names(conn, path: Path, have: set[str]) -> dict[int, str]:
    if "tags" in have:
        return {r["id"]: r["name"] for r in conn.execute("SELECT id, name FROM tags")}
    data = path.with_name("data.db")
    if not data.is_file():
        return {}
    dconn = open_readonly(data)
    try:
        return {r["id"]: r["name"] for r in dconn.execute("SELECT id, name FROM tags")}
    except sqlite3.DatabaseError:
        return {}
    finally:
        dconn.close()


def _hex(value) -> str | None:
    if value is None:
        return None
    return value.hex() if isinstance(value, (bytes, bytearray, memoryview)) else str(value)


def read_library(path: Path, maps: list[tuple[str, str]] | None = None) -> DtLibrary:
    conn, have = open_catalog_file(path, REQUIRED, "darktable library")
    try:
        lib = DtLibrary(str(path))
        rolls = {r["id"]: remap(r["folder"], maps or []) for r in conn.execute("SELECT id, folder FROM film_rolls")}
        lib.film_rolls = sorted(set(rolls.values()))
        names = _tag_names(conn, path, have)
        if not names and "tagged_images" in have:
            lib.skipped.append("tags: no tags table in library.db and no data.db beside it")
        tags: dict[int, list[str]] = {}
        auto: dict[int, int] = {}
        if "tagged_images" in have:
            for r in conn.execute("SELECT imgid, tagid FROM tagged_images"):
                name = names.get(r["tagid"])
                if not name:
                    continue
                if name.startswith("darktable|"):
                    auto[r["imgid"]] = auto.get(r["imgid"], 0) + 1
                else:
                    tags.setdefault(r["imgid"], []).append(name)
        labels: dict[int, list[str]] = {}
        if "color_labels" in have:
            for r in conn.execute("SELECT imgid, color FROM color_labels ORDER BY color"):
                if 0 <= int(r["color"]) < len(LABELS):
                    labels.setdefault(r["imgid"], []).append(LABELS[int(r["color"])])
        history: dict[int, list[dict]] = {}
        if "history" in have:
            cols = [c[1] for c in conn.execute("PRAGMA table_info(history)")]
            use = [c for c in HISTORY_COLUMNS if c in cols]
            for r in conn.execute(f"SELECT imgid, {', '.join(use)} FROM history ORDER BY imgid, num"):
                history.setdefault(r["imgid"], []).append({c: _hex(r[c]) if c.endswith("params") else r[c]
                                                           for c in use})
        image_cols = {c[1] for c in conn.execute("PRAGMA table_info(images)")}
        end_col = ", history_end" if "history_end" in image_cols else ""
        for r in conn.execute(f"SELECT id, film_id, filename, flags, datetime_taken{end_col} FROM images ORDER BY id"):
            flags = int(r["flags"] or 0)
            stars = flags & 0x7
            rejected = bool(flags & REJECTED) or stars == 6
            folder = rolls.get(r["film_id"], "")
            lib.images.append(DtImage(
                id=r["id"], path=f"{folder.rstrip('/')}/{r['filename']}", rating=0 if rejected else min(5, stars),
                flag="reject" if rejected else "none", labels=labels.get(r["id"], []),
                capture_time=_when(r["datetime_taken"]), keywords=sorted(set(tags.get(r["id"], []))),
                auto_tags=auto.get(r["id"], 0), history=history.get(r["id"], []),
                history_end=r["history_end"] if end_col else None, film_roll=folder))
        return lib
    except sqlite3.DatabaseError as exc:
        raise MigrateError(f"{path}: cannot read the darktable library ({exc})") from None
    finally:
        conn.close()
