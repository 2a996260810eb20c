"""Filter values are taken literally and checked: LIKE metacharacters, yes/no, whole numbers."""
from __future__ import annotations

import tracemalloc

import pytest
from click.testing import CliRunner

from maskroom.catalog.queries import FilterError, build_id_query, build_query, parse_filter_args
from maskroom.catalog.schema import Folder, Image
from maskroom.cli import main

pytestmark = pytest.mark.catalog

MAX_INT = 2**31 - 1  # the largest id a catalog holds (INTEGER on PostgreSQL)

ROWS = [  # folder, file name, camera model, lens
    ("/shoots/2024_05", "IMG_1.jpg", "X_T5", "XF 56mm"),
    ("/shoots/2024-05/day1", "IMG-2.jpg", "X-T5", "XF 5%6mm"),
    ("/shoots/2024_05/day2", "100%.jpg", "XAT5", "XF\\56mm"),
    ("/shoots/2024x05", "IMGx3.jpg", "X T5", "XF 56mm"),
]


@pytest.fixture
def ids(catalog):
    out = {}
    with catalog.session() as s:
        for n, (folder, name, model, lens) in enumerate(ROWS):
            f = s.query(Folder).filter_by(path=folder).first() or Folder(path=folder)
            img = Image(folder=f, filename=name, path=f"{folder}/{name}", file_size=1, mtime=0.0,
                        content_hash=f"h{n}", format="jpeg", width=10, height=10, camera_model=model, lens=lens)
            s.add(img)
            s.flush()
            out[name] = img.id
    return out


def names(catalog, *args) -> set[str]:
    with catalog.session() as s:
        return {i.filename for i in s.scalars(build_query(parse_filter_args(args)))}


@pytest.mark.parametrize("arg, expected", [
    ("folder=/shoots/2024_05", {"IMG_1.jpg", "100%.jpg"}),  # not 2024-05 nor 2024x05
    ("folder=/shoots/2024-05", {"IMG-2.jpg"}),
    ("text=%", {"100%.jpg"}),  # not every photo
    ("text=_", {"IMG_1.jpg"}),
    ("text=IMG_", {"IMG_1.jpg"}),
    ("camera=X_T5", {"IMG_1.jpg"}),
    ("lens=5%6", {"IMG-2.jpg"}),
    ("lens=F\\5", {"100%.jpg"}),  # the escape character itself is literal too
])
def test_like_metacharacters_match_literally(catalog, ids, arg, expected):
    assert names(catalog, arg) == expected


@pytest.mark.parametrize("arg, message", [
    ("missing=maybe", "missing 'maybe': expected yes or no"),
    ("series=abc", "series 'abc': expected a whole number"),
    (f"series={2**63}", "out of range"),
    (f"id={2**63}", "out of range"),
    (f"id={2**31}", "out of range"),
    (f"id={2**31}-{2**32}", "out of range"),
    ("id=9-5", "runs backwards"),
    ("id=-", "expected numbers"),
    (f"iso={10**30}", "out of range"),
    (f"collection={2**63}", "out of range"),
])
def test_bad_values_are_one_line_errors(catalog, ids, arg, message):
    with pytest.raises(FilterError, match=message) as err:
        names(catalog, arg)
    assert "\n" not in str(err.value)


def test_missing_yes_and_no(catalog, ids):
    with catalog.session() as s:
        s.get(Image, ids["IMG-2.jpg"]).missing = True
    assert names(catalog, "missing=yes") == {"IMG-2.jpg"}
    assert names(catalog, "missing=no") == {"IMG_1.jpg", "100%.jpg", "IMGx3.jpg"}


def test_a_huge_id_range_is_a_range_not_a_list(catalog, ids):
    tracemalloc.start()
    try:
        with catalog.session() as s:
            got = sorted(s.scalars(build_id_query({"id": "1-10000000000"})))
            both = sorted(s.scalars(build_id_query({"id": f"{ids['IMG-2.jpg']},3-{MAX_INT}"})))
            rest = sorted(s.scalars(build_id_query({"id": f"2-{2**64}"})))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == sorted(ids.values())
    assert both == sorted({ids["IMG-2.jpg"], *(i for i in ids.values() if i >= 3)})
    assert rest == sorted(i for i in ids.values() if i >= 2)  # a range's end past the last id: the rest
    assert peak < 50 * 2**20  # a list of 10^10 ids would be 80 GB


@pytest.mark.parametrize("arg", ["series=abc", "missing=maybe", f"id={2**63}", "id=1-10000000000x"])
def test_cli_says_one_line(catalog, ids, arg):
    res = CliRunner().invoke(main, ["--catalog", catalog.location.url, "ls", "--filter", arg])
    assert res.exit_code == 1, res.output
    assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output, res.output


@pytest.mark.parametrize("args", [["show", 2**63], ["edit", 2**63, "--set", "exposure=1"], ["rate", 3, 2**31],
                                  ["history", 1, "--version", 2**64], ["ls", "--limit", 2**70]])
def test_cli_ids_out_of_range_are_refused_at_the_door(catalog, ids, args):
    res = CliRunner().invoke(main, ["--catalog", catalog.location.url, *map(str, args)])
    assert res.exit_code == 2, res.output
    assert "is not in the range 1<=x<=2147483647" in res.output and res.exception.__class__ is SystemExit
