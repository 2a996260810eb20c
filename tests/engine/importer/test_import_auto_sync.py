"""`maskroom import` of a new frame of an auto-sync series gives it the series' edit."""
from __future__ import annotations

import json

import pytest

from maskroom.catalog import edits
from maskroom.services.demo import make_series

from conftest import run_cli

pytestmark = pytest.mark.catalog


run = run_cli


def test_new_frame_of_auto_sync_series_receives_the_edit(catalog, samples_dir, tmp_path):
    frames = make_series(samples_dir / "mpl_grace_hopper.jpg", tmp_path / "burst", frames=4)
    first_three, late = tmp_path / "card1", tmp_path / "card2"
    first_three.mkdir()
    late.mkdir()
    for f in frames[:3]:
        f.rename(first_three / f.name)
    frames[3].rename(late / frames[3].name)
    report = json.loads(run(catalog, "import", str(first_three), "--jobs", "1", "--json").stdout)
    source = report["imported"][0]
    run(catalog, "edit", str(source), "--set", "exposure=+0.5", "--set", "temperature=10")
    series = json.loads(run(catalog, "series", "--json").stdout)
    assert len(series) == 1
    sid = series[0]["id"]
    run(catalog, "sync", str(source), "--series")  # remembers the source edit for the series
    run(catalog, "series", "auto-sync", str(sid), "on")
    report = json.loads(run(catalog, "import", str(late), "--jobs", "1", "--json").stdout)
    new_id = report["imported"][0]
    assert report["auto_synced"] == [new_id]
    with catalog.session() as s:
        recipe = edits.load_recipe(s, edits.get_version(s, new_id).id)
        assert recipe.global_layer.adjustments["exposure"] == 0.5
        assert recipe.global_layer.adjustments["temperature"] == 10
