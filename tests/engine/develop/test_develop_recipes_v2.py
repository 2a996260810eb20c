"""Recipe schema 2 (curve values), old recipes rendering as before, the new keys through
``edit --set``, presets and masked layers."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from develop_support import add_image

from maskroom.catalog import edits
from maskroom.cli import main
from maskroom.core.recipe import SCHEMA_VERSION, Layer, MaskComponent, MaskDefinition, Recipe, RecipeError
from maskroom.engine.develop.color import srgb8_to_work
from maskroom.engine.develop.pipeline import render_recipe

from conftest import DATA  # noqa: E402
LOOK = {"curve.points": [[0.25, 0.2], [0.75, 0.82]], "curve.red": [[0.5, 0.55]], "mixer.blue.saturation": -40.0,
        "mixer.orange.luminance": 20.0, "grade.shadows.hue": 220.0, "grade.shadows.saturation": 30.0}


def golden_source() -> np.ndarray:
    """The source the schema-1 golden render was made from (tests/data/recipe_v1_render.npy)."""
    h, w = 64, 96
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([xx / w, yy / h, 0.5 + 0.3 * np.sin(xx / 7.0)], axis=2)
    img[20:40, 30:60] = (0.8, 0.3, 0.1)
    return srgb8_to_work((np.clip(img, 0, 1) * 255).astype(np.uint8))


def golden_mask(layer: Layer) -> np.ndarray:
    h, w = 64, 96
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.clip(1 - yy / (h * 0.6), 0, 1) if layer.name == "Sky" else np.clip(xx / w, 0, 1)


def test_a_schema_1_recipe_renders_pixel_equal_to_the_schema_1_code():
    # recipe_v1.json and its render were written by the schema-1 code (main before the bump)
    stored = json.loads((DATA / "recipe_v1.json").read_text())
    assert stored["schema_version"] == 1
    recipe = Recipe.from_dict(stored)
    out = render_recipe(golden_source(), "golden", recipe, golden_mask)
    # Equal to float rounding: the stored render came from the NumPy/OpenCV of its day
    # (a newer release rounds one step 3e-8 differently), and full-size maps are now
    # upsampled strip by strip (filters.RowUpsampler: cv2.resize's interpolation in
    # another order, 1e-7 apart).  2e-6 is far below one 16-bit output step (1.5e-5).
    ref = np.load(DATA / "recipe_v1_render.npy")
    assert out.shape == ref.shape and np.abs(out - ref).max() < 2e-6
    assert recipe.to_dict()["schema_version"] == SCHEMA_VERSION == 2
    assert all(isinstance(v, float) for layer in recipe.layers for v in layer.adjustments.values())


def test_curves_round_trip_and_newer_schemas_are_refused():
    r = Recipe()
    r.global_layer.adjustments.update(LOOK)
    back = Recipe.from_json(r.to_json())
    assert back.global_layer.adjustments == LOOK and back.digest() == r.digest()
    with pytest.raises(RecipeError, match="newer"):
        Recipe.from_dict({**r.to_dict(), "schema_version": SCHEMA_VERSION + 1})
    with pytest.raises(RecipeError, match="curve"):
        Recipe.from_dict({"layers": [{"name": "Global", "adjustments": {"curve.points": [[0.1, "x"]]}}]})


def test_modules_in_a_masked_layer_act_only_inside_the_mask():
    src = golden_source()
    r = Recipe()
    r.layers.append(Layer("Left", adjustments={"mixer.orange.saturation": -100.0, "curve.points": [[0.5, 0.7]]},
                          mask=MaskDefinition([MaskComponent("all")])))
    left = np.zeros(src.shape[:2], np.float32)
    left[:, :48] = 1.0
    out = render_recipe(src.copy(), "m", r, lambda layer: left)  # a writable source is rendered in place
    assert np.array_equal(out[:, 48:], src[:, 48:])
    assert np.abs(out[:, :48] - src[:, :48]).max() > 0.05


def test_finishing_effects_run_on_the_cropped_frame():
    src = np.full((100, 200, 3), 0.3, np.float32)
    r = Recipe()
    r.global_layer.adjustments["vignette.amount"] = -100.0
    r.settings["crop"] = {"x0": 0.5, "y0": 0.0, "x1": 1.0, "y1": 1.0}
    out = render_recipe(src.copy(), "v", r, lambda layer: None)
    assert out.shape[:2] == (100, 100)
    assert np.allclose(out[:, 0], out[:, -1], atol=1e-5) and out[0, 0, 1] < out[50, 50, 1] * 0.6


def test_presets_carry_curves_and_mixer():
    src = Recipe()
    src.global_layer.adjustments.update(LOOK)
    src.layers.append(Layer("Sky", adjustments={"mixer.blue.luminance": -30.0},
                            mask=MaskDefinition([MaskComponent("sky")])))
    body = edits.validate_preset_body(json.loads(json.dumps(edits.preset_body("look", src))))
    applied = edits.apply_preset_body(Recipe(), body)
    assert applied.global_layer.adjustments == LOOK
    assert applied.layer("Sky").adjustments == {"mixer.blue.luminance": -30.0}


@pytest.mark.catalog
def test_edit_set_takes_the_new_keys_and_refuses_bad_ones(catalog, catalog_location, sample_copy, tmp_path):
    image_id = add_image(catalog, sample_copy / "immich_el_torcal_rocks.jpg")
    runner = CliRunner()

    def run(*args, ok=True):
        res = runner.invoke(main, ["--catalog", catalog_location.url, *map(str, args)], catch_exceptions=False)
        assert (res.exit_code == 0) == ok, res.output
        return res

    run("edit", image_id, "--set", "curve.points=[[0.25,0.2],[0.75,0.82]]", "--set", "mixer.blue.saturation=-40",
        "--set", "grade.shadows.hue=220", "--set", "grade.shadows.saturation=30", "--set", "vignette.amount=-20")
    with catalog.session() as s:
        recipe = edits.load_recipe(s, edits.get_version(s, image_id).id)
    assert recipe.global_layer.adjustments == {
        "curve.points": [[0.25, 0.2], [0.75, 0.82]], "mixer.blue.saturation": -40.0, "grade.shadows.hue": 220.0,
        "grade.shadows.saturation": 30.0, "vignette.amount": -20.0}
    for bad, why in [("curve.points=[[0.5,0.5],[0.4,0.6]]", "x must increase"),
                     ("curve.points=" + json.dumps([[i / 20, i / 20] for i in range(17)]), "at most 16"),
                     ("mixer.blue.saturation=nan", "not a finite number"),
                     ("grade.shadows.hue=400", "outside 0..360"),
                     ("mixer.cyan.hue=10", "mixer.aqua.hue")]:
        res = run("edit", image_id, "--set", bad, ok=False)
        assert why in res.output and len(res.output.strip().splitlines()) == 1, res.output
    mask = tmp_path / "all.json"
    mask.write_text(json.dumps([{"kind": "all"}]))
    res = run("edit", image_id, "--layer", "L", "--mask-json", mask, "--set", "grain.amount=20", ok=False)
    assert "global layer" in res.output
    run("edit", image_id, "--layer", "L", "--mask-json", mask, "--set", "mixer.green.hue=30")
    out = tmp_path / "r.png"
    run("render", image_id, "--out", out, "--size", "256")
    assert out.stat().st_size > 0


def test_a_malformed_value_is_refused_on_load_and_switched_off_in_the_engine():
    bad = {"exposure": [[0, 0], [1, 1]]}
    with pytest.raises(RecipeError, match="exposure"):
        Recipe.from_dict({"layers": [{"name": "Global", "adjustments": bad}]})
    # a recipe built in memory past the door: the engine switches the value off, no crash
    src = golden_source()
    r = Recipe(layers=[Layer("Global", adjustments=dict(bad))])
    assert np.array_equal(render_recipe(src.copy(), "x", r, golden_mask), src)
