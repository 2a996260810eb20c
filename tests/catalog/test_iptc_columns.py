"""IPTC title/caption/creator/copyright as catalog columns (migration 0006): the upgrade
moves them out of ``images.extra`` (tidying text other programs wrote, EXIF artist as
the creator), the downgrade puts them back; the door (core.values) refuses control
characters and over-long text from a person."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from maskroom.catalog.database import alembic_config
from maskroom.catalog.schema import Folder, Image
from maskroom.core.errors import InvalidValue
from maskroom.core.values import IPTC_FIELDS, check_iptc, clean_iptc

pytestmark = pytest.mark.catalog


def _image(s, n: int, **kw) -> int:
    folder = s.scalar(select(Folder)) or Folder(path="/photos")
    img = Image(folder=folder, filename=f"IMG_{n}.jpg", path=f"/photos/IMG_{n}.jpg", file_size=1, mtime=0.0,
                content_hash=f"h{n}", format="jpeg", width=6, height=4, **kw)
    s.add(img)
    s.flush()
    return img.id


def test_downgrade_and_upgrade_move_the_fields_between_extra_and_columns(catalog):
    from alembic import command  # heavy, as the catalog's own upgrade imports it

    with catalog.session() as s:
        kept = _image(s, 1, title="Hanami", caption="Under\nthe trees", extra={"usage_terms": "All rights"})
        plain = _image(s, 2)
    cfg = alembic_config(catalog.engine)
    command.downgrade(cfg, "0005_sort_indexes")
    with catalog.engine.begin() as conn:
        cols = {r[1] for r in conn.exec_driver_sql("PRAGMA table_info(images)")} if \
            catalog.engine.dialect.name == "sqlite" else None
        if cols is not None:
            assert not cols & set(IPTC_FIELDS)
        rows = dict(conn.exec_driver_sql("SELECT id, extra FROM images").all())
    extra = {k: (json.loads(v) if isinstance(v, str) else v) for k, v in rows.items()}
    assert extra[kept] == {"usage_terms": "All rights", "title": "Hanami", "caption": "Under\nthe trees"}
    assert not extra[plain]
    # What an import before 0006 stored: EXIF copyright and artist, one with a control character.
    with catalog.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE images SET extra = ? WHERE id = ?" if catalog.engine.dialect.name == "sqlite"
                             else "UPDATE images SET extra = %s::jsonb WHERE id = %s",
                             (json.dumps({"copyright": "(c) A\x07 Person", "artist": "A. Person",
                                          "capture_offset": "+02:00"}), plain))
    command.upgrade(cfg, "head")
    catalog.engine.dispose()
    with catalog.session() as s:
        a, b = s.get(Image, kept), s.get(Image, plain)
        assert (a.title, a.caption, a.creator, a.copyright) == ("Hanami", "Under\nthe trees", None, None)
        assert a.extra == {"usage_terms": "All rights"}
        assert (b.creator, b.copyright) == ("A. Person", "(c) A  Person")
        assert b.extra == {"capture_offset": "+02:00"}


def test_the_door_refuses_control_characters_and_long_text():
    assert check_iptc("title", "  Hanami ") == "Hanami"
    assert check_iptc("caption", "line one\nline two") == "line one\nline two"
    assert check_iptc("creator", "") is None
    for name, value in (("title", "two\nlines"), ("copyright", "bell\x07"), ("caption", "esc\x1b"),
                        ("title", "x" * 257), ("caption", "x" * 2001), ("creator", 5), ("camera", "x")):
        with pytest.raises(InvalidValue):
            check_iptc(name, value)
    assert clean_iptc("title", "a\x00b" + "c" * 300) == "a b" + "c" * 253
