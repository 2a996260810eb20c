"""The filter/sort builder on synthesized rows (no files): every key, combined, sorted."""
from __future__ import annotations

from datetime import datetime

import pytest

from maskroom.catalog import library
from maskroom.catalog.queries import FilterError, build_id_query, build_query, parse_filter_args
from maskroom.catalog.schema import FLAG_PICK, FLAG_REJECT, Folder, Image

pytestmark = pytest.mark.catalog

ROWS = [
    # name, make, model, lens, iso, when, rating, flag, label, format, folder
    ("a.jpg", "Canon", "EOS R5", "RF 24-70mm F2.8", 100, datetime(2024, 5, 1, 9), 5, FLAG_PICK, "red", "jpeg", "/p/trip"),
    ("b.cr3", "Canon", "EOS R5", "RF 85mm F1.2", 800, datetime(2024, 5, 31, 23), 3, 0, None, "raw-cr3", "/p/trip"),
    ("c.nef", "Nikon", "Z 8", "Z 50mm f/1.8", 3200, datetime(2024, 6, 1, 0), 1, FLAG_REJECT, "blue", "raw-nef",
     "/p/trip/day2"),
    ("d.jpg", "Fujifilm", "X-T5", "XF 56mm F1.2", 400, datetime(2023, 12, 31), 0, 0, None, "jpeg", "/p/tripx"),
    ("e.png", None, None, None, None, None, 4, 0, "red", "png", "/p/scans"),
]


@pytest.fixture
def ids(catalog):
    out = {}
    with catalog.session() as s:
        folders = {}
        for name, make, model, lens, iso, when, rating, flag, label, fmt, folder in ROWS:
            if folder not in folders:
                folders[folder] = Folder(path=folder)
                s.add(folders[folder])
            img = Image(folder=folders[folder], filename=name, path=f"{folder}/{name}", file_size=len(name),
                        mtime=0.0, content_hash=name, format=fmt, width=10, height=10, capture_time=when,
                        camera_make=make, camera_model=model, lens=lens, iso=iso, rating=rating, flag=flag,
                        color_label=label)
            s.add(img)
            s.flush()
            out[name] = img.id
        library.add_keyword(s, [out["a.jpg"]], "Places|Japan|Kyoto")
        library.add_keyword(s, [out["b.cr3"]], "Places|Japan")
        library.add_keyword(s, [out["c.nef"]], "Places|France")
        library.add_keyword(s, [out["d.jpg"]], "Kyoto")  # a top-level namesake, not under Places
        library.collection(s, "Best", create=True)
        library.add_to_collection(s, "Best", [out["a.jpg"], out["e.png"]])
    return out


def names(catalog, filters, sort=None):
    with catalog.session() as s:
        return [i.filename for i in s.scalars(build_query(filters, sort))]


@pytest.mark.parametrize(
    "args, expected",
    [
        (["rating>=3"], {"a.jpg", "b.cr3", "e.png"}),
        (["rating=3"], {"a.jpg", "b.cr3", "e.png"}),  # a bare number means "at least"
        (["rating==3"], {"b.cr3"}),
        (["rating<=1"], {"c.nef", "d.jpg"}),
        (["flag=pick"], {"a.jpg"}),
        (["flag=reject"], {"c.nef"}),
        (["flag=none"], {"b.cr3", "d.jpg", "e.png"}),
        (["label=red"], {"a.jpg", "e.png"}),
        (["label=none"], {"b.cr3", "d.jpg"}),
        (["keyword=Places|Japan"], {"a.jpg", "b.cr3"}),  # the keyword and everything under it
        (["keyword=Places"], {"a.jpg", "b.cr3", "c.nef"}),
        (["keyword=Places|Japan|Kyoto"], {"a.jpg"}),
        (["keyword=Kyoto"], {"a.jpg", "d.jpg"}),  # a bare name matches it anywhere
        (["camera=canon"], {"a.jpg", "b.cr3"}),  # by make, any case
        (["camera=Z 8"], {"c.nef"}),
        (["camera=nothing"], set()),
        (["lens=F1.2"], {"b.cr3", "d.jpg"}),
        (["iso=400-800"], {"b.cr3", "d.jpg"}),
        (["iso=800-"], {"b.cr3", "c.nef"}),
        (["iso=-100"], {"a.jpg"}),
        (["date=2024-05"], {"a.jpg", "b.cr3"}),  # a whole month, end day included
        (["date=2024-05-31..2024-06-01"], {"b.cr3", "c.nef"}),
        (["date=..2023-12-31"], {"d.jpg"}),
        (["date=2024"], {"a.jpg", "b.cr3", "c.nef"}),
        (["folder=/p/trip"], {"a.jpg", "b.cr3", "c.nef"}),  # subfolders yes, /p/tripx no
        (["collection=Best"], {"a.jpg", "e.png"}),
        (["text=.JPG"], {"a.jpg", "d.jpg"}),
        (["format=raw"], {"b.cr3", "c.nef"}),
        (["rating>=3", "camera=EOS", "date=2024-05-01..2024-05-31", "keyword=Places"], {"a.jpg", "b.cr3"}),
        (["rating>=4", "keyword=Places", "label=red"], {"a.jpg"}),
    ],
)
def test_each_filter_key(catalog, ids, args, expected):
    assert set(names(catalog, parse_filter_args(args))) == expected


def test_id_filter_and_id_query_agree(catalog, ids):
    wanted = sorted([ids["a.jpg"], ids["c.nef"], ids["d.jpg"]])
    spec = f"{ids['a.jpg']},{ids['c.nef']}-{ids['d.jpg']}"
    with catalog.session() as s:
        assert sorted(s.scalars(build_id_query({"id": spec}))) == wanted
        assert [i.id for i in s.scalars(build_query({"id": spec}, "id"))] == wanted


def test_sorts(catalog, ids):
    assert names(catalog, {}, "name") == ["a.jpg", "b.cr3", "c.nef", "d.jpg", "e.png"]
    assert names(catalog, {}, "-rating") == ["a.jpg", "e.png", "b.cr3", "c.nef", "d.jpg"]
    dated = [n for n in names(catalog, {"date": "2000.."}, "capture")]
    assert dated == ["d.jpg", "a.jpg", "b.cr3", "c.nef"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["rating>=9"], "rating"),
        (["colour=red"], "unknown key"),
        (["rating"], "expected KEY=VALUE"),
        (["flag=maybe"], "flag"),
        (["date=last tuesday"], "date"),
        (["iso=lots"], "iso"),
        (["id=1,x"], "id"),
    ],
)
def test_bad_filters_name_the_problem(catalog, ids, args, message):
    with pytest.raises(FilterError, match=message):
        names(catalog, parse_filter_args(args))


def test_bad_sort(catalog, ids):
    with pytest.raises(FilterError, match="sort"):
        build_query({}, "colour")
