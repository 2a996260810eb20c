"""Indoor "skies": bright window panes and plain walls both sky models take for sky.

Measured on the ADE20K sky pairs (35 sky-less indoor photos, docs/masks.md "Sky:
indoor context"), the false sky left after the fusion's rules came from two things:

* **window panes**: blown-out or blue panes of a room's windows (ADE20K labels them
  window, and a photographer darkening "the sky" of a living room does not mean them).
  Seen from inside, the sky is a set of framed, compact panes none of which reaches the
  frame's top edge (the wall and ceiling are above them); an outdoor sky reaches the
  top edge, or is one or two openings (under a bridge, through a canopy).
* **a plain wall** (white under a white ceiling; also lamps, a clock face, orange bokeh
  among the samples): both models call it sky, but
  U²-Netp, the precise one, is less sure over it than over any real sky of that size
  and colour on the pairs (its mean 0.89 there; neutral skies of 3 %+ of the frame:
  0.96-1.00).  Blue regions are spared: a clear sky is never a wall's colour.  So are
  textured ones: a sunset or dusk sky is warm and U²-Netp doubts it too (the hard-case
  city skyline: 0.33), but its clouds make it anything but plain.  The brightness
  spread of the walls this rule removes on the pairs and samples is 0.011-0.075 (on
  the 384 px grid); the sunset's is 0.13.

Each rule names what it removed; the sky kind passes that on as the raster's reason
("no sky: ..." when nothing is left, "doubtful sky: not counted: ..." otherwise).
"""
from __future__ import annotations

import cv2
import numpy as np

PANES = 3  # at least this many framed openings, none at the top edge: windows of a room
PANE_FILL = 0.6  # a pane fills this share of its bounding box (sky through leaves does not)
PANE_MIN = 0.0005  # of the frame: smaller openings are not counted (the fusion's speck size)
WALL_AREA = 0.05  # a region this large (of the frame) ...
WALL_NEUTRAL = 0.06  # ... whose mean blue exceeds red by less than this (white, grey, beige) ...
WALL_U2 = 0.93  # ... and over which U²-Netp's mean stays below this: a wall, not a sky
WALL_PLAIN = 0.1  # ... and whose brightness varies less than this (std of sRGB mean): plain, not clouds


def window_panes(hard: np.ndarray) -> bool:
    """True when the sky regions of a binary map look like the panes of a room's windows."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(hard.astype(np.uint8), connectivity=8)
    if n <= 1 or (stats[1:, cv2.CC_STAT_TOP] == 0).any():
        return False
    area = stats[1:, cv2.CC_STAT_AREA]
    box = stats[1:, cv2.CC_STAT_WIDTH] * stats[1:, cv2.CC_STAT_HEIGHT]
    framed = (area >= PANE_MIN * hard.size) & (area >= PANE_FILL * box)
    return int(framed.sum()) >= PANES


def plain_walls(labels: np.ndarray, n: int, colours: np.ndarray, p_u2: np.ndarray,
                small: np.ndarray) -> np.ndarray:
    """Per label: a large, plain, neutral region U²-Netp doubts (bool, n); ``small`` is
    the photo on the labels' grid."""
    flat = labels.ravel()
    counts = np.bincount(flat, minlength=n)
    size = np.maximum(counts, 1)
    u2 = np.bincount(flat, weights=p_u2.ravel(), minlength=n) / size
    lum = small.mean(axis=2).ravel().astype(np.float64)
    mean = np.bincount(flat, weights=lum, minlength=n) / size
    spread = np.sqrt(np.maximum(np.bincount(flat, weights=lum * lum, minlength=n) / size - mean * mean, 0.0))
    neutral = colours[:, 2] - colours[:, 0] < WALL_NEUTRAL
    wall = (counts >= WALL_AREA * labels.size) & neutral & (u2 < WALL_U2) & (spread < WALL_PLAIN)
    wall[0] = False
    return wall
