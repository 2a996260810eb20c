"""Geometric mask kinds: linear and radial gradients, brush strokes."""
from __future__ import annotations

import numpy as np
import pytest

from maskroom.engine.masks.compose import compose, derive
from maskroom.engine.masks.registry import MaskInput
from maskroom.core.recipe import MaskComponent, MaskDefinition, RecipeError


def inp(h=100, w=200):
    return MaskInput(image=np.zeros((h, w, 3), np.float32), digest="t")


def alpha(kind, h=100, w=200, **params):
    return derive(inp(h, w), MaskComponent(kind, params=params)).alpha


def test_linear_gradient_ramps_between_its_points():
    a = alpha("linear", x0=0.25, y0=0.5, x1=0.75, y1=0.5)
    row = a[50]
    assert row[:50].min() == pytest.approx(1.0)  # before the start: 1
    assert row[150:].max() == pytest.approx(0.0)  # after the end: 0
    assert row[100] == pytest.approx(0.5, abs=0.01)  # half way
    assert np.all(np.diff(row) <= 1e-6)
    assert np.allclose(a, a[50][None, :])  # horizontal gradient: constant down columns


def test_linear_gradient_top_to_bottom_like_a_sky_filter():
    a = alpha("linear", x0=0.5, y0=0.0, x1=0.5, y1=0.4)
    assert a[0].min() > 0.98 and a[40:].max() == 0.0 and 0.4 < a[20, 0] < 0.6


def test_radial_gradient_inside_outside_and_feather():
    a = alpha("radial", cx=0.5, cy=0.5, rx=0.2, ry=0.1, feather=0.5)  # rx=40 px, ry=20 px
    assert a[50, 100] == pytest.approx(1.0)
    assert a[50, 100 + 15] == pytest.approx(1.0)  # within the unfeathered inner half
    assert a[50, 100 + 45] == 0.0 and a[50 + 25, 100] == 0.0
    assert 0 < a[50, 100 + 30] < 1  # in the feather band
    hard = alpha("radial", cx=0.5, cy=0.5, rx=0.2, ry=0.1, feather=0.0)
    assert set(np.unique(hard)) <= {0.0, 1.0}


def test_radial_angle_rotates_the_ellipse():
    a = alpha("radial", h=200, w=200, cx=0.5, cy=0.5, rx=0.3, ry=0.05, feather=0.0, angle=90)
    assert a[100 + 40, 100] == 1.0 and a[100, 100 + 40] == 0.0


def test_brush_strokes_paint_and_erase():
    stroke = {"points": [[0.1, 0.5], [0.9, 0.5]], "size": 0.1, "feather": 0.0, "flow": 1.0}
    a = alpha("brush", strokes=[stroke])
    assert a[50, 100] == 1.0 and a[50, 30] == 1.0
    assert a[10, 100] == 0.0  # 40 px away, radius is 10 px
    erase = {"points": [[0.5, 0.5]], "size": 0.1, "feather": 0.0, "erase": True}
    b = alpha("brush", strokes=[stroke, erase])
    assert b[50, 100] == 0.0 and b[50, 30] == 1.0
    soft = alpha("brush", strokes=[dict(stroke, feather=1.0, flow=0.5)])
    assert 0.4 < soft[50, 100] <= 0.5 and 0 < soft[56, 100] < soft[50, 100]


def test_geometric_masks_are_resolution_independent():
    small = alpha("radial", h=100, w=150, cx=0.3, cy=0.6, rx=0.2, ry=0.15, feather=0.6, angle=30)
    big = alpha("radial", h=400, w=600, cx=0.3, cy=0.6, rx=0.2, ry=0.15, feather=0.6, angle=30)
    down = big.reshape(100, 4, 150, 4).mean(axis=(1, 3))
    assert np.abs(down - small).mean() < 0.01


def test_subtract_and_intersect_do_what_they_say():
    lin = MaskComponent("linear", params={"x0": 0.0, "y0": 0.5, "x1": 1.0, "y1": 0.5})  # 1 -> 0 left to right
    rad = MaskComponent("radial", params={"cx": 0.5, "cy": 0.5, "rx": 0.2, "ry": 0.2, "feather": 0.0})
    i = inp()
    a_lin = derive(i, lin).alpha
    a_rad = derive(i, rad).alpha
    sub = compose(MaskDefinition([lin, MaskComponent(**{**rad.__dict__, "mode": "subtract"})]), i)
    assert np.allclose(sub, a_lin * (1 - a_rad))
    assert sub[50, 100] == 0.0 and sub[50, 10] > 0.9  # hole where the circle is
    inter = compose(MaskDefinition([lin, MaskComponent(**{**rad.__dict__, "mode": "intersect"})]), i)
    assert np.allclose(inter, a_lin * a_rad)
    assert inter[50, 10] == 0.0 and inter[50, 100] == pytest.approx(a_lin[50, 100])


def test_bad_parameters_are_clear_errors():
    with pytest.raises(RecipeError, match="x0"):
        alpha("linear", y0=0, x1=1, y1=1)
    with pytest.raises(RecipeError, match="differ"):
        alpha("linear", x0=0.5, y0=0.5, x1=0.5, y1=0.5)
