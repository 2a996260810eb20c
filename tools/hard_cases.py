"""The people hard-case set (bench/data/people_hard_cases.json, sheets by
scripts/people_hard_cases.py): load it, and make
its derived variants (a rotated copy, a shrunk face, painted sunglasses or a face
mask) from the licensed sample photos, the same way every time.

The occluders are drawn from the face mesh found on the *unoccluded* photo, so a
variant puts opaque lenses exactly over the eyes and a mask exactly over the mouth
and nose; the people kinds then run on the painted copy.  Tests use the same
functions on the shipped Grace Hopper portrait.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from maskroom.engine.masks.people import face_topology as topo
from maskroom.engine.masks.people.faces import Face, find_faces

ROOT = Path(__file__).resolve().parent.parent
LIST = ROOT / "bench" / "data" / "people_hard_cases.json"
SAMPLES = ROOT.parent / "shared" / "samples"
COPIES = ROOT / "bench" / "data" / "hard-cases"  # the licensed photos, in the repo
LENS_RGB = (0.04, 0.045, 0.05)  # opaque dark lenses
MASK_RGB = (0.62, 0.76, 0.88)  # a pale blue surgical / FFP2 mask


def cases() -> list[dict]:
    return json.loads(LIST.read_text())["cases"]


def main_face(image: np.ndarray) -> Face:
    faces = [f for f in find_faces(image) if f.landmarks is not None]
    if not faces:
        raise ValueError("no meshed face to paint on")
    return max(faces, key=lambda f: f.size)


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    """In-plane rotation (counter-clockwise, degrees), cropped to the largest upright
    rectangle of the photo's aspect that holds no canvas (a tilted camera, not a
    rotated print on black: black corners confuse the person model)."""
    h, w = image.shape[:2]
    a = math.radians(abs(degrees) % 180)
    if a > math.pi / 2:
        a = math.pi - a
    # Largest w'xh' (same aspect) inside the rotated w x h rectangle.
    k = min(w / (w * math.cos(a) + h * math.sin(a)), h / (w * math.sin(a) + h * math.cos(a)))
    nw, nh = max(1, int(w * k)), max(1, int(h * k))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    m[:, 2] += ((nw - w) / 2, (nh - h) / 2)
    return cv2.warpAffine(image, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=0)


def shrink(image: np.ndarray, face_px: float) -> np.ndarray:
    """The photo scaled so its main face is about ``face_px`` wide, pasted in the
    middle of a canvas of the original size in the photo's mean colour with a little
    grain (a small person in a frame, not a thumbnail; a blurred copy of the photo
    would hold a big blurred face that the detector finds)."""
    f = main_face(image)
    k = min(1.0, face_px / f.size)
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, round(w * k)), max(1, round(h * k))), interpolation=cv2.INTER_AREA)
    grain = np.random.default_rng(28).normal(0, 0.02, (h, w, 1)).astype(np.float32)
    canvas = np.clip(image.reshape(-1, 3).mean(0) + grain, 0, 1).astype(np.float32)
    y0, x0 = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    canvas[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
    return canvas


def sunglasses(image: np.ndarray, face: Face | None = None) -> np.ndarray:
    """Opaque dark lenses over both eyes (and a bridge), from the face mesh."""
    face = face or main_face(image)
    lm = face.landmarks[:, :2]
    out = image.copy()
    right, left = lm[list(topo.RIGHT_EYE_CORNERS)], lm[list(topo.LEFT_EYE_CORNERS)]
    ang = math.degrees(math.atan2(*(lm[263] - lm[33])[::-1]))
    centres = []
    for corners in (right, left):
        c = corners.mean(0)
        wd = float(np.hypot(*(corners[1] - corners[0])))
        centres.append(c)
        cv2.ellipse(out, (int(c[0]), int(c[1])), (int(0.85 * wd), int(0.62 * wd)), ang, 0, 360, LENS_RGB, -1,
                    cv2.LINE_AA)
    t = max(1, int(0.04 * face.size))
    cv2.line(out, tuple(int(v) for v in centres[0]), tuple(int(v) for v in centres[1]), LENS_RGB, t, cv2.LINE_AA)
    return out


def face_mask(image: np.ndarray, face: Face | None = None) -> np.ndarray:
    """A pale fabric mask from the middle of the nose to under the chin, jaw to jaw."""
    face = face or main_face(image)
    lm = face.landmarks[:, :2]
    out = image.copy()
    # Face-oval points below the nose-bridge line (in the face's own frame), plus the
    # bridge itself: the mask's outline.
    up = lm[10] - lm[152]
    up = up / max(1e-6, float(np.hypot(*up)))
    bridge = lm[195]
    oval = lm[list(topo.FACE_OVAL)]
    below = oval[(oval - bridge) @ up < 0]
    chin_drop = lm[152] - up * 0.06 * face.size
    pts = np.vstack([below, bridge[None], chin_drop[None]]).astype(np.float32)
    hull = cv2.convexHull(pts).astype(np.int32)
    cv2.fillPoly(out, [hull], MASK_RGB, cv2.LINE_AA)
    # Fabric: a faint weave so the mask is not a flat colour.
    rng = np.random.default_rng(15)
    inside = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(inside, [hull], 1)
    noise = rng.normal(0, 0.02, image.shape[:2]).astype(np.float32)
    out[inside > 0] = np.clip(out[inside > 0] + noise[inside > 0, None], 0, 1)
    return out


def derive(image: np.ndarray, spec: str | None) -> np.ndarray:
    if not spec:
        return image
    name, _, arg = spec.partition(":")
    if name == "rotate":
        return rotate(image, float(arg))
    if name == "shrink":
        return shrink(image, float(arg))
    if name == "sunglasses":
        return sunglasses(image)
    if name == "face-mask":
        return face_mask(image)
    raise ValueError(f"unknown derivation {spec!r}")


def photo_path(case: dict, samples: Path = SAMPLES) -> Path:
    """Where the case's photo is: its copy in the repo's hard-case set
    (bench/data/hard-cases, by the manifest's ``sample``), else the shared samples
    (a photo whose licence keeps it out of the repo)."""
    return _copies().get(case["photo"], samples / case["photo"])


@lru_cache(maxsize=1)
def _copies() -> dict[str, Path]:
    """Sample path -> its copy in the repo (read once: every case of a sheet asks)."""
    manifest = json.loads((COPIES / "manifest.json").read_text())["cases"]
    return {c["sample"]: COPIES / c["file"] for c in manifest if "sample" in c}


def load(case: dict, samples: Path = SAMPLES) -> np.ndarray:
    """The case's photo (sRGB float 0..1, EXIF-rotated), derived as the case says."""
    from maskroom.engine.masks.overlay import load_rgb

    return derive(np.ascontiguousarray(load_rgb(photo_path(case, samples)), np.float32), case.get("derive"))
