"""Library operations: ratings, flags, colour labels, keywords and collections.

Each function takes a session and a list of image ids and changes them in bulk
inside the caller's transaction (one transaction for the whole batch).
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from maskroom.catalog.schema import (
    COLOR_LABELS,
    FLAG_NONE,
    FLAG_PICK,
    FLAG_REJECT,
    Collection,
    CollectionImage,
    Image,
    ImageKeyword,
    Keyword,
)

FLAGS = {"pick": FLAG_PICK, "reject": FLAG_REJECT, "none": FLAG_NONE}


class LibraryError(ValueError):
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
