"""Where the catalog and its caches live.

Resolution order for the catalog: an explicit ``--catalog`` value, then the
``MASKROOM_CATALOG`` environment variable, then one SQLite file in the user data
directory.  A value may be a filesystem path or a full SQLAlchemy URL
(``postgresql+psycopg://user@host/db``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from maskroom.core.errors import InvalidValue

ENV_CATALOG = "MASKROOM_CATALOG"
ENV_CACHE = "MASKROOM_CACHE"
ENV_MAX_PIXELS = "MASKROOM_MAX_PIXELS"
# Decompression bombs: no camera makes more (a 150 MP medium format file passes; a
# 250 MP PNG of zeros that unpacks to 3 GB of working pixels does not).  Raise it with
# MASKROOM_MAX_PIXELS for stitched panoramas.
DEFAULT_MAX_PIXELS = 200_000_000
DEFAULT_FILENAME = "catalog.maskroom.sqlite"


@dataclass(frozen=True)
class CatalogLocation:
    url: str
    # Folder for thumbnails, previews, mask rasters and renders.  Lives beside an
    # SQLite catalog; for a server database it goes to the user cache directory.
    cache_dir: Path
    sqlite_path: Path | None

    @property
    def is_sqlite(self) -> bool:
        return self.sqlite_path is not None


def max_pixels() -> int:
    """The pixel limit above which an image is refused (read each time: tests and
    long-running apps see a changed environment)."""
    raw = os.environ.get(ENV_MAX_PIXELS, "").strip()
    if not raw:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(float(raw))
    except ValueError:
        raise InvalidValue(f"{ENV_MAX_PIXELS}={raw!r}: expected a number of pixels, e.g. 300000000") from None
    if value < 1_000_000:
        raise InvalidValue(f"{ENV_MAX_PIXELS}={raw!r}: at least 1000000 pixels")
    return value


def default_catalog_path() -> Path:
    return Path(platformdirs.user_data_dir("maskroom", appauthor=False)) / DEFAULT_FILENAME


def resolve_catalog(value: str | os.PathLike | None = None) -> CatalogLocation:
    raw = str(value) if value is not None else os.environ.get(ENV_CATALOG) or str(default_catalog_path())
    if "://" in raw:
        if raw.startswith("sqlite:///"):
            path = Path(raw[len("sqlite:///"):]).expanduser().resolve()
            return _sqlite_location(path)
        cache = os.environ.get(ENV_CACHE)
        cache_dir = Path(cache) if cache else Path(platformdirs.user_cache_dir("maskroom", appauthor=False))
        return CatalogLocation(url=raw, cache_dir=cache_dir, sqlite_path=None)
    return _sqlite_location(Path(raw).expanduser().resolve())


def _sqlite_location(path: Path) -> CatalogLocation:
    cache = os.environ.get(ENV_CACHE)
    cache_dir = Path(cache) if cache else path.with_name(path.stem + ".cache")
    return CatalogLocation(url=f"sqlite:///{path}", cache_dir=cache_dir, sqlite_path=path)
