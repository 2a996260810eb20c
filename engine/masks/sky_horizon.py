"""Water under a horizon: the part of a "sky" region below a straight horizon.

Both sky models take open water for sky when it meets the sky at a horizon: the sea
under a clear horizon (mate_Dune: 46 % "sky", 14 points of it sea) and a hazy lake
(sklearn_china).  An earlier try cut a region below any luminance step in its row
profile and also cut skies above dark cloud banks (docs/masks.md).  What sets a sea
horizon apart from a cloud edge is that it is one straight, level line across the
region, with darker water below it than the sky just above:

* per column, the row of the strongest *horizontal* edge inside the region (vertical
  colour change more than twice the horizontal one, away from the region's border, so
  grass blades and branches poking into the sky do not count);
* the horizon is the row most columns agree on (within 2 rows at the models' 384 px),
  and at least STRAIGHT of the region's columns at that row must agree;
* below it the region is darker than above it (water reflects a darker sky; haze near
  the horizon makes the sky just above it bright), and it is less of the region than
  the part above (a horizon with more water than sky is too rare to risk).

The cut lowers the fused probability below the threshold there; refinement then works
from that.  Measured on the pairs: ADE20K 0.8623 -> 0.8621 (one image loses a strip
above a bridge deck), CamVid and the hard cases unchanged; the sea in mate_Dune and the
lake in sklearn_china are no longer sky (docs/masks.md, "Sky: what was tried").
"""
from __future__ import annotations

import cv2
import numpy as np

STRAIGHT = 0.3  # share of the region's columns at the horizon row whose strongest edge is on it
WIDTH = 0.3  # the region spans at least this share of the frame's width at the horizon row
STEP = 0.06  # colour change (sRGB, Euclidean) across the horizon
DARKER = 0.02  # water below the horizon is darker than the sky above by this much
BAND = 6  # rows above/below the horizon compared (at 384 px)
MIN_AREA = 0.01  # regions smaller than this share of the frame are left alone
_AGREE = 2  # rows


def level_edges(small: np.ndarray) -> np.ndarray:
    """Strength of the photo's level (horizontal) edges: the vertical colour change
    where it is more than twice the horizontal one, else 0 (depends on the photo only)."""
    h, w = small.shape[:2]
    blur = cv2.GaussianBlur(small.astype(np.float32, copy=False), (0, 0), 1.0)
    dy = np.zeros((h, w), np.float32)
    dy[2:-2] = np.linalg.norm(blur[4:] - blur[:-4], axis=-1)
    dx = np.zeros((h, w), np.float32)
    dx[:, 2:-2] = np.linalg.norm(blur[:, 4:] - blur[:, :-4], axis=-1)
    return np.where(dy > 2 * dx, dy, 0.0)


def water_below_horizon(p: np.ndarray, small: np.ndarray, threshold: float = 0.5,
                        edges: np.ndarray | None = None) -> np.ndarray:
    """``p`` with the water below a straight horizon pushed under ``threshold``;
    ``edges``: ``level_edges(small)`` when the caller has it already."""
    hard = (p > threshold).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(hard, connectivity=8)
    h, w = hard.shape
    big = [j for j in range(1, n) if stats[j, cv2.CC_STAT_AREA] >= MIN_AREA * h * w]
    if not big:
        return p
    level_edge = level_edges(small) if edges is None else edges
    kernel = np.ones((7, 5), np.uint8)  # away from the region's border: 3 rows, 2 columns
    out = p
    for j in big:
        region = labels == j
        inner = cv2.erode(region.astype(np.uint8), kernel).astype(bool)
        edges = np.where(inner, level_edge, 0.0)
        rows, strength = edges.argmax(0), edges.max(0)
        strong = strength > STEP
        if strong.sum() < WIDTH * w:
            continue
        votes = np.convolve(np.bincount(rows[strong], minlength=h), np.ones(2 * _AGREE + 1), "same")
        y = int(votes.argmax())
        across = inner[y]
        if across.sum() < WIDTH * w:
            continue
        agree = (np.abs(rows - y) <= _AGREE) & strong & across
        if agree.sum() < STRAIGHT * across.sum():
            continue
        lo, hi = max(0, y - BAND - 2), min(h, y + BAND + 3)
        above, below = region[lo:y - 2], region[y + 3:hi]
        if not above.any() or not below.any():
            continue
        sky_above = small[lo:y - 2][above].mean(0)
        water_below = small[y + 3:hi][below].mean(0)
        if np.linalg.norm(sky_above - water_below) < STEP or water_below.mean() > sky_above.mean() - DARKER:
            continue
        if region[y + 1:].sum() > region[:y + 1].sum():
            continue
        cut = region.copy()
        cut[:y + 1] = False
        out = np.where(cut, np.minimum(out, threshold - 0.01), out)
    return out
