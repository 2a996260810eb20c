"""Frame alignment recovers known camera moves on a real sample photo."""
from __future__ import annotations

import numpy as np
import pytest

from maskroom.engine.sync.align import Alignment, align, warp_alpha
from sync_frames import camera_move, load_sample


def _pixel_error(al: Alignment, M: np.ndarray, w: int, h: int) -> float:
    """Max distance (px) between where the estimate and the truth put a grid of points."""
    g = np.array([[x, y] for x in np.linspace(0.1, 0.9, 5) for y in np.linspace(0.1, 0.9, 5)])
    est = al.map_points(g) * [w, h]
    px = np.c_[g * [w, h], np.ones(len(g))] @ M.T
    return float(np.max(np.hypot(*(est - px[:, :2]).T)))


@pytest.mark.parametrize("move", [
    dict(dx=30, dy=-12),
    dict(dx=-20, dy=15, angle=4.0),
    dict(dx=10, dy=5, angle=-2.0, zoom=1.06),
    dict(dx=-15, dy=-10, ev=1.5),  # bracket: +1.5 EV
    dict(dx=18, dy=6, angle=1.0, ev=-1.5),
])
def test_recovers_shift_rotation_zoom_and_exposure(move):
    base = load_sample()
    h, w = base.shape[:2]
    frame, M = camera_move(base, **move)
    al = align(base, frame)
    assert al.method.startswith("orb")
    assert al.quality > 0.3
    assert _pixel_error(al, M, w, h) < 2.5


def test_alignment_between_different_sizes_is_in_normalised_coordinates():
    import cv2

    base = load_sample()
    frame, M = camera_move(base, dx=25, dy=-10, angle=2.0)
    small = cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2), interpolation=cv2.INTER_AREA)
    al = align(base, small)
    h, w = base.shape[:2]
    assert _pixel_error(al, M, w, h) < 3.0


def test_unrelated_frames_have_low_quality():
    a = load_sample()
    b = load_sample("immich_prairie_falcon.jpg")
    al = align(a, b)
    assert al.quality < 0.2


def test_flat_frames_fall_back_without_crashing():
    flat = np.full((200, 300, 3), 128, np.uint8)
    al = align(flat, flat)
    assert al.method in ("ecc", "identity")
    assert np.allclose(al.map_points([[0.5, 0.5]]), [[0.5, 0.5]], atol=0.02)


def test_warp_alpha_follows_the_move():
    base = load_sample()
    h, w = base.shape[:2]
    frame, M = camera_move(base, dx=40, dy=20)
    al = align(base, frame)
    alpha = np.zeros((h, w), np.float32)
    alpha[100:200, 100:200] = 1
    moved = warp_alpha(alpha, al, (h, w))
    ys, xs = np.nonzero(moved > 0.5)
    assert abs(xs.mean() - 150 - 40) < 2 and abs(ys.mean() - 150 - 20) < 2
