"""The ``maskroom`` command line.

Commands live in one module per area (``maskroom/cli/*_cmds.py``); each adds its
commands to the ``main`` group from ``maskroom.cli.base``.  They are discovered here,
so adding an area needs no edit to a shared list; a module is imported when one of
its commands runs (``LazyGroup``), found by its ``@main.command("name")`` lines.
"""
from __future__ import annotations

import pkgutil
import re
from pathlib import Path

from maskroom.cli.base import main

_NAMED = re.compile(r"^@main\.(?:command|group)\(\s*[\"']([^\"']+)[\"']", re.M)

for _mod in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.endswith("_cmds")):
    main.all_modules.append(f"{__name__}.{_mod}")
    for _name in _NAMED.findall((Path(__file__).parent / f"{_mod}.py").read_text(encoding="utf-8")):
        main.modules[_name] = f"{__name__}.{_mod}"

__all__ = ["main"]
