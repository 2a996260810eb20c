"""Tagging, collecting and saving presets from several processes at once: one keyword
per level, one preset per name, no duplicate rows, no errors, and every photo ends up
tagged and collected."""
from __future__ import annotations

import pytest
from concurrency import run_concurrently
from develop_support import add_image
from sqlalchemy import func, select

from maskroom.catalog import library
from maskroom.catalog.schema import Collection, CollectionImage, ImageKeyword, Keyword, Preset

pytestmark = pytest.mark.catalog

PROCESSES = 4


def test_concurrent_tags_and_collections(catalog, sample_copy):
    ids = [add_image(catalog, p) for p in sorted(sample_copy.glob("*.jpg"))[:PROCESSES * 2]]
    assert len(ids) >= PROCESSES
    commands = []
    for n in range(PROCESSES):
        mine = [str(i) for i in ids[n::PROCESSES]]
        commands.append([
            ["tag", "add", "Places|Japan|Kyoto", *mine],  # every process makes the same new path
            ["tag", "add", f"Shoot|Day {n}", *map(str, ids)],
            ["collection", "add", "Picks", *map(str, ids)] if n else ["collection", "create", "Picks"],
            ["collection", "add", "Picks", *mine],
            ["preset", "save", "Look", "--from", ids[n]],  # the same new name from each process
        ])
    with catalog.session() as s:
        library.create_collection(s, "Picks")  # the `create` above must then say it exists
    results = run_concurrently(catalog, commands)
    for n, runs in enumerate(results):
        for args, (code, output) in zip(commands[n], runs):
            if args[:2] == ["collection", "create"]:
                assert code == 1 and "exists already" in output, output
            else:
                assert code == 0, f"{args}: {output}"
    with catalog.session() as s:
        names = sorted(s.scalars(select(Keyword.name)))
        assert names == sorted(["Places", "Japan", "Kyoto", "Shoot"] + [f"Day {n}" for n in range(PROCESSES)])
        kyoto = library.keyword(s, "Places|Japan|Kyoto", create=False)
        assert sorted(s.scalars(select(ImageKeyword.image_id).where(ImageKeyword.keyword_id == kyoto.id))) == ids
        assert s.scalar(select(func.count()).select_from(ImageKeyword)) == len(ids) * (1 + PROCESSES)
        assert s.scalar(select(func.count(Collection.id))) == 1
        assert list(s.scalars(select(Preset.name))) == ["Look"]
        picks = s.scalar(select(Collection.id))
        rows = s.execute(select(CollectionImage.image_id, CollectionImage.position)
                         .where(CollectionImage.collection_id == picks)).all()
    assert sorted(i for i, _ in rows) == ids
    assert sorted(p for _, p in rows) == list(range(len(ids)))  # positions 0..n-1, none twice
