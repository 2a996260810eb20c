"""What covers a face: opaque sunglasses over the eyes, a face mask over the mouth.

The mesh models draw a full face whatever covers it: behind dark lenses they place
irises and sclera on the glass, on an FFP2 or cloth mask they place lips on the
fabric, and the face-skin colour gate, sampled across the lower face, then takes
the mask for skin.  Neither model gives a per-point visibility, and the iris
models' outputs carry no confidence, so this reads the pixels the landmarks point
at, against this face's own skin:

* **lenses**: round each eye, the ring between the lid margin and where a lens rim
  would be is far darker than the face skin, and the eye itself is flat and dark
  (no sclera brighter than the skin, little spread between its lightest and
  darkest pixels).  A real eye has a bright sclera and a dark iris in it;
  eyelids in shadow are a little darker than the cheek, not LENS_DARKER units.
* **a mouth covering**: the lips are the colour of what is round them (no lip
  edge) while the nose, cheeks and chin are far from the colour of the skin round
  the eyes and on the forehead (a pale blue, white or black mask).  Both are
  needed: a beard or shadow changes the chin but leaves a lip edge; pale lips
  have little edge but a chin the colour of the forehead.

All work is on the FaceParts raster (the face at most FACE_RASTER pixels); faces
under MIN_FACE pixels are not judged (too few pixels to tell).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import cv2
import numpy as np

from maskroom.engine.masks.people import face_topology as topo

if TYPE_CHECKING:
    from maskroom.engine.masks.people.face_parts import FaceParts

MIN_FACE = 40  # px (input pixels): smaller faces are not judged
LENS_DARKER = 25.0  # L units (0..100): a lens ring is this much darker than the skin
LENS_FLAT = 18.0  # L spread (p90 - p10) inside the eye under which it holds no sclera/iris contrast
LIP_EDGE = 8.0  # Delta E (Lab): lips closer than this to the skin round them show no lip edge
COVER_DIFF = 18.0  # Delta E: the lower face this far from the skin above it is covered
# A face turned further than this (the nose tip's place between the outer eye corners,
# 0.5 = frontal) puts the far cheek's samples off the face: the mouth is not judged.
TURNED = 0.25
# Mesh points sampled: forehead centre, the cheeks below the eyes, the nose tip, the chin.
FOREHEAD, CHEEKS, NOSE, CHIN = 151, (205, 425), 4, 199


@dataclass
class Occlusion:
    hidden_eyes: tuple[str, ...] = ()  # "right", "left" (the subject's)
    mouth_hidden: bool = False
    lenses: np.ndarray | None = None  # raster 0..1: lens pixels (not skin, not hair)
    skin_sample: np.ndarray | None = None  # raster bool: where to sample face skin instead of the cheek band
    details: dict = field(default_factory=dict)  # the measured numbers (for tuning and reports)

    @property
    def eyes_hidden(self) -> bool:
        return len(self.hidden_eyes) == 2


def _disc(shape, centre, radius: float) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.circle(m, (int(round(centre[0])), int(round(centre[1]))), max(1, int(round(radius))), 1, -1)
    return m.astype(bool)


def _median(lab: np.ndarray, where: np.ndarray) -> np.ndarray | None:
    px = lab[where]
    return None if len(px) < 8 else np.median(px, 0)


def _de(a, b) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


def find(fp: "FaceParts") -> Occlusion:
    """The occlusion of FaceParts ``fp``'s face (nothing hidden when it cannot tell)."""
    face = fp.face
    if face.landmarks is None or face.size < MIN_FACE:
        return Occlusion()
    lm = fp.pts(face.landmarks)
    shape, fs = fp.shape, fp.fs
    lab = cv2.cvtColor(fp.roi_pixels().astype(np.float32), cv2.COLOR_RGB2LAB)
    forehead = _disc(shape, lm[FOREHEAD], 0.06 * fs)
    cheeks = _disc(shape, lm[CHEEKS[0]], 0.05 * fs) | _disc(shape, lm[CHEEKS[1]], 0.05 * fs)
    lower = cheeks | _disc(shape, lm[NOSE], 0.035 * fs) | _disc(shape, lm[CHIN], 0.04 * fs)
    brows = np.maximum(fp.poly("right_eyebrow"), fp.poly("left_eyebrow")) > 0.3
    rings, eyes_px = {}, {}
    for name, (outer, inner) in (("right", topo.RIGHT_EYE_CORNERS), ("left", topo.LEFT_EYE_CORNERS)):
        eye = fp.poly(f"{name}_eye")
        a, b = lm[outer], lm[inner]
        ew = float(np.hypot(*(b - a)))
        zone = np.zeros(shape, np.uint8)
        ang = math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))
        c = (a + b) / 2
        cv2.ellipse(zone, (int(round(c[0])), int(round(c[1]))), (max(1, int(0.8 * ew)), max(1, int(0.6 * ew))),
                    ang, 0, 360, 1, -1)
        grown = cv2.dilate((eye > 0.05).astype(np.uint8), np.ones((3, 3), np.uint8))
        rings[name] = (zone > 0) & (grown == 0) & ~brows
        eyes_px[name] = (eye > 0.7, zone > 0, ew)
    # How far the face is turned: the nose tip between the outer eye corners, along
    # the eye line (0.5 frontal, 0 or 1 a profile).
    a, b = lm[topo.RIGHT_EYE_CORNERS[0]], lm[topo.LEFT_EYE_CORNERS[0]]
    axis = b - a
    turn = float(np.dot(lm[topo.NOSE_TIP] - a, axis) / max(float(np.dot(axis, axis)), 1e-6))
    skin_all = _median(lab, forehead | lower)
    if skin_all is None:
        return Occlusion()
    ref_l = float(skin_all[0])
    # Dark skin leaves less room under it: at most 60 % of its lightness (a child's
    # face at L 29 behind black lenses at L 3; her real eye in shadow: ring L 16).
    darker = min(LENS_DARKER, 0.6 * ref_l)
    details: dict = {"skin_L": round(ref_l, 1), "turn": round(turn, 2)}
    hidden, lenses = [], np.zeros(shape, np.float32)
    for name in ("right", "left"):
        inside, zone, ew = eyes_px[name]
        ring = _median(lab, rings[name])
        if ring is None or inside.sum() < 6:
            continue
        light = lab[..., 0][inside]
        p10, p90 = np.percentile(light, [10, 90])
        details[name] = {"ring_L": round(float(ring[0]), 1), "eye_p90": round(float(p90), 1),
                         "eye_spread": round(float(p90 - p10), 1)}
        if ring[0] < ref_l - darker and p90 < ref_l - 10 and p90 - p10 < LENS_FLAT:
            hidden.append(name)
    # Sunglasses cover both eyes: one dark eye is a shadow, hair, or the far eye of a
    # turned head (Marie Curie's left eye: ring L 13 against skin 57; a statue).
    if len(hidden) < 2:
        hidden = []
    for name in hidden:
        _, zone, ew = eyes_px[name]
        # The lens: dark pixels of the zone grown past the rim guess, closed.
        grown_zone = cv2.dilate(zone.astype(np.uint8), cv2.getStructuringElement(
            cv2.MORPH_ELLIPSE, (2 * int(0.35 * ew) + 1,) * 2))
        dark = ((lab[..., 0] < ref_l - darker / 2) & (grown_zone > 0)).astype(np.uint8)
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (max(3, int(0.1 * ew) | 1),) * 2)
        lenses = np.maximum(lenses, cv2.morphologyEx(dark, cv2.MORPH_CLOSE, k).astype(np.float32))
    upper = forehead.copy()
    for name in ("right", "left"):
        if name not in hidden:
            upper |= rings[name]
    upper_c, lower_c = _median(lab, upper), _median(lab, lower)
    lips = (fp.poly("lips_outer") - fp.poly("lips_inner")) > 0.7
    lips_c = _median(lab, lips)
    round_lips = _median(lab, lower & ~_disc(shape, lm[NOSE], 0.035 * fs))
    mouth_hidden = False
    sample = None
    if upper_c is not None and lower_c is not None and lips_c is not None and round_lips is not None:
        lip_edge, cover = _de(lips_c, round_lips), _de(lower_c, upper_c)
        details.update(lip_edge=round(lip_edge, 1), lower_vs_upper=round(cover, 1))
        mouth_hidden = lip_edge < LIP_EDGE and cover > COVER_DIFF and TURNED <= turn <= 1 - TURNED
        if mouth_hidden:
            sample = upper
    if hidden and sample is None:
        # The cheek band FaceParts samples reaches under big lenses: leave them out.
        sample = ~(lenses > 0.5)
    return Occlusion(tuple(hidden), mouth_hidden, lenses if hidden else None, sample, details)
