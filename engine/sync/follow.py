"""Following a thing that moves on its own: a bird, a runner, a car in a burst.

The frame alignment (``align``) fits the camera's move, which the background's
features decide.  A thing that moves across the frame between shots is not where the
camera's move puts it, so an object prompt (box, lasso, points) carried by that move
alone asks the target's model about the wrong place.

``follow_object`` looks for the thing near where the camera's move puts it: the
source frame's pixels of the thing (its mask, so the background inside its box does
not vote) are moved by the camera's move and matched on the target (normalised
cross-correlation on the same exposure-normalised greyscale the alignment uses,
so a bracket still matches), at three sizes (it may come closer or go away).  The
prompt moves only where the match is good and clearly better than at the place the
camera's move gives: a thing that stayed put keeps the camera's move.
"""
from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from maskroom.engine.sync.align import WORK_EDGE, Alignment, work_grey

FOLLOWED_KINDS = frozenset({"object"})  # kinds whose prompt points at one thing (box, lasso, points)
MIN_AREA = 0.0005  # of the frame: smaller things have too few pixels to match
MAX_AREA = 0.5  # bigger things decide the frame alignment themselves
MIN_SCORE = 0.7  # normalised cross-correlation of the match (CamVid cars: below it as many moves went wrong as right)
MIN_GAIN = 0.15  # over the score at the place the camera's move gives
SEARCH = 3.0  # of the thing's size, each side of that place (a bird crosses more than its size between shots)
MIN_REACH = 0.2  # of the long edge: a small thing still gets room
SCALES = (0.9, 1.0, 1.0 / 0.9)
DISTANCE_COST = 0.15  # score a match loses at the search's reach
REFINE = 3  # working-size pixels round the half-size search's best place
MIN_STD = 2.0  # grey levels: a plane flatter than this in the template carries no evidence


def planes(rgb: np.ndarray) -> list[np.ndarray]:
    """Float32 planes to match on, at the alignment's working size: the exposure-normalised
    grey (``work_grey``: brackets match) and the two CIELAB colour planes (a red car and a
    grey one look alike in grey)."""
    h, w = rgb.shape[:2]
    s = WORK_EDGE / max(h, w)
    if s < 1:  # shrunk first: the conversions below then touch a tenth of the pixels
        rgb = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    a = rgb if rgb.dtype == np.uint8 else (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)
    grey, _ = work_grey(a)
    lab = cv2.cvtColor(a, cv2.COLOR_RGB2LAB)
    return [grey.astype(np.float32), lab[..., 1].astype(np.float32), lab[..., 2].astype(np.float32)]


def _match(template: list[np.ndarray], window: list[np.ndarray], mask: np.ndarray) -> np.ndarray | None:
    """Masked normalised cross-correlation, the mean over the planes with texture in the
    template (a grey thing's colour planes are flat: no evidence either way)."""
    inside = mask >= 0.5
    textured = [float(t[inside].std()) >= MIN_STD for t in template]
    if not textured[0]:
        return None  # a flat grey thing: nothing to match
    maps = [cv2.matchTemplate(w, t, cv2.TM_CCOEFF_NORMED, mask=mask)
            for t, w, keep in zip(template, window, textured) if keep]
    return np.nan_to_num(np.mean(maps, axis=0), nan=-1.0, posinf=-1.0, neginf=-1.0)


def _search(moved: list[np.ndarray], dst: list[np.ndarray], weight: np.ndarray, box: tuple, scale: float,
            reach: float, near: tuple = (0, 0), cost: float = 0.0) -> tuple | None:
    """The best place for the thing's template (``box`` of ``moved``, scaled by ``scale``
    about its centre) within ``reach`` pixels of its place plus ``near`` on ``dst``:
    (ranked score, score, dx, dy of its centre) or None (no room, or a flat thing).
    ``cost`` is the score a place loses at the reach: a far place must match better
    than a near one (another car, a second bird)."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    tw, th = max(4, round((x1 - x0) * scale)), max(4, round((y1 - y0) * scale))
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    ox, oy = int(round(cx - tw / 2.0 + near[0])), int(round(cy - th / 2.0 + near[1]))
    r = int(round(reach))
    ht, wt = dst[0].shape
    wx0, wy0 = max(0, ox - r), max(0, oy - r)
    wx1, wy1 = min(wt, ox + tw + r), min(ht, oy + th + r)
    if wx1 - wx0 < tw or wy1 - wy0 < th:
        return None
    res = _match([cv2.resize(p[y0:y1, x0:x1], (tw, th), interpolation=cv2.INTER_LINEAR) for p in moved],
                 [p[wy0:wy1, wx0:wx1] for p in dst],
                 cv2.resize(weight[y0:y1, x0:x1], (tw, th), interpolation=cv2.INTER_LINEAR))
    if res is None:
        return None
    gy, gx = np.ogrid[:res.shape[0], :res.shape[1]]
    dx, dy = gx + wx0 - ox + near[0], gy + wy0 - oy + near[1]  # the centre's own move at each place
    ranked = res - cost * np.hypot(dx, dy) / max(reach, 1.0) if cost else res
    iy, ix = np.unravel_index(int(ranked.argmax()), res.shape)
    return float(ranked[iy, ix]), float(res[iy, ix]), int(dx[0, ix]), int(dy[iy, 0])


def follow_object(src: list[np.ndarray], src_alpha: np.ndarray, dst: list[np.ndarray],
                  al: Alignment) -> tuple[Alignment, dict | None]:
    """(the alignment that carries the thing in ``src_alpha`` onto the target, and what
    the search found: ``{"shift": [dx, dy] normalised, "scale", "score", "score_there"}``
    or None where it did not look).  ``src``, ``dst``: the two frames' ``planes`` (made
    once per frame, not per thing).  The alignment is ``al`` itself unless the thing is
    clearly elsewhere."""
    hs, ws = src[0].shape
    ht, wt = dst[0].shape
    mask = cv2.resize(np.asarray(src_alpha, np.float32), (ws, hs), interpolation=cv2.INTER_AREA) >= 0.5
    share = float(mask.mean())
    if not MIN_AREA <= share <= MAX_AREA:
        return al, None
    # The source's thing moved by the camera: the template then has the target's scale
    # and rotation, and only the thing's own move is left to find.
    H = Alignment(al.matrix, al.quality, al.method, (ws, hs), (wt, ht)).pixel_matrix()
    moved = [cv2.warpPerspective(p, H, (wt, ht), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
             for p in src]
    weight = cv2.warpPerspective(mask.astype(np.float32), H, (wt, ht), flags=cv2.INTER_LINEAR)
    ys, xs = np.nonzero(weight >= 0.5)
    if ys.size < 16:
        return al, None  # the camera's move takes it out of the frame
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    bw, bh = x1 - x0, y1 - y0
    if bw < 6 or bh < 6:
        return al, None
    box = (x0, y0, x1, y1)
    # Searched on a half-size copy (a masked correlation over the whole frame costs 16x
    # more at the working size), then refined at the working size round the best place.
    small = ([cv2.pyrDown(p) for p in moved], [cv2.pyrDown(p) for p in dst], cv2.pyrDown(weight))
    reach = max(SEARCH * max(bw, bh), MIN_REACH * max(wt, ht)) / 2.0
    coarse = [_search(*small, tuple(v / 2.0 for v in box), scale, reach, cost=DISTANCE_COST) for scale in SCALES]
    coarse = [(c, scale) for c, scale in zip(coarse, SCALES) if c is not None]
    if not coarse:
        return al, None  # a flat thing: nothing to match
    (_, _, dx, dy), scale = max(coarse, key=lambda c: c[0][0])
    fine = _search(moved, dst, weight, box, scale, REFINE, near=(2 * dx, 2 * dy))
    if fine is None:
        return al, None
    _, score, dx, dy = fine
    there = _search(moved, dst, weight, box, 1.0, 0)
    there = -1.0 if there is None else there[1]
    found = {"shift": [round(dx / wt, 5), round(dy / ht, 5)], "scale": round(scale, 4),
             "score": round(score, 3), "score_there": round(there, 3)}
    if score < MIN_SCORE or score - there < MIN_GAIN or (abs(dx) < 1.5 and abs(dy) < 1.5 and scale == 1.0):
        return al, found
    # Target (normalised) = shift + scale about the thing's centre, after the camera's move.
    cx, cy = (x0 + x1) / 2.0 / wt, (y0 + y1) / 2.0 / ht
    own = np.array([[scale, 0.0, cx + dx / wt - scale * cx],
                    [0.0, scale, cy + dy / ht - scale * cy],
                    [0.0, 0.0, 1.0]])
    return replace(al, matrix=own @ al.matrix, method=f"{al.method}+object"), found
