"""Lightroom Classic catalogs (``.lrcat``, SQLite), read by the published schema.

Tables used: AgLibraryRootFolder/AgLibraryFolder/AgLibraryFile (where each file is),
Adobe_images (rating, pick, colorLabels, captureTime, masterImage/copyName for
virtual copies), AgLibraryKeyword/AgLibraryKeywordImage (keyword tree),
AgLibraryCollection/AgLibraryCollectionImage (collections and sets),
Adobe_AdditionalMetadata.xmp (each image's XMP as Lightroom last wrote it),
Adobe_imageDevelopSettings.text (the develop settings as a Lua table, read for the
top-level sliders when the XMP holds none) and AgLibraryIPTC (caption, copyright).
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from maskroom.engine.migrate import MigrateError, open_catalog_file, remap

REQUIRED = {"Adobe_images", "AgLibraryFile", "AgLibraryFolder", "AgLibraryRootFolder"}
COLLECTION = "com.adobe.ag.library.collection"
COLLECTION_SET = "com.adobe.ag.library.group"
SMART = "com.adobe.ag.library.smart_collection"
# Lightroom stores the label's display name; English names and their usual translations.
LABELS = {"red": "red", "rot": "red", "rouge": "red", "yellow": "yellow", "gelb": "yellow", "jaune": "yellow",
          "green": "green", "grün": "green", "vert": "green", "blue": "blue", "blau": "blue", "bleu": "blue",
          "purple": "purple", "lila": "purple", "violet": "purple"}


@dataclass
class LrImage:
    id: int
    path: str
    rating: int = 0
    flag: str = "none"
    label: str | None = None
    label_raw: str | None = None
    capture_time: str | None = None
    master: int | None = None  # set on a virtual copy: the master's id
    copy_name: str | None = None
    keywords: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)  # "Set|Collection"
    xmp: str | None = None
    develop: dict[str, str] = field(default_factory=dict)  # crs name -> value, from the Lua table
    develop_nested: list[str] = field(default_factory=list)  # Lua sub-tables (curves, local corrections)
    caption: str | None = None
    copyright: str | None = None


@dataclass
class LrCatalog:
    path: str
    images: list[LrImage] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)  # every collection path, sets as parents
    skipped: list[str] = field(default_factory=list)  # what the catalog holds that maskroom does not take


def _keyword_paths(conn) -> dict[int, str]:
    rows = {r["id_local"]: (r["name"], r["parent"]) for r in conn.execute(
        "SELECT id_local, name, parent FROM AgLibraryKeyword")}
    out: dict[int, str] = {}

    def path(kid, depth=0):
        if kid not in out:
            name, parent = rows[kid]
            if not name:  # the nameless root of the keyword tree
                out[kid] = ""
            else:
                up = path(parent, depth + 1) if parent in rows and depth < 64 else ""
                out[kid] = f"{up}|{name}" if up else str(name)
        return out[kid]

    for kid in rows:
        path(kid)
    return out


def _collections(conn, cat: LrCatalog) -> dict[int, str]:
    rows = {r["id_local"]: dict(r) for r in conn.execute(
        "SELECT id_local, name, parent, creationId FROM AgLibraryCollection")}
    out: dict[int, str] = {}

    def path(cid, depth=0):
        r = rows[cid]
        up = path(r["parent"], depth + 1) if r["parent"] in rows and depth < 64 else ""
        return f"{up}|{r['name']}" if up else str(r["name"])

    for cid, r in rows.items():
        kind = r["creationId"] or ""
        if kind == SMART:
            cat.skipped.append(f"smart collection {path(cid)!r} (its Lightroom rules are not translated)")
        elif kind in (COLLECTION, COLLECTION_SET) or not kind.startswith("com.adobe.ag.library"):
            out[cid] = path(cid)
            cat.collections.append(out[cid])
    return out


def lua_settings(text: str) -> tuple[dict[str, str], list[str]]:
    """The top level of Lightroom's ``s = { Exposure2012 = 0.5, WhiteBalance = "As Shot",
    ToneCurvePV2012 = { ... }, ... }``: simple values as crs: strings, and the names of
    sub-tables (curves, local corrections) that are not read from here."""
    body = text[text.find("{") + 1:text.rfind("}")] if "{" in text else ""
    items, depth, start, quote, i = [], 0, 0, False, 0
    while i < len(body):
        ch = body[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quote = False
        elif ch == '"':
            quote = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(body[start:i])
            start = i + 1
        i += 1
    items.append(body[start:])
    values: dict[str, str] = {}
    nested: list[str] = []
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key.isidentifier():
            continue
        if value.startswith("{"):
            if value.strip("{} \n\t"):
                nested.append(key)
        elif value.startswith('"'):
            values[key] = value[1:-1].replace('\\"', '"')
        elif value in ("true", "false"):
            values[key] = "True" if value == "true" else "False"
        else:
            values[key] = value
    return values, nested


def _capture(value) -> str | None:
    if not value:
        return None
    return str(value)[:19]  # "2021-06-05T14:03:22.50" -> seconds


def read_lrcat(path: Path, maps: list[tuple[str, str]] | None = None) -> LrCatalog:
    conn, have = open_catalog_file(path, REQUIRED, "Lightroom catalog")
    try:
        cat = LrCatalog(str(path))
        kw = _keyword_paths(conn) if "AgLibraryKeyword" in have else {}
        image_kw: dict[int, list[str]] = {}
        if "AgLibraryKeywordImage" in have:
            for r in conn.execute("SELECT image, tag FROM AgLibraryKeywordImage"):
                if kw.get(r["tag"]):
                    image_kw.setdefault(r["image"], []).append(kw[r["tag"]])
        coll = _collections(conn, cat) if "AgLibraryCollection" in have else {}
        image_coll: dict[int, list[str]] = {}
        if "AgLibraryCollectionImage" in have:
            for r in conn.execute("SELECT collection, image FROM AgLibraryCollectionImage"):
                if r["collection"] in coll:
                    image_coll.setdefault(r["image"], []).append(coll[r["collection"]])
        xmp = {}
        if "Adobe_AdditionalMetadata" in have:
            xmp = {r["image"]: r["xmp"] for r in conn.execute("SELECT image, xmp FROM Adobe_AdditionalMetadata")}
        develop: dict[int, str] = {}
        if "Adobe_imageDevelopSettings" in have:
            develop = {r["image"]: r["text"] for r in conn.execute(
                "SELECT image, text FROM Adobe_imageDevelopSettings WHERE text IS NOT NULL")}
        iptc = {}
        if "AgLibraryIPTC" in have:
            iptc = {r["image"]: (r["caption"], r["copyright"]) for r in conn.execute(
                "SELECT image, caption, copyright FROM AgLibraryIPTC")}
        rows = conn.execute("""
            SELECT i.id_local, i.rating, i.pick, i.colorLabels, i.captureTime, i.masterImage, i.copyName,
                   r.absolutePath, f.pathFromRoot, fi.baseName, fi.extension
            FROM Adobe_images i
            JOIN AgLibraryFile fi ON fi.id_local = i.rootFile
            JOIN AgLibraryFolder f ON f.id_local = fi.folder
            JOIN AgLibraryRootFolder r ON r.id_local = f.rootFolder
            ORDER BY i.id_local""")
        for r in rows:
            name = f"{r['baseName']}.{r['extension']}" if r["extension"] else r["baseName"]
            full = remap(f"{r['absolutePath'] or ''}{r['pathFromRoot'] or ''}{name}", maps or [])
            raw_label = (r["colorLabels"] or "").strip()
            pick = float(r["pick"] or 0)
            try:
                rating = int(float(r["rating"] or 0))
            except ValueError:
                rating = 0
            caption, copyright_ = iptc.get(r["id_local"], (None, None))
            cat.images.append(LrImage(
                id=r["id_local"], path=full, rating=min(5, max(0, rating)),
                flag="pick" if pick > 0 else "reject" if pick < 0 else "none",
                label=LABELS.get(raw_label.lower()), label_raw=raw_label or None,
                capture_time=_capture(r["captureTime"]), master=r["masterImage"], copy_name=r["copyName"],
                keywords=sorted(set(image_kw.get(r["id_local"], []))),
                collections=sorted(set(image_coll.get(r["id_local"], []))),
                xmp=xmp.get(r["id_local"]) or None, caption=caption or None, copyright=copyright_ or None))
            if develop.get(r["id_local"]):
                cat.images[-1].develop, cat.images[-1].develop_nested = lua_settings(develop[r["id_local"]])
        return cat
    except sqlite3.DatabaseError as exc:
        raise MigrateError(f"{path}: cannot read the Lightroom catalog ({exc})") from None
    finally:
        conn.close()
