"""Catalog-wide preferences (one row per key in ``catalog_settings``), shared by the
CLI and the app: what one sets, the other sees."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from maskroom.catalog.schema import CatalogSetting

# key -> (default, type): every setting is known here, so a typo is an error, not a new row.
SETTINGS: dict[str, tuple[Any, type]] = {
    "xmp.auto_write": (False, bool),  # write sidecars after each change (Lightroom's "Automatically write")
    # lens corrections where an edit names none: "auto" | "off" (core.values.check_lens_default);
    # on for new catalogs; a catalog that had photos before the setting existed stores
    # "off" (migration 0007) so its edits render as they did
    "develop.lens_default": ("auto", str),
}


class SettingError(ValueError):
    pass


def _spec(key: str) -> tuple[Any, type]:
    if key not in SETTINGS:
        raise SettingError(f"unknown catalog setting {key!r} (known: {', '.join(sorted(SETTINGS))})")
    return SETTINGS[key]


def get_setting(session: Session, key: str) -> Any:
    default, _ = _spec(key)
    row = session.get(CatalogSetting, key)
    return default if row is None else row.value


def set_setting(session: Session, key: str, value: Any) -> None:
    _, kind = _spec(key)
    if not isinstance(value, kind):
        raise SettingError(f"catalog setting {key} must be {kind.__name__}, not {value!r}")
    row = session.get(CatalogSetting, key)
    if row is None:
        session.add(CatalogSetting(key=key, value=value))
    else:
        row.value = value
    session.flush()
