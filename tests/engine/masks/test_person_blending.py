"""How the person matte is put together from several model answers (no model runs
here): sliding squares along a long frame and re-segmented crops must blend without
seams, and must cover the whole frame."""
from __future__ import annotations

import numpy as np
import pytest

from maskroom.engine.masks.people.segmentation import SEG_SIZE, blend_crops, sliding_squares


def _profile(long_edge, side, n, answers):
    acc = np.zeros(long_edge)
    wsum = np.zeros(long_edge)
    for (off, wt), a in zip(sliding_squares(long_edge, side, n), answers):
        acc[off:off + side] += a * wt
        wsum[off:off + side] += wt
    return acc, wsum


@pytest.mark.parametrize("long_edge,side,n", [(600, 512, 2), (768, 512, 3), (900, 300, 5), (513, 512, 2)])
def test_sliding_squares_cover_the_frame_without_seams(long_edge, side, n):
    answers = [float(i % 2) for i in range(n)]  # neighbours disagree completely
    acc, wsum = _profile(long_edge, side, n, answers)
    assert (wsum > 0.99).all()  # every pixel fully weighted: nothing left unsegmented
    blended = acc / wsum
    # A hard square edge would jump by 0.5 here; the fade spreads it over side/8 pixels.
    assert np.abs(np.diff(blended)).max() <= 1.0 / (side / 8) + 1e-6
    # The frame's ends keep their square's answer alone.
    assert blended[0] == answers[0] and blended[-1] == answers[-1]


def test_crop_blends_half_and_half_inside_and_fades_at_its_edge():
    prob = np.zeros((200, 300), np.float32)
    side = 128  # crop pixels -> image pixels: scale 0.5, placed at (60, 40)
    m = np.array([[side / SEG_SIZE, 0, 60], [0, side / SEG_SIZE, 40]], np.float32)
    out = blend_crops(prob, [(np.ones((SEG_SIZE, SEG_SIZE), np.float32), m)], prob.shape)
    assert out[40 + side // 2, 60 + side // 2] == pytest.approx(0.5)  # inside: half and half
    assert out[:30].max() == 0.0 and out[:, :50].max() == 0.0  # outside: untouched
    # No step at the crop's border: at most the fade's slope between neighbours.
    assert max(np.abs(np.diff(out, axis=0)).max(), np.abs(np.diff(out, axis=1)).max()) < 0.2
