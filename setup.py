"""Map the repository's top-level folders under the one import package ``maskroom``.

The repo keeps ``catalog/``, ``engine/``, ``ui/``, ``migrations/`` and ``models/`` at the
top for readability, but installing them as top-level packages would put generic names
into site-packages.  Here every such folder becomes ``maskroom.<folder>``.
"""
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).parent
MAPPED = ["core", "catalog", "engine", "services", "ui", "migrations", "models"]


def _packages():
    package_dir = {"maskroom": "maskroom"}
    packages = []
    for top, prefix in [("maskroom", "maskroom")] + [(d, f"maskroom.{d}") for d in MAPPED]:
        package_dir[prefix] = top
        for init in sorted((ROOT / top).rglob("__init__.py")):
            rel = init.parent.relative_to(ROOT / top)
            packages.append(".".join([prefix, *rel.parts]) if rel.parts else prefix)
    return packages, package_dir


packages, package_dir = _packages()

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={
        "maskroom": ["data/samples/*"],
        "maskroom.migrations": ["script.py.mako", "alembic.ini", "versions/*.py"],
        "maskroom.models": ["*.onnx", "manifest.json", "packs.json", "LICENSES/*", "*.md"],
    },
    include_package_data=True,
)
