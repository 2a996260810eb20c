"""Library services the app's keyword list and collection tree use (and the CLI with
them): virtual copies listed after their photo, keyword counts, collection
create/rename/delete and the quick-collection toggle."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from conftest import add_missing_photos, run_cli
from maskroom.catalog import edits, library
from maskroom.catalog.queries import list_cells
from maskroom.catalog.schema import CollectionImage, EditVersion, HistoryStep, Image

pytestmark = pytest.mark.catalog


def list_entries(session, *args, **kwargs) -> list[tuple[int, int | None]]:
    """The grid's cells as (image id, version id or None) pairs."""
    return list(zip(*list_cells(session, *args, **kwargs)))


def add_images(catalog, n: int) -> list[int]:
    t0 = datetime(2024, 5, 1, 12, 0, 0)
    # capture order is the reverse of names
    return add_missing_photos(catalog, [f"IMG_{i:03d}.jpg" for i in range(n)],
                              capture_times=[t0 + timedelta(minutes=n - i) for i in range(n)])


def test_copies_follow_their_photo_in_grid_and_ls(catalog):
    ids = add_images(catalog, 5)
    with catalog.session() as s:
        c1 = edits.create_virtual_copy(s, ids[1]).id
        c2 = edits.create_virtual_copy(s, ids[1]).id
        c3 = edits.create_virtual_copy(s, ids[3]).id
        library.set_rating(s, [ids[1]], 4)
    with catalog.session() as s:
        by_name = list_entries(s, {}, "name")
        by_capture = list_entries(s, {}, "capture")
        rated = list_entries(s, {"rating": ">=4"}, "name")
        plain = list_entries(s, {}, "name", versions=False)
    assert by_name == [(ids[0], None), (ids[1], None), (ids[1], c1), (ids[1], c2), (ids[2], None),
                       (ids[3], None), (ids[3], c3), (ids[4], None)]
    assert [e for e in by_capture if e[1] is None] == [(i, None) for i in reversed(ids)]
    assert by_capture[by_capture.index((ids[3], None)) + 1] == (ids[3], c3)
    # A copy shares its photo's rating: the filter keeps the photo with its copies.
    assert rated == [(ids[1], None), (ids[1], c1), (ids[1], c2)]
    assert plain == [(i, None) for i in ids]
    # `maskroom ls --versions` lists exactly the grid's cells, with the copies' names.
    out = json.loads(run_cli(catalog, "ls", "--sort", "name", "--versions", "--json").output)
    assert [(r["id"], r["version"]) for r in out] == by_name
    assert [r["copy"] for r in out if r["version"]] == ["Copy 1", "Copy 2", "Copy 1"]
    text = run_cli(catalog, "ls", "--sort", "name", "--versions").output
    assert f"[Copy 2, version {c2}]" in text
    assert len(json.loads(run_cli(catalog, "ls", "--json").output)) == 5  # without --versions: photos


def test_keyword_counts_and_selection(catalog):
    ids = add_images(catalog, 4)
    with catalog.session() as s:
        library.add_keyword(s, ids[:3], "Places|Japan")
        library.add_keyword(s, ids[:1], "Places|Japan|Kyoto")
        library.add_keyword(s, ids[2:], "sunset")
    with catalog.session() as s:
        assert library.keyword_counts(s) == [("Places", 0), ("Places|Japan", 3), ("Places|Japan|Kyoto", 1),
                                             ("sunset", 2)]
        assert library.keywords_of_images(s, ids[1:3]) == {"Places|Japan": 2, "sunset": 1}
        assert library.keywords_of_images(s, []) == {}
    out = json.loads(run_cli(catalog, "keywords", "--json").output)
    assert {r["keyword"]: r["images"] for r in out}["Places|Japan"] == 3


def test_collection_create_rename_delete(catalog):
    ids = add_images(catalog, 4)
    with catalog.session() as s:
        library.create_collection(s, "Best")
        library.add_to_collection(s, "Best", ids[:2])
        with pytest.raises(library.LibraryError, match="exists already"):
            library.create_collection(s, "Best")
        with pytest.raises(library.LibraryError, match="needs a name"):
            library.create_collection(s, "  ")
        library.create_collection(s, "Smart", smart_filter={"text": "IMG_00"})
        library.create_collection(s, "Other")
    with catalog.session() as s:
        with pytest.raises(library.LibraryError, match="exists already"):
            library.rename_collection(s, "Best", "Other")
        library.rename_collection(s, "Best", "Portfolio")
    with catalog.session() as s:
        counts = {c["name"]: (c["smart"], c["images"]) for c in library.collection_counts(s)}
        assert counts == {"Other": (False, 0), "Portfolio": (False, 2), "Smart": (True, 4)}
        assert library.delete_collection(s, "Portfolio") == 2
    with catalog.session() as s:
        assert s.scalar(select(func.count()).select_from(CollectionImage)) == 0
        assert s.scalar(select(func.count()).select_from(Image)) == 4  # the photos stay
        assert [c["name"] for c in library.collection_counts(s)] == ["Other", "Smart"]
    # The CLI does the same through the same services.
    run_cli(catalog, "collection", "rename", "Other", "Keepers")
    assert "collection 'Smart' exists already" in run_cli(catalog, "collection", "rename", "Keepers", "Smart",
                                                          ok=False).output
    run_cli(catalog, "collection", "delete", "Keepers")
    assert [r["name"] for r in json.loads(run_cli(catalog, "collection", "list", "--json").output)] == ["Smart"]


def test_quick_collection_toggles(catalog):
    ids = add_images(catalog, 3)
    q = library.QUICK_COLLECTION
    with catalog.session() as s:
        assert library.toggle_in_collection(s, q, ids[:2]) == (2, 0)  # made on first use
    with catalog.session() as s:
        assert library.toggle_in_collection(s, q, ids) == (1, 0)  # some were missing: they join
    with catalog.session() as s:
        assert library.toggle_in_collection(s, q, ids[1:]) == (0, 2)  # all in: they leave
    with catalog.session() as s:
        assert list(s.scalars(select(CollectionImage.image_id))) == [ids[0]]


def test_remove_virtual_copies(catalog):
    ids = add_images(catalog, 2)
    with catalog.session() as s:
        master = edits.get_version(s, ids[0]).id
        keep = edits.create_virtual_copy(s, ids[0]).id
        gone = edits.create_virtual_copy(s, ids[0]).id
    with catalog.session() as s:
        with pytest.raises(library.LibraryError, match="is a master"):
            library.remove_virtual_copies(s, [gone, master])
    with catalog.session() as s:
        with pytest.raises(library.LibraryError, match="no edit version with id 999"):
            library.remove_virtual_copies(s, [999])
    with catalog.session() as s:
        assert library.remove_virtual_copies(s, [gone]) == [gone]
    with catalog.session() as s:
        assert list(s.scalars(select(EditVersion.id).order_by(EditVersion.id))) == [master, keep]
        assert s.scalar(select(func.count()).select_from(HistoryStep).where(HistoryStep.version_id == gone)) == 0
        assert [v for _i, v in list_entries(s, {}, "name") if v] == [keep]
    assert "removed 1 virtual copy" in run_cli(catalog, "copy-remove", keep).output
    assert "is a master" in run_cli(catalog, "copy-remove", master, ok=False).output
    with catalog.session() as s:
        assert list(s.scalars(select(EditVersion.id))) == [master]
