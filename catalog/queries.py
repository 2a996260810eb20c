"""Filtering and sorting images: one builder for `maskroom ls`, export, sync and the app.

A filter is a plain dict (so a smart collection can store it as JSON):

    rating      ">=3" / "3" (at least) / "=3" / "<=2"
    flag        pick | reject | none | unflagged
    label       red | yellow | green | blue | purple | none
    keyword     "Travel|Japan" (hierarchy with |; matches that keyword and its children)
    camera      text in make or model          lens     text in lens
    iso         "100-800" / "800-" / "-400"
    date        "2024-05-01..2024-05-31" / "2024-05-01.." / "..2024-05-31" / "2024-05-01"
    folder      path prefix                    collection   name or id
    text        text in the file name          series       id
    id          "1,2,5-9"                      format       jpeg | raw | raw-cr2 ...
    missing     yes | no

Text values match literally: ``%`` and ``_`` are not wildcards (``folder=/shoots/2024_05``
is not ``/shoots/2024-05``).  Numbers are whole numbers the catalog's columns can hold
(up to MAX_ID); an id range stays a range (``id=1-10000000000`` is one BETWEEN, its
end clipped to MAX_ID, never a list of ids).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import Boolean, Select, and_, exists, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from maskroom.catalog.schema import (
    COLOR_LABELS,
    FLAG_NONE,
    FLAG_PICK,
    FLAG_REJECT,
    Collection,
    CollectionImage,
    EditVersion,
    Folder,
    Image,
    ImageKeyword,
    Keyword,
)
from maskroom.core.errors import InvalidValue
from maskroom.core.values import MAX_ID

FILTER_KEYS = ("rating", "flag", "label", "keyword", "camera", "lens", "iso", "date", "folder", "collection",
               "text", "series", "id", "format", "missing")
SORTS = {
    "capture": (Image.capture_time, Image.filename),
    "name": (Image.filename,),
    "rating": (Image.rating, Image.capture_time),
    "imported": (Image.imported_at, Image.id),
    "id": (Image.id,),
    "camera": (Image.camera_model, Image.capture_time),
    "size": (Image.file_size,),
}


LIKE_ESCAPE = "\\"
YES_NO = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}


class FilterError(InvalidValue):
    """A filter that cannot be understood; the message says which and why."""


def like_literal(text: str) -> str:
    """``text`` for a LIKE pattern, its ``%`` ``_`` and escape character matching themselves
    (use with ``escape=LIKE_ESCAPE``)."""
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


def _contains(text: str) -> str:
    return f"%{like_literal(text)}%"


def _whole(key: str, text: str, low: int = 0) -> int:
    """A whole number between ``low`` and MAX_ID, or a FilterError naming the filter."""
    try:
        n = int(text.strip())
    except ValueError:
        raise FilterError(f"{key} {text!r}: expected a whole number") from None
    if not low <= n <= MAX_ID:
        raise FilterError(f"{key} {text!r}: out of range ({low} to {MAX_ID})")
    return n


def parse_filter_args(args: list[str] | tuple[str, ...]) -> dict:
    """["rating>=3", "camera=X-T4"] -> {"rating": ">=3", "camera": "X-T4"}."""
    out: dict[str, str] = {}
    for arg in args:
        m = re.match(r"^\s*([a-z]+)\s*(>=|<=|=|:)\s*(.*)$", arg)
        if not m:
            raise FilterError(f"filter {arg!r}: expected KEY=VALUE (keys: {', '.join(FILTER_KEYS)})")
        key, op, value = m.groups()
        if key not in FILTER_KEYS:
            raise FilterError(f"filter {arg!r}: unknown key {key!r} (keys: {', '.join(FILTER_KEYS)})")
        out[key] = (op + value) if op in (">=", "<=") else value
    return out


def _rating(value: str):
    m = re.fullmatch(r"(>=|<=|=)?\s*([0-5])", str(value).strip())
    if not m:
        raise FilterError(f"rating {value!r}: expected 0-5, optionally with >=, <= or =")
    op, n = m.group(1) or ">=", int(m.group(2))
    return {">=": Image.rating >= n, "<=": Image.rating <= n, "=": Image.rating == n}[op]


def _flag(value: str):
    v = value.strip().lower()
    flags = {"pick": FLAG_PICK, "picked": FLAG_PICK, "reject": FLAG_REJECT, "rejected": FLAG_REJECT,
             "none": FLAG_NONE, "unflagged": FLAG_NONE}
    if v not in flags:
        raise FilterError(f"flag {value!r}: expected pick, reject or none")
    return Image.flag == flags[v]


def _label(value: str):
    v = value.strip().lower()
    if v == "none":
        return Image.color_label.is_(None)
    if v not in COLOR_LABELS:
        raise FilterError(f"label {value!r}: expected one of {', '.join(COLOR_LABELS)} or none")
    return Image.color_label == v


def _range(value: str, kind, col):
    m = re.fullmatch(r"\s*([^-]*?)\s*-\s*([^-]*?)\s*", value) if "-" in value else None
    try:
        if m:
            lo, hi = (kind(x) if x else None for x in m.groups())
        else:
            lo = hi = kind(value)
    except ValueError:
        raise FilterError(f"{col.key} {value!r}: expected a number or a range like 100-800") from None
    if any(x is not None and not 0 <= x <= MAX_ID for x in (lo, hi)):
        raise FilterError(f"{col.key} {value!r}: out of range (0 to {MAX_ID})")
    conds = []
    if lo is not None:
        conds.append(col >= lo)
    if hi is not None:
        conds.append(col <= hi)
    return and_(*conds)


def _date(value: str):
    def parse(s: str, end: bool) -> datetime:
        for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y-%m", "%Y"):
            try:
                d = datetime.strptime(s, fmt)
            except ValueError:
                continue
            if end and fmt == "%Y-%m-%d":
                return d + timedelta(days=1)
            if end and fmt == "%Y-%m":
                return (d.replace(day=28) + timedelta(days=4)).replace(day=1)
            if end and fmt == "%Y":
                return d.replace(year=d.year + 1)
            return d
        raise FilterError(f"date {s!r}: expected YYYY-MM-DD (ranges: A..B, A.., ..B)")

    v = value.strip()
    lo, sep, hi = v.partition("..")
    if not sep:
        lo = hi = v
    conds = []
    if lo:
        conds.append(Image.capture_time >= parse(lo, end=False))
    if hi:
        conds.append(Image.capture_time < parse(hi, end=True))
    return and_(*conds)


def _keyword(value: str):
    names = [n.strip() for n in value.split("|") if n.strip()]
    if not names:
        raise FilterError("keyword filter is empty")
    # Resolve the hierarchy path, then match the keyword or any descendant (a
    # recursive CTE keeps it one query on both SQLite and PostgreSQL).
    anchor = select(Keyword.id).where(Keyword.name == names[0], Keyword.parent_id.is_(None))
    if len(names) == 1:
        anchor = select(Keyword.id).where(Keyword.name == names[0])
    for name in names[1:]:
        anchor = select(Keyword.id).where(Keyword.name == name, Keyword.parent_id.in_(anchor))
    tree = anchor.cte("kw_tree", recursive=True)
    tree = tree.union_all(select(Keyword.id).where(Keyword.parent_id == tree.c.id))
    # A correlated EXISTS, probed through image_keywords' (image_id, keyword_id) key for
    # the rows the other filters leave: "id IN (every image with the keyword)" made
    # SQLite scan image_keywords first (a third of a million rows at 1M images).
    return exists().where(ImageKeyword.image_id == Image.id, ImageKeyword.keyword_id.in_(select(tree.c.id)))


def _ids(value: str):
    """"1,2,5-9": single ids in one IN list, each range one BETWEEN (never expanded)."""
    singles: list[int] = []
    spans = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        if not re.fullmatch(r"\d+(\s*-\s*\d+)?", part):
            raise FilterError(f"id {value!r}: expected numbers like 1,2,5-9")
        a, _, b = part.partition("-")
        lo = _whole("id", a)
        b = b.strip()
        hi = (MAX_ID if len(b) > 10 else min(int(b), MAX_ID)) if b else lo  # "up to a huge id": the rest
        if hi < lo:
            raise FilterError(f"id {part!r}: the range runs backwards")
        if hi == lo:
            singles.append(lo)
        else:
            spans.append(Image.id.between(lo, hi))
    if not singles and not spans:
        raise FilterError(f"id {value!r}: expected numbers like 1,2,5-9")
    return or_(*([Image.id.in_(singles)] if singles else []), *spans)


def _collection(value: str):
    v = value.strip()
    cond = Collection.id == _whole("collection", v) if v.isdigit() else Collection.name == v
    coll_ids = select(Collection.id).where(cond)
    return exists().where(CollectionImage.image_id == Image.id, CollectionImage.collection_id.in_(coll_ids))


def _distinct_values(col, name: str):
    """The distinct values of an indexed column by a loose index scan (a recursive CTE
    hopping from one value to the next through the index): O(distinct values x log n)
    instead of reading every row, on SQLite and PostgreSQL alike."""
    first = select(func.min(col).label("v")).cte(name, recursive=True)
    step = select(select(func.min(col)).where(col > first.c.v).scalar_subquery()).where(first.c.v.is_not(None))
    return first.union_all(step)


class InValues(ColumnElement):
    """``column IN (subquery)`` for a subquery of a few values (the cameras a filter names).

    PostgreSQL gets ``column = ANY(ARRAY(subquery))``: the values are known before the
    scan, so the capture-time index walk filters on them and a sorted first page stops
    early (1M rows: 139 -> 47 ms, same sitting); as IN (...) it hash-joined every row
    of the date range first.  Other databases get the plain IN.  Only for listings in
    sort order: for an unordered set of ids (bulk changes) PostgreSQL misjudges the
    array's selectivity and hashes all of image_keywords (1M rows: 45 -> 320 ms).
    """

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("values", InternalTraversal.dp_clauseelement)]

    def __init__(self, column, values: Select):
        self.column = column
        self.values = values


@compiles(InValues)
def _in_values(element, compiler, **kw):
    return compiler.process(element.column.in_(element.values), **kw)


@compiles(InValues, "postgresql")
def _in_values_pg(element, compiler, **kw):
    sub = compiler.process(element.values.scalar_subquery(), **kw)  # "(SELECT ...)"
    return f"{compiler.process(element.column, **kw)} = ANY(ARRAY{sub})"


def conditions(filters: dict, *, ordered: bool = False) -> list:
    """The WHERE terms of a filter; ``ordered``: for a listing in sort order (see InValues)."""
    conds = []
    for key, value in filters.items():
        if value is None or value == "":
            continue
        value = str(value)
        if key == "rating":
            conds.append(_rating(value))
        elif key == "flag":
            conds.append(_flag(value))
        elif key == "label":
            conds.append(_label(value))
        elif key == "keyword":
            conds.append(_keyword(value))
        elif key == "camera":
            # Substring match, resolved over the few distinct models first so the
            # camera_model index does the row work (a LIKE per row scans 100k rows).
            like = _contains(value)
            models = _distinct_values(Image.camera_model, "camera_models")
            # min(), not LIMIT 1: both databases answer it from the (model, make) index;
            # PostgreSQL planned LIMIT 1 as a sequential scan (10x slower at 1M rows).
            make = select(func.min(Image.camera_make)).where(Image.camera_model == models.c.v).scalar_subquery()
            cameras = select(models.c.v).where(
                or_(models.c.v.ilike(like, escape=LIKE_ESCAPE), make.ilike(like, escape=LIKE_ESCAPE)))
            conds.append(InValues(Image.camera_model, cameras) if ordered else Image.camera_model.in_(cameras))
        elif key == "lens":
            lenses = _distinct_values(Image.lens, "lenses")
            conds.append(Image.lens.in_(
                select(lenses.c.v).where(lenses.c.v.ilike(_contains(value), escape=LIKE_ESCAPE))))
        elif key == "iso":
            conds.append(_range(value, int, Image.iso))
        elif key == "date":
            conds.append(_date(value))
        elif key == "folder":
            prefix = value.rstrip("/")
            folder_ids = select(Folder.id).where(or_(
                Folder.path == prefix, Folder.path.like(like_literal(prefix) + "/%", escape=LIKE_ESCAPE)))
            conds.append(Image.folder_id.in_(folder_ids))
        elif key == "collection":
            conds.append(_collection(value))
        elif key == "text":
            conds.append(Image.filename.ilike(_contains(value), escape=LIKE_ESCAPE))
        elif key == "series":
            conds.append(Image.series_id == _whole("series", value))
        elif key == "id":
            conds.append(_ids(value))
        elif key == "format":
            conds.append(Image.format.like("raw-%") if value == "raw" else Image.format == value)
        elif key == "missing":
            flag = YES_NO.get(value.strip().lower())
            if flag is None:
                raise FilterError(f"missing {value!r}: expected yes or no")
            conds.append(Image.missing.is_(flag))
        else:
            raise FilterError(f"unknown filter key {key!r} (keys: {', '.join(FILTER_KEYS)})")
    return conds


def build_query(filters: dict | None = None, sort: str | None = None, descending: bool = False) -> Select:
    """SELECT Image ... with the filters applied and a stable order."""
    stmt = select(Image).where(*conditions(filters or {}, ordered=True))
    key = (sort or "capture").lstrip("-")
    if sort and sort.startswith("-"):
        descending = True
    if key not in SORTS:
        raise FilterError(f"sort {sort!r}: expected one of {', '.join(SORTS)}")
    # The id breaks ties in the same direction: the whole order is then one index walk,
    # forwards or backwards (migration 0005), never a sort of each group of equal keys.
    cols = [c.desc() if descending else c.asc() for c in (*SORTS[key], Image.id)]
    return stmt.order_by(*cols)


def build_id_query(filters: dict | None = None) -> Select:
    """Just the matching ids (for bulk updates and counts)."""
    return select(Image.id).where(*conditions(filters or {}))


GIL_SLICE = 20_000  # rows converted between two chances for another thread to run


def list_cells(session, filters: dict | None = None, sort: str | None = None, versions: bool = True,
               limit: int | None = None) -> tuple[list[int], list[int | None]]:
    """What the grid shows and ``maskroom ls`` lists: ``(image id, None)`` for each matching
    photo in ``sort`` order, each followed by ``(image id, version id)`` for its virtual
    copies (oldest first), as Lightroom shows a copy next to its master.

    Copies share their photo's metadata (rating, flag, label, keywords), so the filters
    pick photos and a photo's copies come with it.  Two statements rather than a LEFT
    JOIN: the join makes the 100k-row ordered scan ~2x slower, while the copies are
    few and read in one pass over ``edit_versions``.

    ``limit`` keeps the first photos (with their copies): the start of the same list,
    which the grid shows at once while the whole list of a large catalog is read.

    As two flat lists, ``ids[r]`` and ``versions[r]`` (None for a photo's master): a
    million photos then cost two lists of numbers, not a million tuples the garbage
    collector has to walk (the app reads this on a worker while its GUI thread paints;
    a collection pass holds the GIL).
    """
    stmt = build_query(filters or {}, sort).with_only_columns(Image.id)
    ids: list[int] = []
    # Streamed and in slices: converting a million rows in one C call holds the GIL for
    # a quarter of a second; PostgreSQL reads them through a server-side cursor.
    rows = session.connection().execution_options(stream_results=True, max_row_buffer=GIL_SLICE).execute(
        stmt if limit is None else stmt.limit(limit))
    for part in rows.scalars().partitions(GIL_SLICE):
        ids.extend(part)
    if not versions or not ids:
        return ids, [None] * len(ids)
    copies: dict[int, list[int]] = {}
    copies_of = select(EditVersion.image_id, EditVersion.id).where(EditVersion.is_master.is_(False))
    if limit is not None:
        copies_of = copies_of.where(EditVersion.image_id.in_(ids))
    for image_id, version_id in session.execute(copies_of.order_by(EditVersion.id)):
        copies.setdefault(image_id, []).append(version_id)
    if not copies:
        return ids, [None] * len(ids)
    cell_ids: list[int] = []
    cell_versions: list[int | None] = []
    for i in ids:
        cell_ids.append(i)
        cell_versions.append(None)
        for v in copies.get(i, ()):
            cell_ids.append(i)
            cell_versions.append(v)
    return cell_ids, cell_versions
