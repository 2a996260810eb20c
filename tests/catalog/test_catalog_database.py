"""Opening, migrating, backing up a catalog; runs on SQLite and PostgreSQL."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import func, inspect, select

from maskroom.catalog import Catalog
from maskroom.catalog.schema import EditVersion, Folder, Image, Layer, Series
from maskroom.core.config import resolve_catalog

pytestmark = pytest.mark.catalog


def _image(folder: Folder, n: int) -> Image:
    return Image(folder=folder, filename=f"f{n}.jpg", path=f"{folder.path}/f{n}.jpg", file_size=1, mtime=0.0,
                 content_hash=f"h{n}", format="jpeg", width=10, height=10)


def test_open_creates_schema_at_head(catalog):
    assert catalog.current_revision() == catalog.head_revision()
    tables = set(inspect(catalog.engine).get_table_names())
    for t in ("images", "folders", "import_sessions", "keywords", "collections", "edit_versions", "layers",
              "history_steps", "mask_rasters", "preview_cache", "series", "sidecars", "review_items"):
        assert t in tables


def test_transaction_rolls_back_on_error(catalog):
    with pytest.raises(RuntimeError):
        with catalog.session() as s:
            f = Folder(path="/shoot")
            s.add_all([f, _image(f, 1)])
            s.flush()
            raise RuntimeError("boom")
    with catalog.session() as s:
        assert s.scalar(select(func.count(Image.id))) == 0


def test_a_read_only_catalog_refuses_a_change_in_one_line(catalog):
    """A catalog file on a read-only mount (SQLite) or a read-only server (a PostgreSQL
    standby) says so in one line, and the change is not half made."""
    from sqlalchemy import event

    from maskroom.catalog.database import CatalogError

    with catalog.session() as s:
        f = Folder(path="/shoot")
        s.add_all([f, _image(f, 1)])
    sqlite = catalog.engine.dialect.name == "sqlite"

    def read_only(dbapi_conn, _record):  # the server itself refuses writes, as a read-only mount does
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA query_only = ON" if sqlite else "SET default_transaction_read_only = on")
        cur.close()
        if not sqlite:
            dbapi_conn.commit()  # psycopg ran the SET in a transaction: a rollback would undo it

    catalog.engine.dispose()
    event.listen(catalog.engine, "connect", read_only)
    try:
        with pytest.raises(CatalogError, match="the catalog is read-only .*: the change was not saved") as err:
            with catalog.session() as s:
                s.scalars(select(Image)).one().rating = 5
        assert "\n" not in str(err.value)
        with catalog.read_session() as s:  # reading still works
            assert s.scalars(select(Image)).one().rating in (0, None)
    finally:
        event.remove(catalog.engine, "connect", read_only)
        catalog.engine.dispose()


def test_content_hash_is_unique(catalog):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with catalog.session() as s:
            f = Folder(path="/shoot")
            a, b = _image(f, 1), _image(f, 2)
            b.content_hash = a.content_hash
            s.add_all([f, a, b])


def test_deleting_image_cascades_to_versions_and_layers(catalog):
    with catalog.session() as s:
        f = Folder(path="/shoot")
        img = _image(f, 1)
        v = EditVersion(image=img)
        v.layers.append(Layer(position=0, name="Global", adjustments={"exposure": 0.5}))
        s.add_all([f, img, v])
    with catalog.session() as s:
        s.delete(s.scalars(select(Image)).one())
    with catalog.session() as s:
        assert s.scalar(select(func.count(Layer.id))) == 0
        assert s.scalar(select(func.count(EditVersion.id))) == 0


def test_series_source_version_set_null(catalog):
    with catalog.session() as s:
        f = Folder(path="/shoot")
        img = _image(f, 1)
        v = EditVersion(image=img)
        s.add_all([f, img, v])
        s.flush()
        s.add(Series(name="burst", source_version_id=v.id))
    with catalog.session() as s:
        s.delete(s.scalars(select(EditVersion)).one())
    with catalog.session() as s:
        assert s.scalars(select(Series)).one().source_version_id is None


def test_sqlite_wal_foreign_keys_and_backup(tmp_path):
    loc = resolve_catalog(tmp_path / "c.sqlite")
    with Catalog.open(loc) as cat:
        with cat.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with cat.session() as s:
            s.add(Folder(path="/a"))
        dest = cat.backup()
    with sqlite3.connect(dest) as conn:
        assert conn.execute("select path from folders").fetchall() == [("/a",)]


def test_unknown_revision_fails_cleanly_and_keeps_data(tmp_path):
    loc = resolve_catalog(tmp_path / "c.sqlite")
    with Catalog.open(loc) as cat:
        with cat.session() as s:
            s.add(Folder(path="/kept"))
        with cat.engine.begin() as conn:  # pretend the file was written by an older maskroom
            conn.exec_driver_sql("UPDATE alembic_version SET version_num='0000_older'")
    # 0000_older is unknown to this maskroom: opening must fail cleanly, not corrupt.
    from maskroom.catalog import CatalogError

    with pytest.raises(CatalogError, match="cannot open catalog"):
        Catalog.open(loc)
    with sqlite3.connect(loc.sqlite_path) as conn:
        assert conn.execute("select path from folders").fetchall() == [("/kept",)]


def test_backup_is_taken_before_an_upgrade_and_a_failed_upgrade_loses_nothing(tmp_path):
    loc = resolve_catalog(tmp_path / "c.sqlite")
    with Catalog.open(loc) as cat:
        with cat.session() as s:
            s.add(Folder(path="/kept"))
        with cat.engine.begin() as conn:  # as if written before maskroom tracked its schema
            conn.exec_driver_sql("DELETE FROM alembic_version")
    with pytest.raises(Exception):
        Catalog.open(loc)  # the upgrade tries to create tables that exist, and fails
    backups = list(tmp_path.glob("c.pre-upgrade-none.*.sqlite"))
    assert len(backups) == 1
    for db in (backups[0], loc.sqlite_path):
        with sqlite3.connect(db) as conn:
            assert conn.execute("select path from folders").fetchall() == [("/kept",)]
