"""The ``maskroom`` command line.

Commands live in one module per area (``maskroom/cli/*_cmds.py``); each adds its
commands to the ``main`` group from ``maskroom.cli.base``.  They are discovered here,
so adding an area needs no edit to a shared list.
"""
from __future__ import annotations

import importlib
import pkgutil

from maskroom.cli.base import main

for _mod in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.endswith("_cmds")):
    importlib.import_module(f"{__name__}.{_mod}")

__all__ = ["main"]
