"""The white-balance eyedropper on a photo that is not RAW (`edit --wb-pick X,Y` and the
app's Pick): the temperature/tint it sets make the picked patch neutral in the render
(a* and b* near 0, R = G = B within a few levels), on a cropped photo too."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage

from conftest import run_cli
from develop_support import add_image
from maskroom.services import develop, editing

pytestmark = pytest.mark.catalog
# Casts the temperature/tint range (+-100: about +-0.35 EV per channel) can take out.
CASTS = {"warm": (168, 152, 136), "green": (146, 158, 142), "cool": (136, 148, 166), "magenta": (158, 144, 156)}


def cast_photo(path, grey) -> None:
    """A scene lit by coloured light: a grey card (left), a red and a blue object."""
    img = np.zeros((400, 600, 3), np.uint8)
    img[:] = (90, 110, 70)
    img[100:300, 40:200] = grey  # the card
    img[120:280, 260:400] = (200, 60, 50)
    img[120:280, 440:560] = (40, 70, 190)
    PILImage.fromarray(img).save(path, quality=97)


def lab_of(rgb_patch: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb_patch.astype(np.uint8)[None], cv2.COLOR_RGB2LAB)[0].astype(float).mean(axis=0) - 128


@pytest.mark.parametrize("cast", sorted(CASTS))
def test_picked_patch_becomes_neutral(catalog, tmp_path, cast):
    path = tmp_path / f"{cast}.jpg"
    cast_photo(path, CASTS[cast])
    image_id = add_image(catalog, path)
    vid = editing.master_version_id(catalog, image_id)
    before = develop.render_preview(catalog, vid, 600)
    assert np.abs(lab_of(before[150:250, 80:160].reshape(-1, 3))[1:]).max() > 5  # a real cast to remove

    out = json.loads(run_cli(catalog, "edit", image_id, "--wb-pick", "0.2,0.5", "--json").output)
    assert out[0]["label"] == "White balance: picked"
    adj = editing.load_recipe(catalog, vid).global_layer.adjustments
    assert set(adj) == {"temperature", "tint"}
    after = develop.render_preview(catalog, vid, 600)
    patch = after[150:250, 80:160].reshape(-1, 3).astype(float)
    _l, a, b = lab_of(patch)
    assert abs(a) < 1.5 and abs(b) < 1.5, (cast, adj, a, b)
    mean = patch.mean(axis=0)
    assert mean.max() - mean.min() < 4, (cast, mean)


def test_pick_on_a_cropped_photo_and_refusals(catalog, tmp_path):
    path = tmp_path / "warm.jpg"
    cast_photo(path, CASTS["warm"])
    image_id = add_image(catalog, path)
    vid = editing.master_version_id(catalog, image_id)
    # Cropped to the right half and turned a little: the card is off the frame's left edge now,
    # so a pick at the centre of the cropped frame lands on the blue object, not the card.
    run_cli(catalog, "edit", image_id, "--crop", "0.0,0.2,0.5,0.8", "--straighten", "2")
    run_cli(catalog, "edit", image_id, "--wb-pick", "0.24,0.5")  # the card, in the cropped frame
    render = develop.render_preview(catalog, vid, 600)
    h, w = render.shape[:2]
    patch = render[int(0.4 * h):int(0.6 * h), int(0.18 * w):int(0.3 * w)].reshape(-1, 3)
    assert np.abs(lab_of(patch)[1:]).max() < 2.0
    r = run_cli(catalog, "edit", image_id, "--wb-pick", "1.5,0.5", ok=False)
    assert r.exit_code != 0
    dark = tmp_path / "dark.jpg"
    PILImage.fromarray(np.zeros((100, 100, 3), np.uint8)).save(dark)
    dark_id = add_image(catalog, dark)
    r = run_cli(catalog, "edit", dark_id, "--wb-pick", "0.5,0.5", ok=False)
    assert r.exit_code == 1 and "too dark" in r.output


def test_a_cast_beyond_the_range_is_brought_as_far_as_it_goes(catalog, tmp_path, caplog):
    path = tmp_path / "orange.jpg"
    cast_photo(path, (190, 140, 100))
    image_id = add_image(catalog, path)
    run_cli(catalog, "edit", image_id, "--wb-pick", "0.2,0.5")
    adj = editing.load_recipe(catalog, editing.master_version_id(catalog, image_id)).global_layer.adjustments
    assert adj["temperature"] == -100.0
    assert "further off than temperature and tint reach" in caplog.text
