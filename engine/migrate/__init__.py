"""Reading other catalogs (Lightroom Classic ``.lrcat``, darktable ``library.db``)
into plain records; services/migrate.py puts them into a maskroom catalog.

Both are SQLite files opened read-only (``mode=ro``): a migration never changes them.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from maskroom.core.errors import InvalidValue


class MigrateError(InvalidValue):
    """A catalog that cannot be read; the message names the file and the reason."""


def open_readonly(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise MigrateError(f"{path}: no such file")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        conn.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.DatabaseError as exc:
        raise MigrateError(f"{path}: not a readable SQLite catalog ({exc})") from None
    return conn


def tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def open_catalog_file(path: Path, required: set[str], what: str) -> tuple[sqlite3.Connection, set[str]]:
    """Open another program's catalog read-only and check it has the tables we read;
    returns the connection and the tables it has (optional ones are looked up there)."""
    conn = open_readonly(path)
    have = tables(conn)
    missing = required - have
    if missing:
        conn.close()
        raise MigrateError(f"{path}: not a {what} (no {', '.join(sorted(missing))} table)")
    return conn, have


def remap(path: str, maps: list[tuple[str, str]]) -> str:
    """The first --map OLD=NEW whose OLD prefixes the path rewrites it (drive letters,
    moved disks); backslashes of a Windows catalog become slashes."""
    p = path.replace("\\", "/")
    for old, new in maps:
        o = old.replace("\\", "/")
        if p.lower().startswith(o.lower()) if len(o) > 1 and o[1] == ":" else p.startswith(o):
            return new.rstrip("/") + "/" + p[len(o):].lstrip("/")
    return p
