"""An empty or doubtful AI mask is never silent: `mask add`/`render` print one warning
line per component, `--json` carries them, `review` lists them, the cache keeps them."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from maskroom.cli import main

from mask_helpers import add_image, disc_picture

pytestmark = pytest.mark.catalog


@pytest.fixture
def disc(catalog, tmp_path):
    disc_picture(tmp_path / "disc.png")  # a red disc on blue-grey: no sky, no people
    return add_image(catalog, tmp_path / "disc.png")


def run(catalog, *args):
    return CliRunner().invoke(main, ["--catalog", catalog.location.url, *map(str, args)])


def test_mask_add_says_no_sky_and_json_carries_it(catalog, disc):
    r = run(catalog, "mask", "add", disc, "--kind", "sky")
    assert r.exit_code == 0, r.output
    lines = [x for x in r.output.splitlines() if x.startswith("warning:")]
    assert lines == [f"warning: image {disc} layer 'Sky' [sky]: no sky in this photo (confidence 0.00)"]
    r = run(catalog, "mask", "add", disc, "--kind", "face-skin", "--layer", "Face", "--json")
    doc = json.loads(r.stdout)
    assert [(w["kind"], w["reason"]) for w in doc["warnings"]] == [("face-skin", "no face found")]


def test_render_repeats_the_warning_from_the_cache_and_review_lists_it(catalog, disc, tmp_path):
    # (a person number beyond the people found is refused at the door: tests/test_bad_values.py)
    run(catalog, "mask", "add", disc, "--kind", "sky", "--layer", "P")
    r = run(catalog, "mask", "render", disc, "P", "--out", tmp_path / "p.png")
    assert r.exit_code == 0, r.output
    assert "1 hit / 0 derived" in r.output  # the reason survives a cache hit
    assert "[sky]: no sky in this photo" in r.output
    items = json.loads(run(catalog, "review", "--json").stdout)
    assert [(i["layer"], i["reason"]) for i in items] == [("P", "sky: no sky in this photo")]


def test_a_mask_that_finds_its_thing_prints_no_warning(catalog, disc):
    r = run(catalog, "mask", "add", disc, "--kind", "object", "--box", "0.2,0.15,0.8,0.95", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["warnings"] == []
    assert "warning:" not in r.output
    assert json.loads(run(catalog, "review", "--json").stdout) == []


def test_a_person_without_a_detected_face_is_named_in_the_reason():
    """The Curies' group photo: two people, the second one's face is not found."""
    from maskroom.core.recipe import MaskComponent
    from maskroom.engine.masks.compose import derive
    from maskroom.engine.masks.overlay import load_rgb
    from maskroom.engine.masks.registry import MaskInput, warning

    from conftest import SAMPLES

    inp = MaskInput(load_rgb(SAMPLES / "immich_portrait_curies.jpg"), digest="warnings:curies")
    first = derive(inp, MaskComponent("iris", params={"person": 0}))
    second = derive(inp, MaskComponent("iris", params={"person": 1}))
    assert first.found and warning("iris", first) is None
    assert not second.found
    assert warning("iris", second) == "no face found for person 2 (index 1)"


def test_sync_flags_an_empty_mask_even_when_the_source_was_empty_too(catalog, tmp_path, samples_dir):
    """Both frames without sky used to sync in silence ("consistent"); now the target says why."""
    import shutil

    from sqlalchemy import select

    from maskroom.catalog import edits
    from maskroom.catalog.schema import Image
    from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition, Recipe
    from maskroom.engine.importer import run_import
    from maskroom.engine.sync import review
    from maskroom.engine.sync.engine import run_sync

    shoot = tmp_path / "indoor"
    shoot.mkdir()
    shutil.copy(samples_dir / "immich_portrait_curies.jpg", shoot / "a.jpg")
    shutil.copy(samples_dir / "mpl_grace_hopper.jpg", shoot / "b.jpg")
    run_import(catalog, [shoot], jobs=1)
    with catalog.session() as s:
        ids = [i for (i,) in s.execute(select(Image.id).order_by(Image.filename))]
        vid = edits.get_version(s, ids[0]).id
        edits.save_recipe(s, vid, Recipe(layers=[Layer("Global"), Layer("Sky", adjustments={"exposure": -0.5},
                          mask=MaskDefinition([MaskComponent("sky")]))]), "sky")
    rep = run_sync(catalog, ids[0], [ids[1]])
    comp = rep.targets[0].components[0]
    reason = "no sky: the backdrop behind a portrait"  # her blue backdrop is not sky
    assert comp.flag == reason
    assert [(i["image_id"], i["layer"], i["reason"]) for i in review.list_items(catalog)] == [(ids[1], "Sky", reason)]


def test_the_cat_imported_through_the_catalog_is_no_person(catalog, tmp_path):
    """Through the importer's colour-managed preview the upright face detector finds
    the cat's face, and the mesh turns it 70 degrees: it needs a body like a face found
    on a turned copy (read from the file it is found there, and rejected).  It got
    an 81 % person mask with a "turned 70 degrees" note."""
    import shutil
    from pathlib import Path

    from maskroom.engine.importer import run_import

    shoot = tmp_path / "cat"
    shoot.mkdir()
    shutil.copy(Path(__file__).resolve().parents[2] / "data" / "people" / "chelsea_cat.png", shoot / "cat.png")
    run_import(catalog, [shoot], jobs=1)
    r = run(catalog, "mask", "add", 1, "--kind", "person", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert [w["kind"] for w in doc["warnings"]] == ["person"]
    assert doc["warnings"][0]["reason"].startswith("no person found in this photo"), doc["warnings"]
