"""Lens corrections with lensfun: a grid bent by lensfun's own forward model comes back
straight, vignetting is lifted, a lens without a profile says so, and --lens on the CLI."""
from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from develop_support import add_image

from maskroom.cli import main
from maskroom.engine.develop.lens import LensError, LensKey, correct, find_profile, lens_key, validate_lens_settings

import lensfunpy  # noqa: E402  (a dependency: a missing install must fail, not skip)

CANON = ("Canon", "Canon EOS 6D", "Canon EF 24-105mm f/4L IS USM")


def grid(h=400, w=600, step=50):
    img = np.full((h, w, 3), 0.6, np.float32)
    img[::step] = 0.05
    img[:, ::step] = 0.05
    return img


def forward(img, focal):
    """The grid as the lens would record it: lensfun's reverse (distorting) model."""
    import cv2

    cam, lens = find_profile(*CANON)
    h, w = img.shape[:2]
    mod = lensfunpy.Modifier(lens, cam.crop_factor, w, h)
    mod.initialize(focal, 4.0, 10.0, scale=1.0, pixel_format=np.float32,
                   flags=lensfunpy.ModifyFlags.DISTORTION, reverse=True)
    xy = mod.apply_geometry_distortion()
    return cv2.merge([cv2.remap(img[..., c], xy[..., 0], xy[..., 1], cv2.INTER_LINEAR) for c in range(3)])


def line_rows(img, col):
    """Rows where the dark horizontal lines cross column ``col`` (sub-pixel centroids)."""
    v = 0.6 - img[:, col, 1]
    rows, out = np.flatnonzero(v > 0.2), []
    for group in np.split(rows, np.flatnonzero(np.diff(rows) > 3) + 1):
        if group.size:
            out.append(float(np.average(group, weights=v[group])))
    return np.array(out)


def test_correction_straightens_what_the_lens_bent():
    bent = forward(grid(), 24.0)
    # the top line bows: its row differs between the centre and near the edge
    assert abs(line_rows(bent, 325)[1] - line_rows(bent, 25)[1]) > 1.5
    key = LensKey(*CANON, 24.0, 4.0, True, False, False)
    fixed = correct(bent, key)
    # lensfun's auto-scale zooms slightly; lines must be straight, not at the same rows
    r_mid, r_edge = line_rows(fixed, 325), line_rows(fixed, 25)
    n = min(len(r_mid), len(r_edge))
    assert n >= 5 and np.abs(r_mid[1:n - 1] - r_edge[1:n - 1]).max() < 0.75


def test_vignetting_is_lifted_in_the_corners():
    flat = np.full((400, 600, 3), 0.3, np.float32)
    out = correct(flat, LensKey(*CANON, 24.0, 4.0, False, True, False))
    assert out[5, 5, 1] > 0.3 * 1.1 and abs(out[200, 300, 1] - 0.3) < 0.01


def test_settings_and_missing_profiles_are_reported():
    assert validate_lens_settings({"correct": "auto", "tca": False})
    for bad in ({"correct": "yes"}, {"distortion": 1}, {"fancy": True}, "auto"):
        with pytest.raises(LensError):
            validate_lens_settings(bad)
    with pytest.raises(LensError, match="no profile for this lens"):
        find_profile("Canon", "Canon EOS 6D", "Totally Unknown 33mm f/0.7 Dream")

    class Row:
        camera_make, camera_model, lens, focal_length, aperture = "Canon", "Canon EOS 6D", "EF 24-105", 50.0, None

    assert lens_key({}, Row()) is None  # off unless asked
    key = lens_key({"lens": {"correct": "auto", "profile": CANON[2]}}, Row())
    assert key.lens == CANON[2] and key.focal == 50.0


@pytest.mark.catalog
def test_edit_lens_auto_and_off(catalog, catalog_location, sample_copy):
    from maskroom.catalog import edits
    from maskroom.catalog.schema import Image

    image_id = add_image(catalog, sample_copy / "immich_el_torcal_rocks.jpg")
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, ["--catalog", catalog_location.url, *map(str, args)], catch_exceptions=False)

    res = run("edit", image_id, "--lens", "auto")  # the sample has no lens in EXIF
    assert res.exit_code == 1 and "lens" in res.output and len(res.output.strip().splitlines()) == 1
    with catalog.session() as s:
        row = s.get(Image, image_id)
        row.camera_make, row.camera_model, row.lens, row.focal_length, row.aperture = (*CANON, 24.0, 4.0)
    res = run("edit", image_id, "--lens", "auto")
    assert res.exit_code == 0, res.output
    assert "Lens corrections: Canon EF 24-105mm" in res.output
    with catalog.session() as s:
        assert edits.load_recipe(s, edits.get_version(s, image_id).id).settings["lens"] == {"correct": "auto"}
    assert run("render", image_id, "--out", sample_copy / "l.png", "--size", "256").exit_code == 0
    assert run("edit", image_id, "--lens", "off").exit_code == 0
