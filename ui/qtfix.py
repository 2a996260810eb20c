"""A work-around for a reference-count bug in some PySide6 releases.

PySide6 6.12.0's ``SignalInstance.emit`` returns ``True`` without taking a reference,
so every emit drops one reference to ``True``; on Python 3.11 (where ``True`` is not
immortal) a long session ends in "Fatal Python error: bool_dealloc".  ``emit`` below
is what the app calls instead of ``signal.emit``: it measures once whether the
installed PySide6 has the bug and, if so, gives the reference back.
"""
from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal


class _Probe(QObject):
    ping = Signal(int)


def _emit_leaks() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.ping.emit(1)
    lost = before - sys.getrefcount(True)
    if lost > 0:  # give back what the probe itself took
        for _ in range(lost):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return lost >= 8


EMIT_LEAKS = _emit_leaks()


def emit(signal, *args) -> None:
    """``signal.emit(*args)``, without PySide6 6.12.0's lost reference to the result."""
    result = signal.emit(*args)
    if EMIT_LEAKS and isinstance(result, bool):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(result))
