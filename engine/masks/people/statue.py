"""Faces that are not skin: a stone or plaster statue, a white-painted figure.

The face detector, the mesh and the selfie model all answer to the *shape* of a face
and a body, so a marble bust meshes like a person (the kodim17 statue: mesh 0.9, a
full person matte).  What a statue lacks is skin colour: blood under the skin makes
it redder than its surroundings in any light, while stone, plaster and white paint
are grey or take the colour cast of the scene.  So a meshed face in a colour photo
whose skin spots (forehead, cheeks) are nearly grey *and* no redder than the photo
as a whole is reported as stone-like and not counted as a person.

Measured (median Lab a* of the spots minus the photo's median a*, median chroma of
the spots; OpenCV float Lab):

==============================================  ================  ======
face                                            redness vs photo  chroma
==============================================  ================  ======
kodim17 statue                                  -4.4              5.2
HumanSeg 110 (the greyest real face, cold light)  +5.8            2.5
HumanSeg 185 (a 17 px face: not judged)         -0.9              2.7
HumanSeg 55 (the least red real face, red stage)  -27.0           21.3
==============================================  ================  ======

(165 meshed faces of HumanSeg and the samples at their own size; only the statue and
a "face" in the motorcycle's engine, which finds no body anyway, fall under both.)

On photos nobody tuned on (bench/data/hard-cases) the rule also took a woman with
white face paint for a statue; a grey face over a skin-coloured neck is therefore
paint (the neck patch in ``stone_face``).

A face needs both (grey *and* not redder than the scene) to count as stone: a cold
studio light greys skin but leaves it redder than the blue backdrop; a warm cast
makes everything as red as the skin but leaves skin chroma high.  Black-and-white
photos are never judged (every face there is grey).
"""
from __future__ import annotations

import cv2
import numpy as np

# Mesh points sampled: the forehead centre and its two sides, the two cheeks.  No
# point below the nose: a face mask (pale blue) covers those, the forehead stays skin.
SPOTS = (151, 108, 337, 205, 425)
SPOT_RADIUS = 0.06  # of the face size
STONE_CHROMA = 7.0  # Lab chroma of the spots under which a face is grey
STONE_REDNESS = -2.0  # spots' a* minus the photo's median a*: under this, no redder than the scene
COLOUR_PHOTO = 8.0  # the photo's 90th-percentile chroma: under it the photo is (near) black-and-white
# Smaller faces are not judged: their spots are a pixel or two, mixed with hair and
# background (a 17 px grey-looking face in a street scene, HumanSeg 185: chroma 2.7,
# redness -0.9, the nearest real face to the thresholds).
MIN_FACE = 32  # px of the analysed image


def photo_colour(image: np.ndarray) -> tuple[float, float]:
    """(median a*, 90th-percentile chroma) of the photo, from a 128 px copy."""
    small = cv2.resize(image.astype(np.float32, copy=False), (128, 128), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(np.clip(small, 0, 1), cv2.COLOR_RGB2LAB)
    return float(np.median(lab[..., 1])), float(np.percentile(np.hypot(lab[..., 1], lab[..., 2]), 90))


def stone_face(image: np.ndarray, landmarks: np.ndarray, face_size: float, photo: tuple[float, float]) -> dict | None:
    """The measured numbers when the face at ``landmarks`` (pixels of ``image``) has
    no skin colour (see the module doc), else None.  ``photo``: photo_colour(image)."""
    median_a, colourful = photo
    if colourful < COLOUR_PHOTO or face_size < MIN_FACE:
        return None
    r = max(1.0, SPOT_RADIUS * face_size)
    spots = [lab for lab in (_patch_lab(image, *landmarks[i, :2], r) for i in SPOTS) if lab is not None]
    if len(spots) < 3:
        return None
    s = np.median(np.array(spots), 0)
    chroma, redness = float(np.hypot(s[1], s[2])), float(s[1] - median_a)
    if not (chroma < STONE_CHROMA and redness < STONE_REDNESS):
        return None
    # A grey face over living skin is paint, not stone: the neck under the chin of a
    # white-painted face is skin, a statue's is stone too.  Chroma alone decides there,
    # with a wide margin: the hard-case face_paint's neck 20.5 (its face spots are
    # white paint; the photo is as red as the skin, so redness says nothing), the
    # kodim17 statue's 6.5.  A neck out of the frame decides nothing.
    neck = _patch_lab(image, landmarks[CHIN, 0], landmarks[CHIN, 1] + NECK_DROP * face_size, r, min_side=2)
    if neck is not None and float(np.hypot(neck[1], neck[2])) >= NECK_SKIN_CHROMA:
        return None
    return {"chroma": round(chroma, 1), "redness": round(redness, 1)}


NECK_SKIN_CHROMA = 2 * STONE_CHROMA  # Lab chroma of the neck from which it is skin, whatever the face
CHIN = 152  # mesh point at the bottom of the chin
NECK_DROP = 0.35  # of the face size below the chin: the neck's front


def _patch_lab(image: np.ndarray, x: float, y: float, r: float, min_side: int = 1) -> np.ndarray | None:
    """Median OpenCV float Lab of the square of half-side ``r`` round (x, y), cut to the
    frame; None when less than ``min_side`` pixels of it are inside."""
    h, w = image.shape[:2]
    x0, x1 = int(max(0, x - r)), int(min(w, x + r + 1))
    y0, y1 = int(max(0, y - r)), int(min(h, y + r + 1))
    if x1 - x0 < min_side or y1 - y0 < min_side:
        return None
    patch = np.ascontiguousarray(np.clip(image[y0:y1, x0:x1, :3], 0, 1), np.float32)
    return np.median(cv2.cvtColor(patch, cv2.COLOR_RGB2LAB).reshape(-1, 3), 0)
