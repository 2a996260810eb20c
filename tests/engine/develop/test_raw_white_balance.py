"""RAW white balance: presets/Kelvin against colour-science's loci and LibRaw's own
multipliers, the neutral picker against LibRaw's as-shot balance, and --wb on the CLI."""
from __future__ import annotations

import numpy as np
import pytest
import rawpy
from click.testing import CliRunner
from develop_support import add_image
from synth_files import make_dng

from maskroom.cli import main
from maskroom.engine.develop.raw_wb import (
    WhiteBalanceError, camera_xyz, kelvin_to_xy, multipliers_for, pick_multipliers, wb_spec,
)
from maskroom.engine.develop.source import SourceError, decode_raw_linear, raw_options
from maskroom.services.develop import white_balance_settings

# A real camera's XYZ->camera matrix (Canon EOS 6D, as LibRaw ships it)
CANON = [[0.7034, -0.0804, -0.1014], [-0.442, 1.2564, 0.2058], [-0.0851, 0.1994, 0.5758]]
LIGHT = (0.5, 1.0, 0.8)  # camera response to the scene's grey: what "as shot" must undo


def grey_scene(h=96, w=128, level=1500.0):
    bayer = np.full((h, w), level)
    bayer[0::2, 0::2] *= LIGHT[0]
    bayer[1::2, 1::2] *= LIGHT[2]
    return bayer.astype(np.uint16)


@pytest.mark.parametrize("kelvin", [2850, 3800, 4000, 5500, 6504, 7500, 12000])
def test_kelvin_chromaticity_matches_colour_science(kelvin):
    import colour  # colour-science is in the test extra: a missing install must fail, not skip
    ref = (colour.temperature.CCT_to_xy_CIE_D(kelvin * 1.4388 / 1.4380) if kelvin >= 4000
           else colour.temperature.CCT_to_xy_Kang2002(kelvin))
    assert np.allclose(kelvin_to_xy(kelvin), ref, atol=2e-3)


def test_daylight_multipliers_match_libraws_own(tmp_path):
    dng = make_dng(tmp_path / "cam.dng", color_matrix=CANON)
    with rawpy.imread(str(dng)) as raw:
        m = camera_xyz(raw)
        libraw = np.array(raw.daylight_whitebalance[:3])
    assert np.allclose(m / m[1, 1], np.array(CANON) / CANON[1][1], atol=1e-3)  # matrix recovered
    ours = np.array(multipliers_for(m, 6504))
    assert np.allclose(ours, libraw / libraw[1], rtol=5e-3)
    warm = multipliers_for(m, 2850)
    assert warm[2] > ours[2] * 1.5 and warm[0] < ours[0]  # tungsten: boost blue, cut red


def test_picker_finds_the_as_shot_balance_libraw_reads(tmp_path):
    dng = make_dng(tmp_path / "grey.dng", color_matrix=CANON, as_shot=LIGHT, bayer=grey_scene())
    with rawpy.imread(str(dng)) as raw:
        as_shot = np.array(raw.camera_whitebalance[:3])
    picked = pick_multipliers(dng, 0.5, 0.5)
    assert np.allclose(picked, as_shot / as_shot[1], rtol=0.01)
    # and a decode with the picked balance is neutral
    lin = decode_raw_linear(dng, ("custom", *picked))
    px = lin[40:50, 50:60].reshape(-1, 3).mean(axis=0)
    assert np.ptp(px / px.mean()) < 0.02
    with pytest.raises(WhiteBalanceError, match="within 0..1"):
        pick_multipliers(dng, 1.5, 0.5)


def test_presets_change_the_decode_the_right_way(tmp_path):
    dng = make_dng(tmp_path / "grey.dng", color_matrix=CANON, as_shot=LIGHT, bayer=grey_scene())
    tungsten = decode_raw_linear(dng, wb_spec({"white_balance": "tungsten"}))[48, 64]
    shade = decode_raw_linear(dng, wb_spec({"white_balance": "shade"}))[48, 64]
    assert tungsten[2] / tungsten[0] > 1.5 * shade[2] / shade[0]  # tungsten setting renders bluer


def test_settings_are_validated():
    assert wb_spec({"white_balance": "cloudy"}) == ("kelvin", 6500.0, 0.0)
    assert white_balance_settings("5200,+10") == {"white_balance": "kelvin", "temperature": 5200.0, "tint": 10.0}
    assert raw_options({"raw": {"white_balance": "flash"}}) == (("kelvin", 5500.0, 0.0), "clip")
    for bad in ({"white_balance": "sunset"}, {"white_balance": "kelvin", "temperature": float("nan")},
                {"white_balance": "kelvin", "temperature": 900}, {"white_balance": "custom", "wb_multipliers": [1, 2]},
                {"white_balance": "custom", "wb_multipliers": [1, 1, float("inf")]}):
        with pytest.raises(WhiteBalanceError):
            wb_spec(bad)
    with pytest.raises(SourceError):
        raw_options({"raw": {"white_balance": "kelvin", "tint": 400}})
    with pytest.raises(WhiteBalanceError):
        white_balance_settings("warm-ish")


@pytest.mark.catalog
def test_edit_wb_and_wb_pick(catalog, catalog_location, tmp_path, sample_copy):
    from maskroom.catalog import edits

    dng = make_dng(tmp_path / "grey.dng", color_matrix=CANON, as_shot=LIGHT, bayer=grey_scene())
    raw_id = add_image(catalog, dng, "grey-dng", size=(128, 96))
    jpg_id = add_image(catalog, sample_copy / "immich_el_torcal_rocks.jpg")
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, ["--catalog", catalog_location.url, *map(str, args)], catch_exceptions=False)

    def raw_settings():
        with catalog.session() as s:
            return edits.load_recipe(s, edits.get_version(s, raw_id).id).settings.get("raw")

    assert run("edit", raw_id, "--wb", "tungsten").exit_code == 0
    assert raw_settings() == {"white_balance": "tungsten"}
    assert run("edit", raw_id, "--wb", "4300,-20").exit_code == 0
    assert raw_settings() == {"white_balance": "kelvin", "temperature": 4300.0, "tint": -20.0}
    res = run("edit", raw_id, "--wb-pick", "0.5,0.5")
    assert res.exit_code == 0, res.output
    assert raw_settings()["white_balance"] == "custom"
    assert np.allclose(raw_settings()["wb_multipliers"], [2.0, 1.0, 1.25], rtol=0.01)
    res = run("edit", raw_id, "--wb", "sunset")
    assert res.exit_code != 0 and "raw.white_balance must be one of" in res.output
    # A JPEG has no camera white balance: the pick sets temperature/tint instead (the
    # neutrality itself is tested in test_wb_pick_nonraw.py), and no raw settings.
    res = run("edit", jpg_id, "--wb-pick", "0.5,0.5")
    assert res.exit_code == 0, res.output
    with catalog.session() as s:
        jpg = edits.load_recipe(s, edits.get_version(s, jpg_id).id)
    assert "raw" not in jpg.settings and {"temperature", "tint"} & set(jpg.global_layer.adjustments)


@pytest.mark.catalog
def test_wb_pick_is_placed_through_the_crop(catalog, catalog_location, tmp_path):
    """--wb-pick's point is on the photo as rendered: on a cropped RAW it lands on the
    crop's pixel, not on the uncropped frame's."""
    from maskroom.catalog import edits

    other = (0.8, 1.0, 0.5)  # the right half of the scene is lit by another light
    bayer = grey_scene().astype(np.float64)
    bayer[:, 64:] = 1500.0
    bayer[0::2, 64::2] *= other[0]
    bayer[1::2, 65::2] *= other[2]
    dng = make_dng(tmp_path / "two-lights.dng", color_matrix=CANON, as_shot=LIGHT, bayer=bayer.astype(np.uint16))
    raw_id = add_image(catalog, dng, "two-lights", size=(128, 96))
    runner = CliRunner()

    def run(*args):
        res = runner.invoke(main, ["--catalog", catalog_location.url, *map(str, args)], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        with catalog.session() as s:
            return edits.load_recipe(s, edits.get_version(s, raw_id).id).settings["raw"]["wb_multipliers"]

    assert np.allclose(run("edit", raw_id, "--wb-pick", "0.25,0.5"), [2.0, 1.0, 1.25], rtol=0.02)  # left light
    run("edit", raw_id, "--crop", "0.5,0,1,1")
    # the crop's centre is the right half's centre: the other light
    assert np.allclose(run("edit", raw_id, "--wb-pick", "0.5,0.5"), [1.25, 1.0, 2.0], rtol=0.02)
