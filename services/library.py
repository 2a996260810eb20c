"""Library use cases: choosing photos, listing them, ratings, flags, labels,
keywords, collections, virtual copies (``maskroom ls|show|rate|flag|label|tag|collection``
and the app's grid, sidebar and keyword panel)."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from maskroom.catalog import Catalog, library
from maskroom.catalog.database import lock_row
from maskroom.catalog.library import QUICK_COLLECTION, camera_name
from maskroom.catalog.queries import (
    FilterError,
    build_id_query,
    build_query,
    conditions,
    list_cells,
    parse_filter_args,
)
from maskroom.catalog.schema import (
    COLOR_LABELS,
    FLAG_NONE,
    FLAG_PICK,
    FLAG_REJECT,
    Collection,
    EditVersion,
    Folder,
    Image,
    ImportProblem,
    ImportSession,
    Series,
)
from maskroom.catalog.settings import get_setting
from maskroom.core.errors import InvalidValue
from maskroom.core.paths import one_line
from maskroom.core.values import IPTC_FIELDS, check_iptc

FLAG_NAMES = {FLAG_PICK: "pick", FLAG_REJECT: "reject", FLAG_NONE: "none"}


# -- choosing photos ----------------------------------------------------------------------
def parse_filters(filters: Iterable[str]) -> dict:
    """``--filter KEY=VALUE`` strings -> the filter dict a smart collection stores."""
    return parse_filter_args(tuple(filters))


def resolved_filters(session, filters: dict) -> dict:
    """A filter dict with collection=NAME resolved to its members (or its smart filter)."""
    if "collection" in filters:
        return {**filters, **library.collection_filter(session, filters["collection"])}
    return filters


def select_ids(catalog: Catalog, ids: Sequence[int] = (), filters: Iterable[str] = (), every: bool = False) -> list[int]:
    """Image ids from explicit IDs, ``--filter`` strings, or every photo; unknown ids are an error."""
    filters = tuple(filters)
    if not ids and not filters and not every:
        raise InvalidValue("name images by ID, --filter KEY=VALUE or --all")
    chosen: set[int] = set()
    with catalog.session() as s:
        if ids:
            found = set(s.scalars(select(Image.id).where(Image.id.in_(list(ids)))))
            missing = sorted(set(ids) - found)
            if missing:
                raise InvalidValue(f"no image with id {', '.join(map(str, missing))}")
            chosen |= found
        if filters or every:
            chosen |= set(s.scalars(build_id_query(resolved_filters(s, parse_filters(filters)))))
    if not chosen:
        raise nothing_selected(filters)
    return sorted(chosen)


def nothing_selected(filters: Sequence[str]) -> InvalidValue:
    """The error of a batch command that would do nothing (instead of exiting 0 silently)."""
    return InvalidValue(f"no photo matches --filter {' --filter '.join(filters)}" if filters
                        else "the catalog has no photos")


# -- listing -----------------------------------------------------------------------------
def image_summary(img: Image) -> dict:
    flag = FLAG_NAMES.get(img.flag, "none")
    return {
        "id": img.id, "path": img.path, "filename": img.filename, "format": img.format,
        "width": img.width, "height": img.height,
        "capture_time": img.capture_time.isoformat() if img.capture_time else None,
        "camera": camera_name(img.camera_make, img.camera_model) or None,
        "lens": img.lens, "iso": img.iso, "rating": img.rating, "flag": flag, "label": img.color_label,
        "series": img.series_id,
    }


def iter_images(catalog: Catalog, filters: Iterable[str] = (), sort: str | None = "capture",
                limit: int | None = None, versions: bool = False, chunk: int = 1000) -> Iterator[dict]:
    """``maskroom ls``: one summary per photo, in order, as the catalog yields them (a
    million rows stream: the first arrive at once and memory stays at one chunk); with
    ``versions`` each photo's virtual copies follow it, as in the grid
    (catalog.queries.list_cells).  ``limit`` counts photos and copies alike."""
    with catalog.session() as s:
        f = resolved_filters(s, parse_filters(filters))
        copies: dict[int, list[tuple[int, str | None]]] = {}
        if versions:  # few: read in one pass, like list_cells
            for image_id, vid, name in s.execute(select(EditVersion.image_id, EditVersion.id, EditVersion.name)
                                                 .where(EditVersion.is_master.is_(False)).order_by(EditVersion.id)):
                copies.setdefault(image_id, []).append((vid, name))
        stmt = build_query(f, sort)
        if limit and not versions:
            stmt = stmt.limit(limit)
        left = limit or -1
        for part in s.scalars(stmt.execution_options(yield_per=chunk)).partitions():
            keywords = library.keywords_by_image(s, [img.id for img in part])
            for img in part:
                r = image_summary(img)
                r["keywords"] = keywords.get(img.id, [])
                if versions:
                    r.update({"version": None, "copy": None})
                for row in [r] + [{**r, "version": vid, "copy": name} for vid, name in copies.get(img.id, ())]:
                    yield row
                    left -= 1
                    if left == 0:
                        return
            # (The session's identity map holds objects weakly: a written chunk is freed.)


def list_images(catalog: Catalog, filters: Iterable[str] = (), sort: str | None = "capture",
                limit: int | None = None, versions: bool = False) -> list[dict]:
    """``iter_images`` as a list."""
    return list(iter_images(catalog, filters, sort, limit, versions))


def image_details(catalog: Catalog, image_id: int, with_exif: bool = False) -> dict:
    """``maskroom show``: every catalog field of one photo."""
    with catalog.session() as s:
        img = s.get(Image, image_id)
        if img is None:
            raise InvalidValue(f"no image with id {image_id}")
        d = image_summary(img)
        d.update({
            "file_size": img.file_size, "content_hash": img.content_hash, "orientation": img.orientation,
            **{name: getattr(img, name) for name in IPTC_FIELDS},
            "camera_make": img.camera_make, "camera_model": img.camera_model, "focal_length": img.focal_length,
            "aperture": img.aperture, "shutter": img.shutter, "exposure_bias": img.exposure_bias,
            "gps": [img.gps_lat, img.gps_lon, img.gps_alt] if img.gps_lat is not None else None,
            "keywords": library.image_keywords(s, img.id),
            "sidecars": [{"path": sc.path, "role": sc.role} for sc in img.sidecars],
            "versions": [{"id": v.id, "name": v.name, "master": v.is_master} for v in img.versions],
            "series_name": s.get(Series, img.series_id).name if img.series_id else None,
            "import_session": img.import_session_id, "imported_at": img.imported_at.isoformat(),
            "missing": img.missing, **img.extra,
        })
        if with_exif:
            d["exif"] = img.exif
    return d


def readable_details(d: dict) -> dict[str, str]:
    """``image_details`` as a photographer reads it: 1/320 s, f/2.8, 50 mm, lists joined,
    nothing empty."""
    out = {}
    for k, v in d.items():
        if v in (None, [], "", {}):
            continue
        if k == "shutter":
            v = shutter_text(v)
        elif k == "aperture":
            v = f"f/{v:g}"
        elif k == "focal_length":
            v = f"{v:g} mm"
        elif k == "exposure_bias":
            v = f"{v:+.2f} EV"
        elif k == "gps":
            v = ", ".join(f"{x:.6f}" if isinstance(x, float) else str(x) for x in v if x is not None)
        elif k == "sidecars":
            v = ", ".join(f"{x['path']} ({x['role']})" for x in v)
        elif k == "versions":
            v = ", ".join(f"{x['name']} (version {x['id']}{', master' if x['master'] else ''})" for x in v)
        elif isinstance(v, list):
            v = ", ".join(map(str, v))
        elif isinstance(v, dict):
            v = ", ".join(f"{a}={b}" for a, b in v.items())
        out[k] = one_line(str(v))  # a name or caption with a newline must not split its row
    return out


@dataclass
class ImageRow:
    """What a grid cell shows; loaded in pages, never all at once."""

    id: int
    filename: str
    rating: int
    flag: int
    color_label: str | None
    width: int
    height: int
    content_hash: str
    path: str


ROW_COLUMNS = (Image.id, Image.filename, Image.rating, Image.flag, Image.color_label,
               Image.width, Image.height, Image.content_hash, Image.path)


def image_ids(catalog: Catalog, filters: dict | None = None, sort: str | None = None) -> list[int]:
    """Ids only (cheap even for 100k rows); the grid fetches cell data per page.

    ``filters`` and ``sort`` are ``maskroom ls``'s (catalog.queries): the same dict a
    smart collection stores.
    """
    q = build_query(filters or {}, sort).with_only_columns(Image.id)
    with catalog.session() as s:
        return list(s.scalars(q))


def image_cells(catalog: Catalog, filters: dict | None = None, sort: str | None = None,
                limit: int | None = None) -> tuple[list[int], list[int | None]]:
    """The grid's cells as two lists: image ids, and per cell None for a photo's master or
    the virtual copy's version id, each copy after its photo; the same list as ``maskroom
    ls --versions`` (catalog.queries.list_cells).  With ``limit``: the cells of the
    first ``limit`` photos, the start of that list."""
    with catalog.session() as s:
        return list_cells(s, filters or {}, sort, limit=limit)


def version_names(catalog: Catalog, version_ids: Sequence[int]) -> dict[int, str]:
    if not version_ids:
        return {}
    with catalog.session() as s:
        return dict(s.execute(select(EditVersion.id, EditVersion.name)
                              .where(EditVersion.id.in_(list(version_ids)))).all())


def image_rows(catalog: Catalog, ids: Sequence[int]) -> dict[int, ImageRow]:
    if not ids:
        return {}
    with catalog.session() as s:
        rows = s.execute(select(*ROW_COLUMNS).where(Image.id.in_(list(ids)))).all()
    return {r[0]: ImageRow(*r) for r in rows}


def shutter_text(seconds: float | None) -> str | None:
    """Exposure time as photographers read it: 1/320 s, 0.5 s, 2 s."""
    if not seconds:
        return None
    return f"1/{round(1 / seconds)} s" if seconds < 1 and round(1 / seconds) >= 2 else f"{seconds:g} s"


def image_info(catalog: Catalog, image_id: int) -> dict:
    """EXIF summary for the loupe's info overlay."""
    with catalog.session() as s:
        im = s.get(Image, image_id)
        if im is None:
            return {}
        return {
            "file": im.filename, "size": f"{im.width}×{im.height}",
            "captured": im.capture_time.strftime("%Y-%m-%d %H:%M:%S") if im.capture_time else None,
            "camera": " ".join(x for x in (im.camera_make, im.camera_model) if x) or None,
            "lens": im.lens, "focal": f"{im.focal_length:g} mm" if im.focal_length else None,
            "aperture": f"f/{im.aperture:g}" if im.aperture else None, "shutter": shutter_text(im.shutter),
            "iso": f"ISO {im.iso}" if im.iso else None,
        }


def image_metadata(catalog: Catalog, image_id: int) -> dict:
    """The metadata panel's photo: ``exif`` (read-only, as photographers read it: file,
    dimensions, camera, lens, exposure, ISO, focal length, date) and ``iptc`` (title,
    caption, creator, copyright: editable with ``set_metadata``)."""
    with catalog.session() as s:
        im = s.get(Image, image_id)
        if im is None:
            raise InvalidValue(f"no image with id {image_id}")
        exposure = " ".join(x for x in (shutter_text(im.shutter), f"f/{im.aperture:g}" if im.aperture else None,
                                        f"{im.exposure_bias:+.2f} EV" if im.exposure_bias else None) if x)
        exif = {
            "file": im.filename, "folder": str(Path(im.path).parent), "dimensions": f"{im.width} × {im.height}",
            "camera": camera_name(im.camera_make, im.camera_model) or None, "lens": im.lens,
            "exposure": exposure or None, "iso": str(im.iso) if im.iso else None,
            "focal_length": f"{im.focal_length:g} mm" if im.focal_length else None,
            "captured": im.capture_time.strftime("%Y-%m-%d %H:%M:%S") if im.capture_time else None,
        }
        return {"id": im.id, "exif": exif, "iptc": {name: getattr(im, name) for name in IPTC_FIELDS}}


def set_metadata(catalog: Catalog, ids: Iterable[int], values: dict[str, str | None]) -> dict[int, dict]:
    """Set IPTC fields (title, caption, creator, copyright) of photos; an empty value
    clears one, fields not named stay.  Checked at the door (core.values.check_iptc);
    returns each photo's previous values of those fields, so a caller can undo; the
    sidecars follow when the catalog writes them automatically."""
    checked = {name: check_iptc(name, value) for name, value in values.items()}
    if not checked:
        raise InvalidValue(f"nothing to set: give one of {', '.join(IPTC_FIELDS)}")
    ids = list(ids)
    before: dict[int, dict] = {}
    with catalog.session() as s:
        for image_id in ids:
            im = lock_row(s, Image, image_id)
            if im is None:
                raise InvalidValue(f"no image with id {image_id}")
            before[image_id] = {name: getattr(im, name) for name in checked}
            for name, value in checked.items():
                setattr(im, name, value)
    _sidecars_after_change(catalog, ids)
    return before


def sidebar_data(catalog: Catalog) -> dict:
    """The app's source tree: totals, folders, collections, series with their counts."""
    with catalog.session() as s:
        return {
            "total": s.scalar(select(func.count(Image.id))) or 0,
            "folders": s.execute(select(Folder.id, Folder.path, func.count(Image.id))
                                 .join(Image, Image.folder_id == Folder.id, isouter=True)
                                 .group_by(Folder.id).order_by(Folder.path)).all(),
            "collections": library.collection_counts(s),
            "series": s.execute(select(Series.id, Series.name, func.count(Image.id))
                                .join(Image, Image.series_id == Series.id, isouter=True)
                                .group_by(Series.id).order_by(Series.id)).all(),
        }


def ids_for_paths(catalog: Catalog, paths: Sequence) -> dict[str, int]:
    """File path (as a string) -> image id, for the paths that are in the catalog."""
    wanted = [str(p) for p in paths]
    with catalog.session() as s:
        return dict(s.execute(select(Image.path, Image.id).where(Image.path.in_(wanted))).all())


def import_problems(catalog: Catalog, session_id: int | None = None) -> list[tuple[str, str]]:
    """(path, reason) of the files an import session skipped (default: the last session)."""
    with catalog.session() as s:
        if session_id is None:
            session_id = s.scalar(select(ImportSession.id).order_by(ImportSession.id.desc()).limit(1))
        return [(p.path, p.reason) for p in
                s.scalars(select(ImportProblem).where(ImportProblem.session_id == session_id))]


# -- ratings, flags, labels -------------------------------------------------------------------
def _sidecars_after_change(catalog: Catalog, ids: list[int]) -> None:
    """XMP auto-write after a library change, when the catalog has it on."""
    with catalog.session() as s:
        if not get_setting(s, "xmp.auto_write"):
            return
    # Here, not at the top: services.xmp loads the XMP and develop engines (OpenCV,
    # numpy: ~0.4 s), which `rate`/`flag`/`tag` need only with auto-write on (start-up time).
    from maskroom.services import xmp

    xmp.after_change(catalog, ids)


def set_rating(catalog: Catalog, ids: Iterable[int], rating: int) -> int:
    ids = list(ids)
    with catalog.session() as s:
        n = library.set_rating(s, ids, int(rating))
    _sidecars_after_change(catalog, ids)
    return n


def set_flag(catalog: Catalog, ids: Iterable[int], flag: int | str) -> int:
    """``flag``: 'pick' | 'reject' | 'none' or the catalog's FLAG_* number."""
    name = FLAG_NAMES[int(flag)] if isinstance(flag, int) else flag
    ids = list(ids)
    with catalog.session() as s:
        n = library.set_flag(s, ids, name)
    _sidecars_after_change(catalog, ids)
    return n


def set_label(catalog: Catalog, ids: Iterable[int], label: str | None) -> int:
    ids = list(ids)
    with catalog.session() as s:
        n = library.set_label(s, ids, label)
    _sidecars_after_change(catalog, ids)
    return n


# -- keywords and collections ------------------------------------------------------------------
def add_keywords(catalog: Catalog, ids: Iterable[int], paths: Sequence[str]) -> int:
    """Tag the photos with each keyword path ('Places|Japan'); returns new taggings."""
    ids = list(ids)
    with catalog.session() as s:
        n = sum(library.add_keyword(s, ids, p) for p in paths)
    _sidecars_after_change(catalog, ids)
    return n


def remove_keyword(catalog: Catalog, ids: Iterable[int], path: str) -> int:
    ids = list(ids)
    with catalog.session() as s:
        n = library.remove_keyword(s, ids, path)
    _sidecars_after_change(catalog, ids)
    return n


def keyword_counts(catalog: Catalog) -> list[tuple[str, int]]:
    with catalog.session() as s:
        return library.keyword_counts(s)


def keywords_of(catalog: Catalog, ids: Sequence[int]) -> dict[str, int]:
    with catalog.session() as s:
        return library.keywords_of_images(s, ids)


def collections(catalog: Catalog) -> list[dict]:
    with catalog.session() as s:
        return library.collection_counts(s)


def plain_collection_name(catalog: Catalog, collection_id: int) -> str | None:
    """The name of a plain (not smart) collection by id; None for a smart or missing one."""
    with catalog.session() as s:
        c = s.get(Collection, collection_id)
        return c.name if c is not None and c.smart_filter is None else None


def create_collection(catalog: Catalog, name: str, ids: Iterable[int] = (), smart_filter: dict | None = None) -> int:
    ids = list(ids)
    with catalog.session() as s:
        library.create_collection(s, name, smart_filter=smart_filter)
        return library.add_to_collection(s, name, ids) if ids else 0


def add_to_collection(catalog: Catalog, name: str, ids: Iterable[int]) -> int:
    with catalog.session() as s:
        return library.add_to_collection(s, name, ids)


def remove_from_collection(catalog: Catalog, name: str, ids: Iterable[int]) -> int:
    with catalog.session() as s:
        return library.remove_from_collection(s, name, ids)


def toggle_collection(catalog: Catalog, name: str, ids: Iterable[int]) -> tuple[int, int]:
    with catalog.session() as s:
        return library.toggle_in_collection(s, name, ids)


def rename_collection(catalog: Catalog, name: str, new_name: str) -> None:
    with catalog.session() as s:
        library.rename_collection(s, name, new_name)


def delete_collection(catalog: Catalog, name: str) -> int:
    with catalog.session() as s:
        return library.delete_collection(s, name)


def remove_virtual_copies(catalog: Catalog, version_ids: Sequence[int]) -> list[int]:
    with catalog.session() as s:
        return library.remove_virtual_copies(s, version_ids)


def check_filter(key: str, value) -> None:
    """Raise FilterError when the catalog cannot read this filter value (the filter bar
    shows it instead of applying it)."""
    conditions({key: value})


__all__ = ["COLOR_LABELS", "FLAG_NONE", "FLAG_PICK", "FLAG_REJECT", "QUICK_COLLECTION", "FilterError", "ImageRow",
           *[n for n in dir() if not n.startswith("_") and n[0].islower()]]
