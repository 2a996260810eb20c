"""Run every benchmark in this folder, one after the other, each printing its table.

    python bench/run.py [NAME ...]      # e.g. python bench/run.py import_bench catalog_scale
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem for p in HERE.glob("*.py") if p.stem not in ("run", "__init__"))
    status = 0
    for name in names:
        print(f"\n== {name} ==", flush=True)
        status |= subprocess.call([sys.executable, str(HERE / f"{name}.py")])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
