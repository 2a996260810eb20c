"""Library operations: ratings, flags, colour labels, keywords and collections.

Each function takes a session and a list of image ids and changes them in bulk
inside the caller's transaction (one transaction for the whole batch).  A change that
reads first (does the keyword exist, who is in the collection) takes its lock first,
so two processes tagging or collecting at once neither duplicate nor collide.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from maskroom.catalog.database import lock_name, lock_row
from maskroom.catalog.queries import build_id_query
from maskroom.catalog.schema import (
    COLOR_LABELS,
    FLAG_NONE,
    FLAG_PICK,
    FLAG_REJECT,
    Collection,
    CollectionImage,
    EditVersion,
    Image,
    ImageKeyword,
    Keyword,
)
from maskroom.core.errors import InvalidValue

FLAGS = {"pick": FLAG_PICK, "reject": FLAG_REJECT, "none": FLAG_NONE}


class LibraryError(InvalidValue):
    pass


def _ids(ids: Iterable[int]) -> list[int]:
    return sorted({int(i) for i in ids})


def set_rating(session: Session, ids: Iterable[int], rating: int) -> int:
    if not 0 <= int(rating) <= 5:
        raise LibraryError(f"rating must be 0-5, not {rating}")
    ids = _ids(ids)
    session.execute(update(Image).where(Image.id.in_(ids)).values(rating=int(rating)))
    return len(ids)


def set_flag(session: Session, ids: Iterable[int], flag: str) -> int:
    if flag not in FLAGS:
        raise LibraryError(f"flag must be pick, reject or none, not {flag!r}")
    ids = _ids(ids)
    session.execute(update(Image).where(Image.id.in_(ids)).values(flag=FLAGS[flag]))
    return len(ids)


def set_label(session: Session, ids: Iterable[int], label: str | None) -> int:
    label = None if label in (None, "", "none") else label.lower()
    if label is not None and label not in COLOR_LABELS:
        raise LibraryError(f"label must be one of {', '.join(COLOR_LABELS)} or none, not {label!r}")
    ids = _ids(ids)
    session.execute(update(Image).where(Image.id.in_(ids)).values(color_label=label))
    return len(ids)


def split_keyword(path: str) -> list[str]:
    parts = [p.strip() for p in path.split("|")]
    if not parts or any(not p for p in parts):
        raise LibraryError(f"keyword {path!r}: empty level (use 'Parent|Child')")
    return parts


def keyword(session: Session, path: str, create: bool = True) -> Keyword | None:
    """The keyword at a hierarchy path 'Places|Japan|Kyoto', created level by level."""
    if create:
        lock_name(session, "keywords")
    parent = None
    for name in split_keyword(path):
        cond = Keyword.parent_id.is_(None) if parent is None else Keyword.parent_id == parent.id
        kw = session.scalar(select(Keyword).where(Keyword.name == name, cond))
        if kw is None:
            if not create:
                return None
            kw = Keyword(name=name, parent_id=parent.id if parent else None)
            session.add(kw)
            session.flush()
        parent = kw
    return parent


def keyword_path(session: Session, kw: Keyword) -> str:
    names = []
    while kw is not None:
        names.append(kw.name)
        kw = session.get(Keyword, kw.parent_id) if kw.parent_id else None
    return "|".join(reversed(names))


def add_keyword(session: Session, ids: Iterable[int], path: str) -> int:
    kw = keyword(session, path)
    lock_row(session, Keyword, kw.id)  # taggers of one keyword take turns: no duplicate row
    ids = _ids(ids)
    have = set(session.scalars(select(ImageKeyword.image_id).where(ImageKeyword.keyword_id == kw.id,
                                                                   ImageKeyword.image_id.in_(ids))))
    session.add_all(ImageKeyword(image_id=i, keyword_id=kw.id) for i in ids if i not in have)
    return len(ids) - len(have)


def remove_keyword(session: Session, ids: Iterable[int], path: str) -> int:
    kw = keyword(session, path, create=False)
    if kw is None:
        return 0
    result = session.execute(delete(ImageKeyword).where(ImageKeyword.keyword_id == kw.id,
                                                        ImageKeyword.image_id.in_(_ids(ids))))
    return result.rowcount or 0


def image_keywords(session: Session, image_id: int) -> list[str]:
    kws = session.scalars(select(Keyword).join(ImageKeyword).where(ImageKeyword.image_id == image_id))
    return sorted(keyword_path(session, k) for k in kws)


def collection(session: Session, name: str, create: bool = False, smart_filter: dict | None = None) -> Collection:
    if create:
        lock_name(session, "collections")
    c = session.scalar(select(Collection).where(Collection.name == name, Collection.parent_id.is_(None)))
    if c is None:
        if not create:
            raise LibraryError(f"no collection named {name!r}")
        c = Collection(name=name, smart_filter=smart_filter)
        session.add(c)
        session.flush()
    return c


def add_to_collection(session: Session, name: str, ids: Iterable[int]) -> int:
    c = collection(session, name)
    if c.smart_filter is not None:
        raise LibraryError(f"collection {name!r} is a smart collection: its filter decides what it holds")
    lock_row(session, Collection, c.id)  # members and positions read below stay true until commit
    ids = _ids(ids)
    have = set(session.scalars(select(CollectionImage.image_id).where(CollectionImage.collection_id == c.id)))
    start = len(have)
    new = [i for i in ids if i not in have]
    session.add_all(CollectionImage(collection_id=c.id, image_id=i, position=start + n) for n, i in enumerate(new))
    return len(new)


def remove_from_collection(session: Session, name: str, ids: Iterable[int]) -> int:
    c = collection(session, name)
    result = session.execute(delete(CollectionImage).where(CollectionImage.collection_id == c.id,
                                                           CollectionImage.image_id.in_(_ids(ids))))
    return result.rowcount or 0


def collection_filter(session: Session, name: str) -> dict:
    """The filter that lists a collection's images (its own for a smart collection)."""
    c = collection(session, name)
    return dict(c.smart_filter) if c.smart_filter is not None else {"collection": str(c.id)}


# -- for the app's keyword list and collection tree (the CLI's `collection list` too) --------
QUICK_COLLECTION = "Quick Collection"  # Lightroom's B key: a collection made on first use
_CHUNK = 5000  # ids per IN (...) list: SQLite caps bound parameters per statement


def _chunks(ids: list[int]):
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


def _keyword_paths(session: Session) -> dict[int, str]:
    """Every keyword's hierarchy path, from one read of the (small) keywords table."""
    rows = {kid: (name, parent) for kid, name, parent in session.execute(
        select(Keyword.id, Keyword.name, Keyword.parent_id))}
    paths: dict[int, str] = {}

    def path(kid: int) -> str:
        if kid not in paths:
            name, parent = rows[kid]
            paths[kid] = f"{path(parent)}|{name}" if parent in rows else name
        return paths[kid]

    for kid in rows:
        path(kid)
    return paths


def keyword_counts(session: Session) -> list[tuple[str, int]]:
    """(path, number of photos tagged with exactly that keyword) for every keyword, by path."""
    paths = _keyword_paths(session)
    counts = dict(session.execute(select(ImageKeyword.keyword_id, func.count())
                                  .group_by(ImageKeyword.keyword_id)).all())
    return sorted(((p, counts.get(kid, 0)) for kid, p in paths.items()), key=lambda t: t[0].lower())


def keywords_of_images(session: Session, ids: Iterable[int]) -> dict[str, int]:
    """{path: how many of these photos have it}: the app ticks a keyword the whole selection has."""
    paths = _keyword_paths(session)
    out: dict[str, int] = {}
    for chunk in _chunks(_ids(ids)):
        for kid, n in session.execute(select(ImageKeyword.keyword_id, func.count())
                                      .where(ImageKeyword.image_id.in_(chunk)).group_by(ImageKeyword.keyword_id)):
            out[paths[kid]] = out.get(paths[kid], 0) + n
    return out


def keywords_by_image(session: Session, ids: Iterable[int]) -> dict[int, list[str]]:
    """{image id: its keyword paths, sorted} for many photos in a few queries (``ls --json``)."""
    paths = _keyword_paths(session)
    out: dict[int, list[str]] = {}
    for chunk in _chunks(_ids(ids)):
        for image_id, kid in session.execute(select(ImageKeyword.image_id, ImageKeyword.keyword_id)
                                             .where(ImageKeyword.image_id.in_(chunk))):
            out.setdefault(image_id, []).append(paths[kid])
    return {i: sorted(v) for i, v in out.items()}


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise LibraryError("a collection needs a name")
    return name


def create_collection(session: Session, name: str, smart_filter: dict | None = None) -> Collection:
    name = _check_name(name)
    lock_name(session, "collections")
    if session.scalar(select(Collection.id).where(Collection.name == name, Collection.parent_id.is_(None))):
        raise LibraryError(f"collection {name!r} exists already")
    return collection(session, name, create=True, smart_filter=smart_filter)


def rename_collection(session: Session, name: str, new_name: str) -> Collection:
    lock_name(session, "collections")
    c = collection(session, name)
    new_name = _check_name(new_name)
    if new_name != c.name and session.scalar(
            select(Collection.id).where(Collection.name == new_name, Collection.parent_id.is_(None))):
        raise LibraryError(f"collection {new_name!r} exists already")
    c.name = new_name
    session.flush()
    return c


def delete_collection(session: Session, name: str) -> int:
    """Delete a collection (never its photos); returns how many photos it held."""
    c = collection(session, name)
    n = session.execute(delete(CollectionImage).where(CollectionImage.collection_id == c.id)).rowcount or 0
    session.delete(c)
    session.flush()
    return n


def toggle_in_collection(session: Session, name: str, ids: Iterable[int]) -> tuple[int, int]:
    """Lightroom's quick-collection key: when every photo is in it already they leave,
    otherwise the missing ones join (the collection is made on first use).  (added, removed)."""
    ids = _ids(ids)
    lock_name(session, "collections")
    c = session.scalar(select(Collection).where(Collection.name == name, Collection.parent_id.is_(None)))
    if c is None:
        c = create_collection(session, name)
    have = set()
    for chunk in _chunks(ids):
        have |= set(session.scalars(select(CollectionImage.image_id).where(
            CollectionImage.collection_id == c.id, CollectionImage.image_id.in_(chunk))))
    if ids and have == set(ids):
        return 0, remove_from_collection(session, name, ids)
    return add_to_collection(session, name, ids), 0


def collection_counts(session: Session) -> list[dict]:
    """[{id, name, smart, images, filter}] by name; a smart collection counts what its filter matches."""
    plain = dict(session.execute(select(CollectionImage.collection_id, func.count())
                                 .group_by(CollectionImage.collection_id)).all())
    rows = []
    for c in session.scalars(select(Collection).order_by(Collection.name)):
        if c.smart_filter is not None:
            n = session.scalar(select(func.count()).select_from(build_id_query(c.smart_filter).subquery()))
        else:
            n = plain.get(c.id, 0)
        rows.append({"id": c.id, "name": c.name, "smart": c.smart_filter is not None, "images": int(n or 0),
                     "filter": dict(c.smart_filter) if c.smart_filter is not None else {"collection": str(c.id)}})
    return rows


def remove_virtual_copies(session: Session, version_ids: Iterable[int]) -> list[int]:
    """Remove virtual copies (their edits, history and snapshots go with them; the photo
    and its master stay).  A master is refused: it *is* the photo's edit."""
    vids = _ids(version_ids)
    found = {v.id: v for v in session.scalars(select(EditVersion).where(EditVersion.id.in_(vids)))}
    missing = [v for v in vids if v not in found]
    if missing:
        raise LibraryError(f"no edit version with id {', '.join(map(str, missing))}")
    masters = [v for v in vids if found[v].is_master]
    if masters:
        raise LibraryError(f"version {', '.join(map(str, masters))} is a master, not a virtual copy")
    for v in found.values():
        session.delete(v)
    session.flush()
    return vids


def camera_name(make: str | None, model: str | None) -> str:
    """The camera for file names and listings: make + model, without the make twice.

    ("Canon", "Canon EOS R5") -> "Canon EOS R5"; ("NIKON CORPORATION", "NIKON D750") -> "NIKON D750".
    """
    make = (make or "").replace("\x00", "").strip()
    model = (model or "").replace("\x00", "").strip()
    if make and model and model.lower().startswith(make.split()[0].lower()):
        return model
    return " ".join(x for x in (make, model) if x)
