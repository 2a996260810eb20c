"""The develop commands through click: edit, history, undo/redo, snapshot, copy, preset, render."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from develop_support import add_image
from PIL import Image as PILImage

from maskroom.catalog import edits
from maskroom.cli import main

pytestmark = pytest.mark.catalog


@pytest.fixture
def env(catalog, catalog_location, sample_copy):
    ids = [add_image(catalog, sample_copy / "immich_el_torcal_rocks.jpg"),
           add_image(catalog, sample_copy / "immich_tanners_ridge.jpg")]
    runner = CliRunner()

    def run(*args, ok=True):
        res = runner.invoke(main, ["--catalog", catalog_location.url, *map(str, args)], catch_exceptions=False)
        if ok:
            assert res.exit_code == 0, res.output
        return res

    return catalog, ids, run


def _recipe(catalog, image_id):
    with catalog.session() as s:
        return edits.load_recipe(s, edits.get_version(s, image_id).id)


def test_edit_history_undo_redo(env):
    catalog, (a, b), run = env
    run("edit", a, b, "--set", "exposure=+0.7", "--set", "clarity=20")
    assert _recipe(catalog, b).global_layer.adjustments == {"exposure": 0.7, "clarity": 20}
    run("edit", a, "--set", "contrast=-10")
    out = run("history", a).output.splitlines()
    assert [x[1:].split(None, 1)[1] for x in out] == ["Import", "exposure +0.7, clarity +20", "contrast -10"]
    assert out[-1].startswith(">")
    run("undo", a)
    assert _recipe(catalog, a).global_layer.adjustments == {"exposure": 0.7, "clarity": 20}
    run("redo", a)
    assert _recipe(catalog, a).global_layer.adjustments["contrast"] == -10
    res = run("redo", a, ok=False)
    assert res.exit_code == 1 and "nothing to redo" in res.output
    data = json.loads(run("history", a, "--json").output)
    assert [d["current"] for d in data] == [False, False, True]


def test_edit_rejects_bad_values_with_one_line(env):
    catalog, (a, _), run = env
    res = run("edit", a, "--set", "exposure=12", ok=False)
    assert res.exit_code != 0 and "outside" in res.output
    res = run("edit", a, "--set", "sparkle=3", ok=False)
    assert "unknown adjustment 'sparkle'" in res.output
    res = run("edit", 999, a, "--set", "exposure=1", ok=False)
    assert res.exit_code == 1 and "image 999" in res.output  # the batch goes on
    assert _recipe(catalog, a).global_layer.adjustments == {"exposure": 1.0}


def test_masked_layer_from_json_and_recipe_file(env, tmp_path):
    catalog, (a, b), run = env
    mask = tmp_path / "sky.json"
    mask.write_text(json.dumps([{"kind": "linear", "params": {"x0": 0.5, "y0": 0, "x1": 0.5, "y1": 0.5}}]))
    run("edit", a, "--layer", "Sky", "--mask-json", mask, "--set", "exposure=-0.5", "--set", "dehaze=20")
    layer = _recipe(catalog, a).layer("Sky")
    assert layer.adjustments == {"exposure": -0.5, "dehaze": 20} and layer.mask.components[0].kind == "linear"
    run("edit", a, "--layer", "Sky", "--opacity", "0.5")
    assert _recipe(catalog, a).layer("Sky").opacity == 0.5
    res = run("edit", a, "--layer", "Nope", "--set", "exposure=1", ok=False)
    assert "--mask-json" in res.output
    recipe_file = tmp_path / "recipe.json"
    recipe_file.write_text(_recipe(catalog, a).to_json())
    run("edit", b, "--recipe", recipe_file)
    assert _recipe(catalog, b).digest() == _recipe(catalog, a).digest()


def test_snapshot_and_virtual_copy(env):
    catalog, (a, _), run = env
    run("edit", a, "--set", "saturation=-100")
    run("snapshot", "save", a, "bw")
    run("edit", a, "--set", "saturation=40")
    run("snapshot", "restore", a, "bw")
    assert _recipe(catalog, a).global_layer.adjustments == {"saturation": -100}
    assert "bw" in run("snapshot", "list", a).output
    out = run("copy", a, "--name", "Colour").output
    vid = int(out.rsplit(" ", 1)[-1])
    run("edit", a, "--version", vid, "--set", "saturation=50")
    assert _recipe(catalog, a).global_layer.adjustments == {"saturation": -100}
    with catalog.session() as s:
        assert edits.load_recipe(s, vid).global_layer.adjustments == {"saturation": 50}


def test_preset_save_export_import_apply(env, tmp_path):
    catalog, (a, b), run = env
    mask = tmp_path / "v.json"
    mask.write_text(json.dumps({"components": [{"kind": "radial", "inverted": True, "params": {"rx": 0.4, "ry": 0.3}}]}))
    run("edit", a, "--set", "vibrance=25")
    run("edit", a, "--layer", "Vignette", "--mask-json", mask, "--set", "exposure=-0.6")
    run("preset", "save", "Soft vignette", "--from", a)
    f = tmp_path / "soft.json"
    run("preset", "export", "Soft vignette", f)
    body = json.loads(f.read_text())
    assert body["format"] == "maskroom-develop-preset" and body["global"]["adjustments"] == {"vibrance": 25}
    run("preset", "import", f, "--name", "Imported")
    assert "Imported" in run("preset", "list").output
    run("preset", "apply", "Imported", b)
    r = _recipe(catalog, b)
    assert r.global_layer.adjustments == {"vibrance": 25} and r.layer("Vignette").adjustments == {"exposure": -0.6}
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    res = run("preset", "import", bad, ok=False)
    assert res.exit_code == 1 and "bad.json" in res.output and len(res.output.strip().splitlines()) == 1


def test_render_writes_image_and_leaves_original(env, tmp_path, sample_copy):
    catalog, (a, _), run = env
    before = (sample_copy / "immich_el_torcal_rocks.jpg").read_bytes()
    out = tmp_path / "plain.png"
    run("render", a, "--out", out)
    run("edit", a, "--set", "exposure=1")
    bright = tmp_path / "bright.jpg"
    run("render", a, "--out", bright, "--size", 256)
    plain = np.asarray(PILImage.open(out))
    b = PILImage.open(bright)
    assert max(b.size) == 256 and b.info.get("icc_profile")
    assert np.asarray(b).mean() > plain.mean() + 20
    assert (sample_copy / "immich_el_torcal_rocks.jpg").read_bytes() == before
    res = run("render", a, "--out", tmp_path / "x.bmp", ok=False)
    assert "unknown extension" in res.output
