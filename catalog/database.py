"""Opening a catalog: engine set-up, migrations on open, backups, sessions.

Transactions on SQLite are real and serialised where they write: pysqlite's own
handling begins a transaction only before INSERT/UPDATE/DELETE, so the reads of a
read-modify-write ran outside it and two writers could both build on the same old
state (acknowledged edits lost).  Here pysqlite's handling is off and every
``Catalog.session()`` starts with ``BEGIN IMMEDIATE``: it holds the write lock from
its first statement, so a unit of work sees the state the last writer committed.
On PostgreSQL the read-modify-write paths lock their row (``lock_row``).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, exc, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from maskroom.core.config import CatalogLocation, resolve_catalog
from maskroom.core.errors import MaskroomError
from maskroom.core.files import atomic_path, fsync_dir, nearly_full, sweep_stale_temps, temp_path_for, verify_sqlite

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
BACKENDS = ("sqlite", "postgresql")
# Execution option that makes a connection's transactions begin with the write lock.
_WRITE = "maskroom_write"


class CatalogError(MaskroomError, RuntimeError):
    """A catalog that cannot be opened or upgraded; the message says why."""


def _migrations_dir() -> Path:
    # migrations/ sits beside catalog/ in the checkout (editable installs map both from
    # it) and maskroom/migrations beside maskroom/catalog in a wheel: the same relative
    # place, so no import of the migrations package (which imports this one) is needed.
    return MIGRATIONS_DIR


def alembic_config(engine: Engine):
    # Alembic is imported only to migrate (0.45 s of every command's start-up otherwise);
    # a catalog at head is recognised without it (fast_head_revision).
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_migrations_dir()))
    # Migrations write: on SQLite they hold the write lock from their first statement.
    cfg.attributes["engine"] = engine.execution_options(**{_WRITE: True})
    return cfg


_REVISION_LINE = r"^{}\s*(?::[^=\n]*)?=\s*['\"]([^'\"]+)['\"]"


@lru_cache(maxsize=1)
def fast_head_revision() -> str | None:
    """The head revision read from the migration files' ``revision``/``down_revision``
    lines, without importing Alembic; None unless the history is one straight line
    (then Alembic itself decides)."""
    revisions, parents = set(), set()
    for path in (_migrations_dir() / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        rev = re.search(_REVISION_LINE.format("revision"), source, re.M)
        down = re.search(_REVISION_LINE.format("down_revision"), source, re.M)
        if rev is None:
            return None
        revisions.add(rev.group(1))
        if down is not None:
            parents.add(down.group(1))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def stored_revision(engine: Engine) -> str | None:
    """The revision recorded in the catalog (alembic_version), read with plain SQL."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except exc.DBAPIError:  # no such table: an empty database
        return None
    return rows[0] if len(rows) == 1 else None


def _reason(error: Exception, location: CatalogLocation) -> str:
    """The driver's own message (without SQLAlchemy's "Background on this error" line);
    "disk full" when SQLite's vaguer "disk I/O error" comes from a full disk."""
    text = str(getattr(error, "orig", None) or error).splitlines()[0]
    folder = location.sqlite_path.parent if location.sqlite_path else None
    if folder is not None and (_disk_full(error) or "disk i/o error" in text.lower()) and nearly_full(folder):
        return f"disk full ({text})"
    return text


def _disk_full(error: Exception) -> bool:
    """SQLite's "database or disk is full", PostgreSQL's "No space left on device"."""
    text = str(getattr(error, "orig", error)).lower()
    return "disk is full" in text or "no space left" in text


def _read_only(error: Exception) -> bool:
    """SQLite's "attempt to write a readonly database" (a read-only file, folder or
    mount), PostgreSQL's "cannot execute ... in a read-only transaction" (a standby)."""
    text = str(getattr(error, "orig", error)).lower()
    return "readonly database" in text or "read-only transaction" in text


def _on_sqlite_connect(dbapi_conn, _record):
    dbapi_conn.isolation_level = None  # transactions are begun by _on_sqlite_begin
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _on_sqlite_begin(conn) -> None:
    # Every statement, reads included, runs inside the transaction (DDL too, so a
    # migration is all or nothing); writers take the write lock up front.
    options = conn.get_execution_options()
    if options.get("isolation_level") != "AUTOCOMMIT":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_WRITE) else "BEGIN")


def display_url(location: CatalogLocation) -> str:
    """The catalog URL as a person may see it (no password)."""
    try:
        return make_url(location.url).render_as_string(hide_password=True)
    except ArgumentError:
        return location.url


def check_location(location: CatalogLocation) -> None:
    """Refuse what cannot hold a catalog, with one line: unknown URL schemes, other
    database servers, an in-memory SQLite database (it would keep nothing)."""
    shown = display_url(location)
    try:
        backend = make_url(location.url).get_backend_name()
    except ArgumentError:
        raise CatalogError(f"{shown}: not a catalog file or database URL") from None
    if backend == "sqlite" and not location.is_sqlite:
        raise CatalogError(f"{shown}: an in-memory catalog keeps nothing; give a file path")
    if backend not in BACKENDS:
        raise CatalogError(f"{shown}: maskroom keeps catalogs in an SQLite file or on PostgreSQL "
                           f"(postgresql+psycopg://user@host/db), not {backend}")


def make_engine(location: CatalogLocation) -> Engine:
    check_location(location)
    try:
        if location.is_sqlite:
            engine = create_engine(location.url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _on_sqlite_connect)
            event.listen(engine, "begin", _on_sqlite_begin)
            return engine
        return create_engine(location.url, pool_pre_ping=True)
    except (NoSuchModuleError, ImportError) as exc:
        raise CatalogError(f"{display_url(location)}: the database driver is not installed ({exc}); "
                           "for PostgreSQL: pip install 'maskroom[postgres]'") from None
    except ArgumentError as exc:
        raise CatalogError(f"{display_url(location)}: {exc}") from None


def lock_row(session: Session, model, row_id: int):
    """The row ``row_id`` of ``model``, locked for the rest of the transaction.

    The start of every read-modify-write: on PostgreSQL ``SELECT ... FOR UPDATE``
    makes a second writer wait for this one to commit and then read its result; on
    SQLite ``Catalog.session()`` already holds the database's write lock.  Returns
    None when the row does not exist.
    """
    return session.scalar(select(model).where(model.id == row_id).with_for_update()
                          .execution_options(populate_existing=True))


def lock_name(session: Session, name: str) -> None:
    """Serialise a get-or-create by name (keywords, collections, presets) for the
    rest of the transaction: a PostgreSQL advisory lock (a unique constraint cannot
    stop two root rows whose parent is NULL); SQLite's write lock already does."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _create_sqlite(location: CatalogLocation) -> None:
    """Build a new SQLite catalog's schema in a temp file beside it and link it into
    place once complete and verified: a kill at any moment leaves no catalog or a
    whole one (a killed try's temp file is swept by the next open)."""
    path = location.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(path)
    tmp_location = CatalogLocation(url=f"sqlite:///{tmp}", cache_dir=location.cache_dir, sqlite_path=tmp)
    try:
        engine = make_engine(tmp_location)
        try:
            Catalog(tmp_location, engine).upgrade(backup=False)
            with engine.connect() as conn:  # everything into the main file before it moves
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            engine.dispose()
        verify_sqlite(tmp)
        try:
            # A link, not a rename: never replaces a catalog another process made
            # (and may be writing to) meanwhile; that one is then used.
            os.link(tmp, path)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)


class Catalog:
    """An open catalog: its engine, its cache folder and a session factory."""

    def __init__(self, location: CatalogLocation, engine: Engine):
        self.location = location
        self.engine = engine
        self.cache_dir = location.cache_dir
        self._sessions = sessionmaker(engine.execution_options(**{_WRITE: True}), expire_on_commit=False)
        self._snapshot_sessions = sessionmaker(engine, expire_on_commit=False)
        self.last_backup: Path | None = None

    @classmethod
    def open(cls, value=None, *, upgrade: bool = True, backup: bool = True, create: bool = True) -> Catalog:
        """Open (and by default upgrade) a catalog.  A new SQLite file is made only
        with ``create`` (the command line asks for ``maskroom catalog create``)."""
        location = value if isinstance(value, CatalogLocation) else resolve_catalog(value)
        check_location(location)
        if location.is_sqlite:
            sweep_stale_temps(location.sqlite_path.parent)  # what killed creations left
        if location.is_sqlite and not location.sqlite_path.exists():
            if not create:
                raise CatalogError(f"{location.sqlite_path}: no catalog there (make one with "
                                   f"`maskroom catalog create {location.sqlite_path}`)")
            try:
                _create_sqlite(location)
            except CatalogError:
                raise
            except Exception as exc:
                raise CatalogError(f"{location.sqlite_path}: cannot create catalog: {exc}") from exc
        engine = make_engine(location)
        catalog = cls(location, engine)
        try:
            if upgrade:
                catalog.upgrade(backup=backup)
        except Exception as exc:
            engine.dispose()
            raise CatalogError(f"{display_url(location)}: cannot open catalog: {_reason(exc, location)}") from exc
        return catalog

    @classmethod
    def create(cls, value=None) -> Catalog:
        """A new, empty catalog: an SQLite file that must not exist yet (made whole or
        not at all), or the schema in a server database that holds no catalog yet."""
        location = value if isinstance(value, CatalogLocation) else resolve_catalog(value)
        check_location(location)
        if location.is_sqlite and location.sqlite_path.exists():
            raise CatalogError(f"{location.sqlite_path}: exists already")
        catalog = cls.open(location, upgrade=False, create=True)
        try:
            if not location.is_sqlite:
                if catalog.current_revision() is not None:
                    raise CatalogError(f"{display_url(location)}: holds a catalog already")
                catalog.upgrade(backup=False)
        except Exception:
            catalog.close()
            raise
        return catalog

    # -- sessions ---------------------------------------------------------
    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: committed on success, rolled back on any error.  On
        SQLite it holds the write lock throughout (see the module docstring)."""
        try:
            with self._sessions() as session:
                with session.begin():
                    yield session
        except (exc.OperationalError, exc.InternalError) as error:  # the whole unit was rolled back
            if _disk_full(error):
                raise CatalogError(f"{display_url(self.location)}: disk full: the change was not saved "
                                   "(free some space and run it again)") from error
            if _read_only(error):
                raise CatalogError(f"{display_url(self.location)}: the catalog is read-only "
                                   f"({_reason(error, self.location)}): the change was not saved") from error
            raise

    @contextlib.contextmanager
    def read_session(self) -> Iterator[Session]:
        """A unit of work that only reads: one consistent snapshot, never waits for a writer."""
        with self._snapshot_sessions() as session:
            with session.begin():
                yield session

    def new_session(self) -> Session:
        """A plain session for callers (the UI) that manage transactions themselves.
        Its transactions do not take SQLite's write lock up front (one may stay open a
        while); a read-then-write that another writer overtook fails with "database is
        locked" rather than overwrite, so changes belong in ``session()``."""
        return self._snapshot_sessions()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- migrations -------------------------------------------------------
    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext  # see alembic_config

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str:
        from alembic.script import ScriptDirectory  # see alembic_config

        return ScriptDirectory.from_config(alembic_config(self.engine)).get_current_head()

    def needs_upgrade(self) -> bool:
        head = fast_head_revision()
        if head is not None and stored_revision(self.engine) == head:
            return False  # the common case, answered without loading Alembic
        return self.current_revision() != self.head_revision()

    def upgrade(self, backup: bool = True) -> bool:
        """Bring the schema to head; back an existing SQLite catalog up first."""
        if not self.needs_upgrade():
            return False
        if backup and self.location.is_sqlite and self._has_tables():
            self.last_backup = self.backup(tag=f"pre-upgrade-{self.current_revision() or 'none'}")
        from alembic import command  # see alembic_config

        command.upgrade(alembic_config(self.engine), "head")
        return True

    def _has_tables(self) -> bool:
        return bool(inspect(self.engine).get_table_names())

    def backup(self, dest: Path | None = None, tag: str = "backup") -> Path:
        """A consistent copy of an SQLite catalog (sqlite3's online backup API)."""
        if not self.location.is_sqlite:
            raise CatalogError(f"{self.location.url}: backups of server catalogs belong to the server's tools (pg_dump)")
        src = self.location.sqlite_path
        if dest is None:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            dest = src.with_name(f"{src.stem}.{tag}.{stamp}.sqlite")
        # Into a temp file beside dest, checked, then renamed: a full disk or a kill
        # never leaves a half backup that looks like a good one.
        with atomic_path(dest, verify=verify_sqlite) as tmp:
            with contextlib.closing(sqlite3.connect(src)) as s, contextlib.closing(sqlite3.connect(tmp)) as d:
                s.backup(d)
        return dest

    def vacuum(self) -> None:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM" if self.location.is_sqlite else "VACUUM ANALYZE")


def copy_file_atomic(src: Path, dest: Path) -> None:
    with atomic_path(dest) as tmp:
        shutil.copy2(src, tmp)
