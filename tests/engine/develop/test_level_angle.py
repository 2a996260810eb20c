"""Auto-straighten (engine/develop/geometry.level_angle): a synthetic horizon turned by a
known angle with the engine's own straighten is found again, and levelled by it."""
from __future__ import annotations

import numpy as np
import pytest

from maskroom.engine.develop.geometry import level_angle, straighten


def scene(vertical: bool = False) -> np.ndarray:
    rng = np.random.default_rng(0)
    img = np.zeros((600, 900, 3), np.uint8)
    if vertical:  # a wall's edge: an upright, no horizon
        img[:, :420] = (170, 160, 150)
        img[:, 420:] = (70, 60, 60)
    else:
        img[:330] = (150, 180, 220)
        img[330:] = (60, 90, 70)
    return np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("tilt", [0.0, 3.0, -5.5, 8.0])
@pytest.mark.parametrize("vertical", [False, True])
def test_a_turned_horizon_is_found_and_levelled(tilt, vertical):
    turned = straighten(scene(vertical), -tilt)  # turned clockwise by tilt: +tilt levels it
    found = level_angle(turned)
    assert found == pytest.approx(tilt, abs=0.15)
    assert level_angle(straighten(turned, found)) == pytest.approx(0.0, abs=0.15)


def test_no_straight_line_says_so():
    flat = np.full((300, 400, 3), 128, np.uint8)
    assert level_angle(flat) is None


@pytest.mark.parametrize("name", ["immich_el_torcal_rocks.jpg", "immich_cyclamen_persicum.jpg",
                                  "immich_prairie_falcon.jpg"])
def test_no_horizon_no_guess(samples_dir, name):
    """Rock strata, a flower stem, a cliff face: lines, but no horizon - no angle."""
    from PIL import Image

    assert level_angle(np.asarray(Image.open(samples_dir / name).convert("RGB"))) is None
