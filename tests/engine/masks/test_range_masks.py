"""Range mask kinds: colour range (CIELAB deltaE), luminance range, all."""
from __future__ import annotations

import numpy as np
import pytest

from maskroom.engine.masks.compose import compose, derive
from maskroom.engine.masks.registry import MaskInput
from maskroom.core.recipe import MaskComponent, MaskDefinition, RecipeError


def patches():
    img = np.zeros((40, 120, 3), np.float32)
    img[:, :40] = [0.8, 0.1, 0.1]  # red
    img[:, 40:80] = [0.1, 0.2, 0.8]  # blue
    img[:, 80:] = [0.5, 0.5, 0.5]  # grey
    return MaskInput(image=img, digest="p")


def test_color_range_selects_the_sampled_colour_within_tolerance():
    a = derive(patches(), MaskComponent("color-range", params={"colors": [[0.78, 0.12, 0.1]], "tolerance": 20})).alpha
    assert a[:, :40].min() > 0.95 and a[:, 40:].max() == 0.0


def test_color_range_samples_points_and_tolerance_widens():
    i = patches()
    a = derive(i, MaskComponent("color-range", params={"points": [[0.5, 0.5]], "tolerance": 10})).alpha
    assert a[:, 40:80].min() > 0.99 and a[:, :40].max() == 0.0 and a[:, 80:].max() == 0.0
    # a light blue is ~dE 30 from the blue patch: only a wide tolerance takes it
    near = [[0.3, 0.4, 0.95]]
    tight = derive(i, MaskComponent("color-range", params={"colors": near, "tolerance": 15})).alpha
    wide = derive(i, MaskComponent("color-range", params={"colors": near, "tolerance": 80})).alpha
    assert tight[:, 40:80].max() == 0.0 and wide[:, 40:80].min() > 0.0


def test_luminance_range_with_feather():
    ramp = np.repeat(np.linspace(0, 1, 101, dtype=np.float32)[None, :, None], 3, 2).repeat(4, 0)
    i = MaskInput(image=ramp, digest="r")
    from maskroom.engine.masks.ranges import to_lab

    lum = to_lab(ramp)[0, :, 0] / 100
    a = derive(i, MaskComponent("luminance-range", params={"min": 0.4, "max": 0.6, "feather": 0.1})).alpha[0]
    assert np.all(a[(lum >= 0.4) & (lum <= 0.6)] == 1.0)
    assert np.all(a[(lum < 0.3) | (lum > 0.7)] == 0.0)
    band = (lum > 0.31) & (lum < 0.39)
    assert np.all((a[band] > 0) & (a[band] < 1))
    with pytest.raises(RecipeError):
        derive(i, MaskComponent("luminance-range", params={"min": 0.7, "max": 0.2}))


def test_all_and_inverted_range():
    i = patches()
    assert derive(i, MaskComponent("all")).alpha.min() == 1.0
    red = MaskComponent("color-range", params={"colors": [[0.8, 0.1, 0.1]]})
    everything_but_red = compose(MaskDefinition([MaskComponent("all"), MaskComponent(**{**red.__dict__, "mode": "subtract"})]), i)
    assert everything_but_red[:, :40].max() < 0.05 and everything_but_red[:, 40:].min() == 1.0
