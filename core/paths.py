"""Paths as text: what can be stored in the catalog, and how to show any path.

POSIX file names are bytes; Python hands back a name that is not valid UTF-8 with
the bad bytes as lone surrogates (``b'caf\\xe9.jpg'`` -> ``'caf\\udce9.jpg'``).
Such a string cannot be encoded for SQLite or PostgreSQL text columns, nor printed
to a UTF-8 terminal.  The catalog stores only paths that round-trip as UTF-8
(``storable``); every message shows a path through ``display_path``, which never
raises and shows a bad byte as ``\\xe9``.
"""
from __future__ import annotations

import os


def storable(path: str | os.PathLike) -> bool:
    """Whether the path's text is valid UTF-8 (so the catalog can keep it)."""
    try:
        os.fspath(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# Control characters are legal in POSIX names; shown raw, a newline splits a one-line
# message or a table row in two and an escape sequence rewrites the terminal.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(32), 127)} | {9: "\\t", 10: "\\n", 13: "\\r"}
# C1 controls, and Unicode's bidirectional overrides and isolates: a right-to-left
# override in a name ("photo\u202egpj.exe") reverses the rest of the line as shown,
# so a message or a table row would show a name other than the file's.
_CONTROLS |= {c: f"\\x{c:02x}" for c in range(0x80, 0xA0)}
_CONTROLS |= {c: f"\\u{c:04x}" for c in (0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def one_line(text: str) -> str:
    """``text`` with its control characters shown as ``\\n``, ``\\t``, ``\\r`` or ``\\xNN``, and
    bidirectional controls as ``\\uNNNN``."""
    return text.translate(_CONTROLS)


def display_path(path: str | os.PathLike | bytes) -> str:
    """A printable, one-line form of any path: undecodable bytes shown as ``\\xNN``,
    control characters as ``one_line`` shows them."""
    raw = path if isinstance(path, bytes) else os.fsencode(os.fspath(path))
    return one_line(raw.decode("utf-8", "backslashreplace"))


NOT_UTF8 = "file name is not valid UTF-8; rename the file to import it"
