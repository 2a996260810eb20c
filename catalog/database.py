"""Opening a catalog: engine set-up, migrations on open, backups, sessions."""
from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from maskroom.core.config import CatalogLocation, resolve_catalog
from maskroom.core.errors import MaskroomError
from maskroom.core.files import atomic_path, verify_sqlite
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class CatalogError(MaskroomError, RuntimeError):
    """A catalog that cannot be opened or upgraded; the message says why."""


def _migrations_dir() -> Path:
    # Installed: maskroom/migrations beside maskroom/catalog.  The import keeps it
    # right in both the wheel and the editable layouts.
    import maskroom.migrations as mig

    return Path(mig.__file__).resolve().parent


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_migrations_dir()))
    cfg.attributes["engine"] = engine
    return cfg


def _on_sqlite_connect(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(location: CatalogLocation) -> Engine:
    if location.is_sqlite:
        location.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(location.url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    return create_engine(location.url, pool_pre_ping=True)


class Catalog:
    """An open catalog: its engine, its cache folder and a session factory."""

    def __init__(self, location: CatalogLocation, engine: Engine):
        self.location = location
        self.engine = engine
        self.cache_dir = location.cache_dir
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.last_backup: Path | None = None

    @classmethod
    def open(cls, value=None, *, upgrade: bool = True, backup: bool = True) -> Catalog:
        location = value if isinstance(value, CatalogLocation) else resolve_catalog(value)
        engine = make_engine(location)
        catalog = cls(location, engine)
        try:
            if upgrade:
                catalog.upgrade(backup=backup)
        except Exception as exc:
            engine.dispose()
            raise CatalogError(f"{location.url}: cannot open catalog: {exc}") from exc
        return catalog

    # -- sessions ---------------------------------------------------------
    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: committed on success, rolled back on any error."""
        with self._sessions() as session:
            with session.begin():
                yield session

    def new_session(self) -> Session:
        """A plain session for callers (the UI) that manage transactions themselves."""
        return self._sessions()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- migrations -------------------------------------------------------
    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str:
        return ScriptDirectory.from_config(alembic_config(self.engine)).get_current_head()

    def needs_upgrade(self) -> bool:
        return self.current_revision() != self.head_revision()

    def upgrade(self, backup: bool = True) -> bool:
        """Bring the schema to head; back an existing SQLite catalog up first."""
        if not self.needs_upgrade():
            return False
        if backup and self.location.is_sqlite and self._has_tables():
            self.last_backup = self.backup(tag=f"pre-upgrade-{self.current_revision() or 'none'}")
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
        if self.location.is_sqlite:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("VACUUM")
        else:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")


def copy_file_atomic(src: Path, dest: Path) -> None:
    with atomic_path(dest) as tmp:
        shutil.copy2(src, tmp)
