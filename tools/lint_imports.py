"""Check the import-linter contracts in pyproject.toml against this checkout.

The repository keeps catalog/, engine/, services/, ui/... at the top and setup.py maps
them under ``maskroom``; import-linter reads a package from one folder, so this
assembles that package (the .py files only) in a temporary folder and lints it there.
Exit status: import-linter's (0 when every contract is kept).

    python -m tools.lint_imports
"""
from __future__ import annotations

import ast
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def mapped_folders() -> list[str]:
    """setup.py's MAPPED: the one list of folders installed as maskroom.<folder>."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "MAPPED")
    return ast.literal_eval(node.value)


def assemble(dest: Path) -> Path:
    pkg = dest / "maskroom"
    shutil.copytree(ROOT / "maskroom", pkg, ignore=shutil.ignore_patterns("data", "__pycache__"))
    for top in mapped_folders():
        shutil.copytree(ROOT / top, pkg / top, ignore=lambda d, names: [
            n for n in names if not (n.endswith(".py") or (Path(d) / n).is_dir()) or n == "__pycache__"])
    return dest


def main() -> int:
    from importlinter.cli import lint_imports

    with tempfile.TemporaryDirectory(prefix="maskroom-lint-") as tmp:
        sys.path.insert(0, str(assemble(Path(tmp))))
        # An installed (or editable) maskroom must not answer for the copy.
        sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__name__.lower()
                            and "editable" not in getattr(f, "__name__", "").lower()]
        for name in [m for m in sys.modules if m == "maskroom" or m.startswith("maskroom.")]:
            del sys.modules[name]
        os.chdir(tmp)  # import-linter puts the working folder first on sys.path
        return lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)


if __name__ == "__main__":
    sys.exit(main())
