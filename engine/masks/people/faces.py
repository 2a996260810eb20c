"""Faces: BlazeFace detection, 468-point face mesh and iris landmarks (MediaPipe models).

Pipeline (as MediaPipe's face mesh graph does it, for stills):

1. ``detect_faces``: the short-range BlazeFace detector (128x128, 896 SSD anchors)
   on the whole letterboxed frame and on overlapping tiles, so faces down to ~4 % of
   the long edge are found (the model alone only sees faces >~15 % of its input).
   Boxes are decoded against the anchors, scored by sigmoid and merged by NMS.
   When nothing is found upright the frame is tried turned by 90° both ways (a
   sideways photo without EXIF orientation, a lying person).
2. ``face_landmarks``: a 192x192 crop rotated so the eyes are level, 1.5x the face
   box; the mesh model gives 468 points and a face-presence score (false detections
   are dropped there).  The crop is then re-centred on the landmarks and the model run
   once more, as MediaPipe's tracking loop would on the next frame.
3. The last mesh pass runs the attention mesh (``face_landmark_with_attention``, 478
   points) where it is installed: its refined lips, eyelids, brows and the two irises
   (centre + four rim points -> a circle) replace the plain mesh's and the iris model's.
   Without it (or when its pass rejects the face), ``iris_landmarks``: a 64x64 crop per
   eye (2.3x the corner distance, the image-right eye mirrored) gives the iris circle.

Every coordinate returned is in pixels of the image passed in.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from maskroom.engine.masks import model_store
from maskroom.engine.masks.people import face_topology as topo

DETECTOR = "face_detection_short_range"
LANDMARKER = "face_landmark"
MESH_ATTENTION = "face_landmark_with_attention"
IRIS = "iris_landmark"
# Use the attention mesh when its file is installed (False: the plain mesh + iris model,
# for comparisons and benchmarks).
USE_ATTENTION = True

DET_SIZE = 128
LMK_SIZE = 192
IRIS_SIZE = 64
MIN_SCORE = 0.5  # BlazeFace score threshold (MediaPipe's default)
NMS_IOU = 0.3
FACE_PRESENCE = 0.5  # mesh model's face flag (after sigmoid)
ROI_SCALE = 1.5
IRIS_ROI_SCALE = 2.3
MIN_FACE_FRACTION = 0.035  # smallest tile level: faces smaller than this (of the long edge) are not searched
MAX_FACES = 64
# A tile level is followed by a finer one only when it found a face smaller than
# this fraction of its tile side (near the detector's lower limit, ~0.1): group
# photos give 0.13-0.2 (Solvay 1927, kodim14); the Curies' two faces, already seen
# whole, measure 0.24-0.29 and cost a useless 16-tile level at 0.3 (0.28 s of 0.43).
SMALL_IN_TILE = 0.2
WEAK_PERSON = 0.15
MIN_IRIS_FACE = 40  # px: below this an iris is a pixel or two; not worth a model run
MIN_REFINE_FACE = 48  # px: the second mesh pass gains nothing on tiny faces


def _run(name: str, x: np.ndarray) -> list[np.ndarray]:
    sess = model_store.get_session(name)
    out = sess.run(None, {sess.get_inputs()[0].name: x[None].astype(np.float32)})
    return [np.asarray(o, np.float32) for o in out]


# --------------------------------------------------------------------------- anchors
def ssd_anchors(size: int, strides: list[int]) -> np.ndarray:
    """Anchor centres (x, y in 0..1) of MediaPipe's SsdAnchorsCalculator with one
    aspect ratio plus the interpolated one (2 anchors per layer), fixed anchor size
    and offset 0.5.  Consecutive layers with the same stride share a grid."""
    anchors = []
    i = 0
    while i < len(strides):
        j = i
        per_cell = 0
        while j < len(strides) and strides[j] == strides[i]:
            per_cell += 2
            j += 1
        n = math.ceil(size / strides[i])
        ys, xs = np.mgrid[0:n, 0:n]
        centres = np.stack([(xs + 0.5) / n, (ys + 0.5) / n], -1).reshape(-1, 1, 2)
        anchors.append(np.repeat(centres, per_cell, axis=1).reshape(-1, 2))
        i = j
    return np.concatenate(anchors).astype(np.float32)


def blazeface_anchors() -> np.ndarray:
    """The 896 anchor centres of the short-range BlazeFace model: 4 layers, strides
    8,16,16,16 (the 16x16 grid has 2 anchors per cell and the 8x8 grid 6)."""
    return ssd_anchors(DET_SIZE, [8, 16, 16, 16])


_ANCHORS = blazeface_anchors()


@dataclass
class Detection:
    box: np.ndarray  # x0, y0, x1, y1 (pixels)
    keypoints: np.ndarray  # 6x2: right eye, left eye, nose, mouth, right ear, left ear
    score: float


def decode_detections(regressors: np.ndarray, scores: np.ndarray, min_score: float = MIN_SCORE):
    """Boxes (x0,y0,x1,y1), keypoints (Nx6x2) in 0..1 of the model input, and scores."""
    reg = regressors.reshape(-1, 16)
    logits = np.clip(scores.reshape(-1).astype(np.float64), -100, 100)
    prob = 1.0 / (1.0 + np.exp(-logits))
    keep = prob >= min_score
    reg, prob, anc = reg[keep], prob[keep], _ANCHORS[keep]
    cx = reg[:, 0] / DET_SIZE + anc[:, 0]
    cy = reg[:, 1] / DET_SIZE + anc[:, 1]
    w = reg[:, 2] / DET_SIZE
    h = reg[:, 3] / DET_SIZE
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1)
    kps = reg[:, 4:16].reshape(-1, 6, 2) / DET_SIZE + anc[:, None, :]
    return boxes, kps, prob


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of one box ``a`` against boxes ``b`` (Nx4)."""
    x0 = np.maximum(a[0], b[:, 0])
    y0 = np.maximum(a[1], b[:, 1])
    x1 = np.minimum(a[2], b[:, 2])
    y1 = np.minimum(a[3], b[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda r: (r[..., 2] - r[..., 0]) * (r[..., 3] - r[..., 1])  # noqa: E731
    return inter / np.maximum(area(a) + area(b) - inter, 1e-9)


def weighted_nms(boxes, kps, scores, iou_thr: float = NMS_IOU):
    """MediaPipe's "weighted" NMS: overlapping detections are averaged by score."""
    order = np.argsort(-scores)
    boxes, kps, scores = boxes[order], kps[order], scores[order]
    used = np.zeros(len(scores), bool)
    out = []
    for i in range(len(scores)):
        if used[i]:
            continue
        ious = box_iou(boxes[i], boxes)
        group = (~used) & (ious > iou_thr)
        group[i] = True
        used |= group
        wts = scores[group][:, None]
        box = (boxes[group] * wts).sum(0) / wts.sum()
        kp = (kps[group] * wts[:, :, None]).sum(0) / wts.sum()
        out.append(Detection(box, kp, float(scores[i])))
    return out


def _scaled(image: np.ndarray, side: float) -> tuple[np.ndarray, float]:
    """The image shrunk (area filter) so a ``side``-pixel square becomes ~DET_SIZE."""
    f = DET_SIZE / side
    if f >= 0.7:
        return image, 1.0
    h, w = image.shape[:2]
    return cv2.resize(image, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA), f


def _detect_square(src: np.ndarray, f: float, x0: float, y0: float, side: float) -> tuple:
    """Run BlazeFace on the square (x0, y0, side) (original pixels) of an image that
    ``src`` holds scaled by ``f``; pixels outside the image are black (letterbox)."""
    k = DET_SIZE / (side * f)
    m = np.array([[k, 0, -x0 * f * k], [0, k, -y0 * f * k]], np.float32)
    crop = cv2.warpAffine(src, m, (DET_SIZE, DET_SIZE), flags=cv2.INTER_LINEAR, borderValue=0)
    reg, sc = _split_detector_outputs(_run(DETECTOR, crop * 2.0 - 1.0))
    boxes, kps, prob = decode_detections(reg, sc)
    boxes = boxes * side + np.array([x0, y0, x0, y0], np.float32)
    kps = kps * side + np.array([x0, y0], np.float32)
    return boxes, kps, prob


def _split_detector_outputs(outs: list[np.ndarray]):
    reg = next(o for o in outs if o.shape[-1] == 16)
    sc = next(o for o in outs if o.shape[-1] == 1)
    return reg, sc


def _level_tiles(h: int, w: int, side: float):
    """Squares of ``side`` covering the image with ~40 % overlap."""
    step = side * 0.6
    nx = max(1, math.ceil((w - side) / step) + 1)
    ny = max(1, math.ceil((h - side) / step) + 1)
    xs = np.linspace(0, max(0.0, w - side), nx)
    ys = np.linspace(0, max(0.0, h - side), ny)
    return [(float(x), float(y), side) for y in ys for x in xs]


def _detect_upright(image: np.ndarray, tiled: bool, hint: np.ndarray | None = None,
                    empty_levels: int = 99) -> list[Detection]:
    """Coarse to fine: the whole frame, then tiles of half the short side, halving again
    only while the finest level still finds faces near its lower size limit (a group
    photo) or nothing at all has been found.  ``hint`` (a low-resolution person
    probability) skips fine tiles with no person in them."""
    h, w = image.shape[:2]
    long_edge = max(h, w)
    all_b, all_k, all_s = [], [], []

    def run(src, f, x0, y0, side, inner: bool):
        b, k, s = _detect_square(src, f, x0, y0, side)
        if len(s) and inner:
            # A face cut by a tile edge gives a clipped box: drop boxes touching an
            # inner tile edge (the overlapping neighbour sees the whole face).
            m = 0.02 * side
            ok = (((b[:, 0] > x0 + m) | (x0 <= 0)) & ((b[:, 1] > y0 + m) | (y0 <= 0))
                  & ((b[:, 2] < x0 + side - m) | (x0 + side >= w - 1))
                  & ((b[:, 3] < y0 + side - m) | (y0 + side >= h - 1)))
            b, k, s = b[ok], k[ok], s[ok]
        if len(s):
            all_b.append(b)
            all_k.append(k)
            all_s.append(s)
        return b

    run(*_scaled(image, long_edge), (w - long_edge) / 2, (h - long_edge) / 2, float(long_edge), False)
    side = min(h, w) / 2
    level = 1
    while tiled and side >= DET_SIZE * 0.75 and side * 0.2 >= long_edge * MIN_FACE_FRACTION * 0.5:
        small_found = False
        src, f = _scaled(image, side)
        for x0, y0, sd in _level_tiles(h, w, side):
            if hint is not None and hint.max() >= 0.5:
                hh, hw = hint.shape
                sub = hint[int(y0 / h * hh):int(np.ceil((y0 + sd) / h * hh)), int(x0 / w * hw):int(np.ceil((x0 + sd) / w * hw))]
                if sub.size and sub.max() < 0.3:
                    continue
            b = run(src, f, x0, y0, sd, True)
            if len(b) and (np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) < SMALL_IN_TILE * sd).any():
                small_found = True
        # Descend when this level found small faces, or found nothing yet while the
        # person model sees even a weak person (it fades on group photos: Solvay
        # 1927 peaks at 0.27; landscapes stay near 0).
        # While nothing is found, at most ``empty_levels`` tile levels are searched (a
        # tilted copy: TILT_LEVELS; exhaustive searches of four tilted copies of a
        # frame where no face meshes, helmets or backs of heads, cost ~0.3 s of CPU).
        people_hint = hint is None or hint.max() >= WEAK_PERSON
        if not (small_found or (not all_s and people_hint and level < empty_levels)):
            break
        side /= 2
        level += 1
    if not all_s:
        return []
    dets = weighted_nms(np.concatenate(all_b), np.concatenate(all_k), np.concatenate(all_s))
    return dets[:MAX_FACES]


# Turns tried, in order, when nothing is found upright: a quarter turn either way (a
# sideways photo without EXIF orientation, a lying person), then the tilts the
# detector misses on faces under ~15 % of the frame (a selfie from below, a head on a
# shoulder).  Measured at 1024 px on four portraits turned by -60..60 degrees:
# BlazeFace alone finds the big faces at every tilt but loses the couple on the
# beach (kodim12, 5 % faces) at -30/-45 and the woman in the garden (kodim18) at
# -45/-60; each tilt tried costs one more detection pass (0.03-0.2 s).
ROTATIONS = (90.0, -90.0, 45.0, -45.0, 30.0, -30.0)
TILT_LEVELS = 2  # tile levels searched on a tilted (not quarter-turned) copy while it finds nothing


def _turned(image: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """``image`` turned counter-clockwise by ``degrees`` on a grown black canvas, and
    the 2x3 matrix from the turned copy's pixels back to ``image``'s.  Quarter turns
    are exact (np.rot90: no resampling, no canvas)."""
    h, w = image.shape[:2]
    if degrees % 90 == 0:
        k = int(degrees // 90) % 4
        turned = np.ascontiguousarray(np.rot90(image, k))
        # In continuous coordinates (a pixel spans [i, i+1), as detections are): rot90
        # by k=1 sends (x, y) to (y, w - x), so back is (w - y', x').
        back = {0: [[1, 0, 0], [0, 1, 0]], 1: [[0, -1, w], [1, 0, 0]],
                2: [[-1, 0, w], [0, -1, h]], 3: [[0, 1, 0], [-1, 0, h]]}[k]
        return turned, np.array(back, np.float64)
    a = math.radians(degrees)
    nw = int(round(abs(w * math.cos(a)) + abs(h * math.sin(a))))
    nh = int(round(abs(w * math.sin(a)) + abs(h * math.cos(a))))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    m[:, 2] += ((nw - w) / 2, (nh - h) / 2)
    turned = cv2.warpAffine(image, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=0)
    return turned, cv2.invertAffineTransform(m)


def detect_faces(image: np.ndarray, *, tiled: bool = True, try_rotations: bool = True,
                 hint: np.ndarray | None = None) -> list[Detection]:
    """Faces in ``image`` (sRGB float 0..1), best first; when nothing is found
    upright (and the person hint, if given, sees someone), the first of ROTATIONS
    that finds any (detect_turned)."""
    dets = _detect_upright(image, tiled, hint)
    if dets or not try_rotations or (hint is not None and hint.max() < WEAK_PERSON):
        return dets
    for degrees in ROTATIONS:
        found = detect_turned(image, degrees, tiled=tiled, hint=hint)
        if found:
            return found
    return []


def detect_turned(image: np.ndarray, degrees: float, *, tiled: bool = True,
                  hint: np.ndarray | None = None) -> list[Detection]:
    """Faces found on ``image`` turned by ``degrees``, mapped back to ``image``: a box
    keeps its size and moves with its centre (the mesh takes the tilt from the
    keypoints, which are mapped exactly)."""
    turned, back = _turned(image, degrees)
    turned_hint = None if hint is None else _turned(np.ascontiguousarray(hint, np.float32), degrees)[0]
    out = []
    levels = 99 if degrees % 90 == 0 else TILT_LEVELS
    for d in _detect_upright(turned, tiled, turned_hint, empty_levels=levels):
        c = apply_affine(back, ((d.box[:2] + d.box[2:]) / 2)[None])[0]
        half = (d.box[2:] - d.box[:2]) / 2
        box = np.concatenate([c - half, c + half]).astype(np.float32)
        out.append(Detection(box, apply_affine(back, d.keypoints).astype(np.float32), d.score))
    return out


# ------------------------------------------------------------------------- crops
def crop_matrix(centre, side: float, angle: float, size: int) -> np.ndarray:
    """2x3 affine taking crop pixels (size x size) to image pixels.

    The crop is a square of ``side`` image pixels centred at ``centre``, rotated by
    ``angle`` (radians, image y-down) so that direction becomes the crop's +x.
    """
    s = side / size
    c, sn = math.cos(angle), math.sin(angle)
    r = np.array([[c, -sn], [sn, c]], np.float64) * s
    t = np.asarray(centre, np.float64) - r @ np.array([size / 2, size / 2])
    return np.hstack([r, t[:, None]])


def warp_crop(image: np.ndarray, m_crop2img: np.ndarray, size: int, small=None) -> np.ndarray:
    """The crop described by ``m_crop2img`` (crop pixels -> image pixels).

    ``small`` = (a shrunk copy of ``image``, its scale k): a crop that would be
    area-shrunk more than 2x even from the copy is cut from the copy (a big face:
    area-filtering 1000 px of the preview cost 12 ms a crop, the copy a quarter)."""
    side = math.hypot(m_crop2img[0, 0], m_crop2img[1, 0]) * size
    if small is not None and side * small[1] / size > 2.0:
        k = small[1]
        return warp_crop(small[0], np.diag([k, k]) @ m_crop2img, size)
    src, mm = image, m_crop2img.astype(np.float64)
    if side / size > 2.0:
        # Cut the (axis-aligned) bounds of the crop out first and shrink only that
        # with an area filter, so a large face is not aliased into 192 px and the
        # whole photo is never resized for one face.
        h, w = image.shape[:2]
        corners = apply_affine(mm, np.array([[0, 0], [size, 0], [0, size], [size, size]], np.float64))
        x0, y0 = np.floor(corners.min(0)).astype(int) - 1
        x1, y1 = np.ceil(corners.max(0)).astype(int) + 1
        x0c, y0c, x1c, y1c = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if x1c - x0c < 2 or y1c - y0c < 2:
            return np.zeros((size, size, 3), np.float32)
        f = 1.5 * size / side
        sub = image[y0c:y1c, x0c:x1c]
        src = cv2.resize(sub, (max(1, round(sub.shape[1] * f)), max(1, round(sub.shape[0] * f))),
                         interpolation=cv2.INTER_AREA)
        fx, fy = src.shape[1] / sub.shape[1], src.shape[0] / sub.shape[0]
        mm = mm.copy()
        mm[:, 2] -= (x0c, y0c)
        mm = np.diag([fx, fy]) @ mm
    return cv2.warpAffine(src, mm.astype(np.float32), (size, size),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT)


def apply_affine(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts[:, :2] @ m[:, :2].T + m[:, 2]


def _eye_angle(p_right, p_left) -> float:
    """Angle of the line from the subject's right eye (image left) to the left eye."""
    return math.atan2(p_left[1] - p_right[1], p_left[0] - p_right[0])


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))


def attention_available() -> bool:
    """Whether the attention mesh is in the manifest and its file is present."""
    if not USE_ATTENTION:
        return False
    store = model_store
    try:
        return store.model_path(MESH_ATTENTION).exists()
    except store.ModelError:
        return False


def _run_mesh(image: np.ndarray, centre, side: float, angle: float, small=None, attention: bool = False):
    """(468x3 landmarks, face presence, iris points 2x5x2 or None) in image pixels.

    ``attention``: run the attention mesh: its refined lips and eye/brow points
    overwrite the mesh's (as MediaPipe's refine_landmarks does) and it gives the irises,
    subject's right eye first, each centre then four rim points."""
    m = crop_matrix(centre, side, angle, LMK_SIZE)
    crop = warp_crop(image, m, LMK_SIZE, small)
    scale = side / LMK_SIZE
    iris = None
    if attention:
        sess = model_store.get_session(MESH_ATTENTION)
        outs = dict(zip([o.name for o in sess.get_outputs()],
                        sess.run(None, {sess.get_inputs()[0].name: crop[None].astype(np.float32)})))
        pts = np.asarray(outs["output_mesh_identity"], np.float32).reshape(468, 3).copy()
        for key, idx in (("output_lips", topo.REFINED_LIPS), ("output_left_eye", topo.REFINED_RIGHT_EYE),
                         ("output_right_eye", topo.REFINED_LEFT_EYE)):
            pts[list(idx), :2] = np.asarray(outs[key], np.float32).reshape(-1, 2)
        flag = outs["conv_faceflag"]
        iris = np.stack([apply_affine(m, np.asarray(outs[k], np.float32).reshape(5, 2))
                         for k in ("output_left_iris", "output_right_iris")]).astype(np.float32)
    else:
        outs = _run(LANDMARKER, crop)
        pts = next(o for o in outs if o.size == 468 * 3).reshape(468, 3)
        flag = next(o for o in outs if o.size == 1)
    xy = apply_affine(m, pts)
    lm = np.hstack([xy, pts[:, 2:3] * scale]).astype(np.float32)
    return lm, _sigmoid(float(np.asarray(flag).reshape(-1)[0])), iris


def _roi_from_landmarks(lm: np.ndarray):
    angle = _eye_angle(lm[33], lm[263])
    c, s = math.cos(angle), math.sin(angle)
    to_level = np.array([[c, s], [-s, c]])  # rotation by -angle: the eye line becomes horizontal
    rot = lm[:, :2] @ to_level.T
    lo, hi = rot.min(0), rot.max(0)
    centre = to_level.T @ ((lo + hi) / 2)
    return centre, float(max(hi - lo)) * ROI_SCALE, angle


def face_landmarks(image: np.ndarray, det: Detection, refine_pass: bool = True, small=None,
                   attention: bool | None = None):
    """(468x3 landmarks in image pixels, face-presence score, iris points 2x5x2 or None)
    for one detection.  ``small``: see warp_crop.

    ``attention`` None (the default): the attention mesh, where installed, runs the
    second pass only.  The first pass decides whether this is a face and places the
    second crop; the plain mesh does that 1.5x faster, and its face flag is the one the
    people rules were tuned on (the attention mesh's flag accepted a ridge on the
    Denali photo, 0.52).  A small face (no second pass) keeps the plain mesh and the
    iris model.  True: the attention mesh runs the last pass, even a single one."""
    auto = attention is None
    if auto:
        attention = attention_available()
    x0, y0, x1, y1 = det.box
    centre = ((x0 + x1) / 2, (y0 + y1) / 2)
    side = max(x1 - x0, y1 - y0) * ROI_SCALE
    angle = _eye_angle(det.keypoints[0], det.keypoints[1])
    lm, score, iris = _run_mesh(image, centre, side, angle, small, attention and not refine_pass and not auto)
    if refine_pass and score >= FACE_PRESENCE:
        lm2, score2, iris2 = _run_mesh(image, *_roi_from_landmarks(lm), small=small, attention=attention)
        if score2 >= FACE_PRESENCE:
            lm, score, iris = lm2, score2, iris2
    return lm, score, iris


@dataclass
class Iris:
    centre: np.ndarray  # x, y pixels
    radius: float
    eye_contour: np.ndarray  # 71x2: eyelids and brow, pixels


def irises_from_points(iris: np.ndarray, lm: np.ndarray) -> dict[str, Iris]:
    """Iris circles from the attention mesh's 2x5 iris points (subject's right eye
    first; centre, then four rim points); the eye contour is the refined eye/brow."""
    out = {}
    for k, (name, idx) in enumerate((("right", topo.REFINED_RIGHT_EYE), ("left", topo.REFINED_LEFT_EYE))):
        p = iris[k]
        radius = float(np.mean(np.hypot(*(p[1:] - p[0]).T)))
        out[name] = Iris(p[0].astype(np.float32), radius, lm[list(idx), :2].astype(np.float32))
    return out


def iris_landmarks(image: np.ndarray, lm: np.ndarray, small=None) -> dict[str, Iris]:
    """Iris circles for the subject's right and left eye from the face mesh."""
    out = {}
    for name, (a, b), flip in (("right", topo.RIGHT_EYE_CORNERS, False), ("left", topo.LEFT_EYE_CORNERS, True)):
        pa, pb = lm[a, :2], lm[b, :2]
        dist = float(np.hypot(*(pb - pa)))
        if dist < 2.0:
            continue
        # Both crops are oriented like the subject's right eye (outer corner on the
        # left); the left eye's crop is mirrored, as the model expects.
        angle = _eye_angle(lm[33], lm[263])
        m = crop_matrix((pa + pb) / 2, dist * IRIS_ROI_SCALE, angle, IRIS_SIZE)
        crop = warp_crop(image, m, IRIS_SIZE, small)
        if flip:
            crop = np.ascontiguousarray(crop[:, ::-1])
        outs = _run(IRIS, crop)
        contour = next(o for o in outs if o.size == 71 * 3).reshape(71, 3)[:, :2].copy()
        iris = next(o for o in outs if o.size == 5 * 3).reshape(5, 3)[:, :2].copy()
        if flip:
            contour[:, 0] = IRIS_SIZE - contour[:, 0]
            iris[:, 0] = IRIS_SIZE - iris[:, 0]
        iris_img = apply_affine(m, iris)
        radius = float(np.mean(np.hypot(*(iris_img[1:] - iris_img[0]).T)))
        out[name] = Iris(iris_img[0].astype(np.float32), radius, apply_affine(m, contour).astype(np.float32))
    return out


@dataclass
class Face:
    box: np.ndarray  # x0, y0, x1, y1 pixels (from the landmarks when present)
    score: float
    landmarks: np.ndarray | None = None  # 468x3 pixels
    irises: dict[str, Iris] = field(default_factory=dict)
    turned: float = 0.0  # degrees the frame was turned for the detector to find it (0: upright)

    @property
    def centre(self) -> np.ndarray:
        return np.array([(self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2], np.float32)

    @property
    def size(self) -> float:
        return float(max(self.box[2] - self.box[0], self.box[3] - self.box[1]))

    def polygon(self, region: str) -> np.ndarray:
        return self.landmarks[list(topo.REGIONS[region]), :2]


MESHLESS_SCORE = 0.55  # a detection the mesh rejects (a profile) may still mark a person


def find_faces(image: np.ndarray, *, with_iris: bool = True, tiled: bool = True,
               hint: np.ndarray | None = None, detect_image: np.ndarray | None = None) -> list[Face]:
    """Detected faces with mesh (and iris) landmarks, best first.

    The mesh model's face flag drops false detections.  A detection the mesh
    rejects, typically a face in full profile, is returned without landmarks
    (``landmarks is None``): the caller checks it against pixel models before it
    counts as a person; it never has face parts.
    """
    h, w = image.shape[:2]
    small = None if detect_image is None else (detect_image, detect_image.shape[1] / w)
    src = image if detect_image is None else detect_image
    # Detection may run on a smaller copy (BlazeFace sees 128 px anyway); boxes back to ``image``.
    k = w / src.shape[1]
    scaled = lambda found: [Detection(d.box * k, d.keypoints * k, d.score) for d in found]  # noqa: E731
    faces = _meshed(image, scaled(detect_faces(src, tiled=tiled, try_rotations=False, hint=hint)), with_iris, small)
    # Nothing meshed upright (nothing detected, or only weak hits the mesh rejects: a
    # tilted head, a pattern): the turned copies (ROTATIONS) get their try.
    if not any(f.landmarks is not None for f in faces) and (hint is None or hint.max() >= WEAK_PERSON):
        for degrees in ROTATIONS:
            turned = _meshed(image, scaled(detect_turned(src, degrees, tiled=tiled, hint=hint)), with_iris, small)
            # Only meshed faces of a turned copy: its meshless hits are mostly fur and
            # leaves (the dogs of the samples); the caller asks more of the rest (a
            # cat's face meshes at 0.88 there).
            turned = [f for f in turned if f.landmarks is not None]
            for f in turned:
                f.turned = degrees
            if turned:
                # The upright meshless detections stay too (the back of a head the
                # body checks confirm: HumanSeg 215 lost its person when a turned
                # copy's false face replaced it).
                faces = faces + turned
                break
    return _distinct(faces)


def _meshed(image: np.ndarray, dets: list[Detection], with_iris: bool, small) -> list[Face]:
    """Mesh (and iris) landmarks for each detection; a rejected detection with a good
    detector score stays, without landmarks (see find_faces)."""
    faces = []
    for det in dets:
        det_size = float(max(det.box[2] - det.box[0], det.box[3] - det.box[1]))
        lm, score, iris = face_landmarks(image, det, refine_pass=det_size >= MIN_REFINE_FACE, small=small)
        if score >= FACE_PRESENCE:
            box = np.concatenate([lm[:, :2].min(0), lm[:, :2].max(0)]).astype(np.float32)
            face = Face(box, float(min(det.score, 1.0) * score), lm)
            if with_iris and max(box[2] - box[0], box[3] - box[1]) >= MIN_IRIS_FACE:
                face.irises = irises_from_points(iris, lm) if iris is not None else iris_landmarks(image, lm, small)
            faces.append(face)
        elif det.score >= MESHLESS_SCORE:
            # The caller decides whether such a face is a person (people.py checks
            # the person and skin/hair models there).
            faces.append(Face(det.box.astype(np.float32), float(det.score) * 0.5, None))
    return faces


def _distinct(faces: list[Face]) -> list[Face]:
    # Two detections of one face (tile overlaps) converge to the same mesh; a face
    # whose centre lies inside a better face's box is the same head.
    kept: list[Face] = []
    for f in sorted(faces, key=lambda f: (f.landmarks is None, -f.score)):
        same = False
        for k in kept:
            if box_iou(f.box, k.box[None])[0] > 0.3:
                same = True
            c = f.centre
            if k.box[0] <= c[0] <= k.box[2] and k.box[1] <= c[1] <= k.box[3]:
                same = True
        if not same:
            kept.append(f)
    return kept
