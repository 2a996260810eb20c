"""Source decoding for the develop pipeline: RAW linear, ICC profiles, EXIF orientation."""
from __future__ import annotations

import io

import numpy as np
import pytest
from develop_support import add_image
from PIL import Image as PILImage
from PIL import ImageCms
from synth_files import make_dng

from maskroom.catalog import edits
from maskroom.catalog.schema import Image
from maskroom.engine.develop import render as R
from maskroom.engine.develop.adjustments.base import luma
from maskroom.engine.develop.color import icc_profile
from maskroom.core.recipe import Recipe

pytestmark = pytest.mark.catalog


@pytest.fixture(autouse=True)
def _fresh():
    R.clear_memory_caches()
    yield
    R.clear_memory_caches()


def _row(catalog, image_id):
    with catalog.session() as s:
        img = s.get(Image, image_id)
        s.expunge(img)
    return img


def _version(catalog, image_id, recipe=None):
    with catalog.session() as s:
        vid = edits.get_version(s, image_id).id
        if recipe is not None:
            edits.save_recipe(s, vid, recipe, "t")
    return vid


def test_raw_decodes_linear_without_auto_brightening(catalog, tmp_path):
    dng = make_dng(tmp_path / "ramp.dng", w=256, h=192)
    iid = add_image(catalog, dng, "dng-ramp", size=(256, 192))
    vid = _version(catalog, iid)
    lin = R.render_version(catalog, vid, scale="full").linear
    assert lin.shape == (192, 256, 3)
    # The Bayer data rise linearly with x (base = x/w*3000 + y/h*1000 + 200 of 4095):
    # a linear decode keeps the ratios, a gamma or auto-bright decode would not.
    y = luma(np.ascontiguousarray(lin))[96, 8:120]
    xs = np.arange(8, 120)
    base = xs / 256 * 3000 + 96 / 192 * 1000 + 200
    assert np.corrcoef(y, base)[0, 1] > 0.99
    assert y[-1] / y[0] == pytest.approx(base[-1] / base[0], rel=0.1)
    # The highlight option reaches rawpy (clip vs blend differ only where clipped).
    r = Recipe(settings={"raw": {"highlight_mode": "blend"}})
    vid2 = _version(catalog, iid, r)
    assert R.render_version(catalog, vid2, scale="full").linear.shape == lin.shape
    # An unknown white balance is refused at the door: it never reaches the catalog or a render.
    from maskroom.core.recipe import RecipeError

    with pytest.raises(RecipeError, match="white_balance"):
        _version(catalog, iid, Recipe(settings={"raw": {"white_balance": "sunset"}}))


def test_embedded_icc_profile_is_honoured(catalog, tmp_path):
    px = np.zeros((32, 48, 3), np.uint8)
    px[:, :16] = (40, 200, 60)  # a green that Adobe RGB makes more saturated than sRGB can show
    px[:, 16:32] = (128, 128, 128)
    px[:, 32:] = (200, 60, 40)
    path = tmp_path / "adobe.png"
    PILImage.fromarray(px).save(path, icc_profile=icc_profile("adobe-rgb"))
    iid = add_image(catalog, path)
    out, _ = R.to_output(R.render_version(catalog, _version(catalog, iid), scale="full").linear)
    src = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile("adobe-rgb")))
    want = np.asarray(ImageCms.profileToProfile(PILImage.fromarray(px), src, ImageCms.createProfile("sRGB")))
    assert np.abs(out.astype(int) - want).max() <= 2
    assert abs(int(out[0, 0, 1]) - 200) > 5 or abs(int(out[0, 0, 0]) - 40) > 5  # really converted


def test_exif_orientation_is_applied(catalog, samples_dir):
    path = samples_dir / "immich_portrait-orientation-6.jpg"
    iid = add_image(catalog, path)
    img = _row(catalog, iid)
    with PILImage.open(path) as im:
        stored_w, stored_h = im.size
    assert (img.width, img.height) == (stored_h, stored_w)  # orientation 6: stored sideways
    res = R.render_version(catalog, _version(catalog, iid), scale="full")
    assert (res.width, res.height) == (img.width, img.height)
    inp = R.source_mask_input(catalog, img, "full")
    assert inp.image.shape[:2] == (img.height, img.width)
