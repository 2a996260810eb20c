"""The million-row query shapes (issue 17) give the same answers as the plain ones."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from maskroom.catalog import library
from maskroom.catalog.queries import build_id_query, build_query
from maskroom.catalog.schema import Folder, Image

pytestmark = pytest.mark.catalog

CAMERAS = [("Canon", "Canon EOS R5"), ("NIKON CORPORATION", "NIKON Z 8"), ("Canon", "EOS R6"), (None, None)]


@pytest.fixture
def photos(catalog):
    with catalog.session() as s:
        folder = Folder(path="/p")
        for i in range(40):
            make, model = CAMERAS[i % 4]
            s.add(Image(folder=folder, filename=f"{i:03d}.jpg", path=f"/p/{i:03d}.jpg", file_size=1, mtime=0.0,
                        content_hash=f"h{i}", format="jpeg", width=4, height=3, camera_make=make,
                        camera_model=model, rating=i % 6, capture_time=datetime(2024, 1, 1) + timedelta(hours=i)))
        s.flush()
        ids = [img.id for img in s.query(Image).order_by(Image.filename)]
        library.add_keyword(s, ids[::3], "Travel")
    return ids


@pytest.mark.parametrize("filters", [
    {"camera": "canon"},  # by make: EOS R6's model does not say Canon
    {"camera": "Z 8", "rating": ">=2"},
    {"camera": "EOS", "keyword": "Travel", "date": "2024-01-01..2024-01-02", "rating": ">=1"},
    {"keyword": "Travel"},
    {"camera": "no such camera"},
])
def test_listing_and_id_shapes_agree(catalog, photos, filters):
    with catalog.session() as s:
        listed = list(s.scalars(build_query(filters, "capture").with_only_columns(Image.id)))
        ids = set(s.scalars(build_id_query(filters)))
        expected = set()
        for img in s.query(Image):
            ok = True
            if "camera" in filters:
                needle = filters["camera"].lower()
                ok &= any(needle in (x or "").lower() for x in (img.camera_make, img.camera_model)) and \
                    img.camera_model is not None
            if "rating" in filters:
                ok &= img.rating >= int(filters["rating"][2:])
            if "keyword" in filters:
                ok &= any(k.name == "Travel" for k in img.keywords)
            if "date" in filters:
                ok &= img.capture_time < datetime(2024, 1, 3)
            if ok:
                expected.add(img.id)
    assert set(listed) == ids == expected
    assert listed == sorted(listed, key=photos.index)  # capture order = file order here


def test_postgresql_gets_the_array_form_for_listings_only():
    listing = str(build_query({"camera": "EOS"}).compile(dialect=postgresql.dialect()))
    bulk = str(build_id_query({"camera": "EOS"}).compile(dialect=postgresql.dialect()))
    lite = str(build_query({"camera": "EOS"}).compile(dialect=sqlite.dialect()))
    assert "= ANY(ARRAY(SELECT" in listing and "ANY(" not in bulk and "ANY(" not in lite
    assert "images.camera_model IN (SELECT" in bulk and "images.camera_model IN (SELECT" in lite
