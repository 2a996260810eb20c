"""Hand edits of series: merge, split, auto-sync.  A hand-edited series is locked so
detection never regroups it again."""
from __future__ import annotations

from sqlalchemy import select

from maskroom.catalog.schema import Image, Series
from maskroom.engine.series.detect import series_members
from maskroom.core.errors import InvalidValue


class SeriesError(InvalidValue):
    pass


def _get(session, series_id: int) -> Series:
    sr = session.get(Series, int(series_id))
    if sr is None:
        raise SeriesError(f"series {series_id} does not exist")
    return sr


def merge(catalog, a: int, b: int) -> int:
    """Move B's images into A, delete B; A is locked.  Returns A."""
    if int(a) == int(b):
        raise SeriesError("cannot merge a series with itself")
    with catalog.session() as s:
        sa, sb = _get(s, a), _get(s, b)
        for img in s.scalars(select(Image).where(Image.series_id == sb.id)):
            img.series_id = sa.id
        if sa.source_version_id is None:
            sa.source_version_id = sb.source_version_id
            sa.sync_options = dict(sb.sync_options or {})
        sa.auto_sync = bool(sa.auto_sync or sb.auto_sync)
        sa.locked = True
        s.flush()
        s.delete(sb)
        return sa.id


def split(catalog, series_id: int, at_image_id: int) -> int:
    """Frames from ``at_image_id`` on (capture order) go to a new series; both locked."""
    with catalog.session() as s:
        sr = _get(s, series_id)
        members = series_members(s, sr.id)
        if int(at_image_id) not in members:
            raise SeriesError(f"image {at_image_id} is not in series {series_id}")
        idx = members.index(int(at_image_id))
        if idx == 0:
            raise SeriesError(f"image {at_image_id} is the first frame of series {series_id}: nothing to split off")
        new = Series(name=f"{sr.name} (split)", locked=True, auto_sync=False)
        s.add(new)
        s.flush()
        for iid in members[idx:]:
            s.get(Image, iid).series_id = new.id
        sr.locked = True
        return new.id


def set_auto_sync(catalog, series_id: int, on: bool, source_version_id: int | None = None,
                  sync_options: dict | None = None) -> None:
    with catalog.session() as s:
        sr = _get(s, series_id)
        sr.auto_sync = bool(on)
        if source_version_id is not None:
            sr.source_version_id = source_version_id
        if sync_options is not None:
            sr.sync_options = dict(sync_options)
