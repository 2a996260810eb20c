"""Develop use cases: the histogram of a version's rendered preview."""
from __future__ import annotations

from maskroom.catalog import edits
from maskroom.catalog.schema import Image
from maskroom.engine.develop.histogram import Histogram, histogram
from maskroom.engine.develop.render import render_preview_srgb


def version_histogram(catalog, image_id: int, version_id: int | None = None) -> Histogram:
    """RGB + luminance histogram and clipping counts of the version's rendered preview
    (the master when ``version_id`` is None).  LookupError/EditError for a bad id."""
    with catalog.session() as s:
        if s.get(Image, image_id) is None:
            raise LookupError(f"no image with id {image_id}")
        vid = edits.get_version(s, image_id, version_id).id
    return histogram(render_preview_srgb(catalog, vid))
