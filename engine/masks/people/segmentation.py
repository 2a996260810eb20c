"""Person segmentation and separating the individual people in it.

``person_probability``: MediaPipe's selfie-segmentation model (256x256, general)
gives a coarse "any person" probability.  ``split_people`` then divides that
region between the people, like Lightroom's People panel:

* every detected face seeds a marker: its face box and a short column below the
  chin (neck/upper torso), minus the boxes of other faces (a back-row person's
  torso lies behind front-row heads);
* a blob of person pixels big enough to be a body but with no face in it (someone
  seen from behind) seeds its own marker;
* the remaining person pixels go to the marker that reaches them first in a
  watershed on the photo's colour gradient, so a boundary between two touching
  people follows the edge between their clothes rather than a straight line.

Everything here works at a small working size (long edge ``WORK``); the caller
upsamples and refines.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from maskroom.engine.masks import model_store
from maskroom.engine.masks.people.faces import ssd_anchors, weighted_nms

SEGMENTER = "selfie_segmentation"
SEG_SIZE = 256
WORK = 384
THRESHOLD = 0.5
MIN_BODY = 0.01  # faceless person blobs smaller than this fraction of the frame are noise
POSE = "pose_landmark_full"
POSE_SIZE = 256
# A faceless blob is a person only if MediaPipe's pose model, run on a square around
# it, says a body is there.  Square sides as multiples of the blob's long side: 1.25
# is MediaPipe's own ROI scale; the answer swings with the crop (a flower scored
# 0.95 at 1.0 and 0.13 at 1.5), so two crops are averaged.
POSE_SCALES = (1.25, 1.5)
# MediaPipe's own threshold.  Measured on faceless blobs of the eroded matte
# (split_people's bodies): non-people 0.00-0.16, people 0.54-1.0 (a man laughing
# with his head thrown back: 0.54).
POSE_PRESENCE = 0.5
# Smaller matte blobs, asked about only when nobody else was found, come as whole
# connected components and non-people scored up to 0.49 there (a rock, 0.2 % of the
# frame), a lone pedestrian 1.0: these need a surer answer.
SMALL_POSE_PRESENCE = 0.8


def _segment(square: np.ndarray) -> np.ndarray:
    x = cv2.resize(square, (SEG_SIZE, SEG_SIZE), interpolation=cv2.INTER_AREA)
    sess = model_store.get_session(SEGMENTER)
    out = sess.run(None, {sess.get_inputs()[0].name: np.ascontiguousarray(x[None], np.float32)})[0]
    return np.clip(np.asarray(out, np.float32).reshape(SEG_SIZE, SEG_SIZE), 0, 1)


def sliding_squares(long_edge: int, side: int, n: int) -> list[tuple[int, np.ndarray]]:
    """(offset, weight along the long axis) of ``n`` squares of ``side`` from one end
    of ``long_edge`` to the other.  A square's weight fades in from its inner edges
    (never at the frame's edges) over an eighth of its side, so the weighted average
    has no seam where a square ends (a step across kodim04's cheek at the preview)."""
    ramp = max(1.0, side / 8)
    t = np.arange(side, dtype=np.float32) + 0.5
    out = []
    for i in range(n):
        off = int(round(i * (long_edge - side) / max(n - 1, 1)))
        wt = np.ones(side, np.float32)
        if off > 0:
            wt = np.minimum(wt, t / ramp)
        if off + side < long_edge:
            wt = np.minimum(wt, (side - t) / ramp)
        out.append((off, wt))
    return out


def person_probability(image: np.ndarray) -> np.ndarray:
    """Person probability at the working size (long edge WORK, image aspect).

    The model wants a square.  Squashing a 3:2 frame into it, or letterboxing it,
    both lose people at the sides; instead squares of the short edge slide along the
    long axis (three or more, overlapping) and their answers are averaged where they
    overlap; where the squashed whole frame is sure of a person it is added.
    Measured on HumanSeg pairs before refinement: mean IoU 0.866 squashed, 0.854
    letterboxed, 0.892 sliding squares, 0.891 with the sure whole-frame pixels added
    (kept: it finds people in profile that the squares cut).
    """
    h, w = image.shape[:2]
    s = min(1.0, 2 * SEG_SIZE / max(h, w))
    src = image.astype(np.float32, copy=False)
    if s < 1:
        src = cv2.resize(src, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    sh, sw = src.shape[:2]
    side = min(sh, sw)
    ratio = max(sh, sw) / side
    # Squares of the short edge from one end to the other, overlapping: two for a
    # nearly square frame (one square there left the last up-to-17 % of a 5:6
    # portrait unsegmented: Grace Hopper's jacket ended above the frame's bottom edge).
    n = 1 if sh == sw else 2 if ratio <= 1.2 else max(3, int(np.ceil((ratio - 1) / 0.5)) + 1)
    acc = np.zeros((sh, sw), np.float32)
    wsum = np.zeros((sh, sw), np.float32)
    for off, wt in sliding_squares(max(sh, sw), side, n):
        y0, x0 = (0, off) if sw >= sh else (off, 0)
        p = cv2.resize(_segment(src[y0:y0 + side, x0:x0 + side]), (side, side), interpolation=cv2.INTER_LINEAR)
        wt = wt[None, :] if sw >= sh else wt[:, None]
        acc[y0:y0 + side, x0:x0 + side] += p * wt
        wsum[y0:y0 + side, x0:x0 + side] += wt
    prob = acc / np.maximum(wsum, 1e-6)
    if n > 1:
        # The squashed whole frame sometimes sees a person the squares miss (a
        # profile cut by a square's edge): take it where it is sure.  (Faded in
        # from 0.7 or 0.75 instead of switched at 0.8: HumanSeg 0.9012 -> 0.9007 / 0.9008.)
        whole = cv2.resize(_segment(src), (sw, sh), interpolation=cv2.INTER_LINEAR)
        prob = np.where(whole > 0.8, np.maximum(prob, whole), prob)
    ww, wh = work_size(h, w)
    return cv2.resize(prob, (ww, wh), interpolation=cv2.INTER_LINEAR)


# Person blobs are segmented again on their own square crop (side = CROP_SCALE x the
# blob's long side) and averaged with the whole-frame answer there: the model sees a
# person who fills a fifth of the frame at five times the resolution.  Measured on
# HumanSeg (raw matte, 145 pairs): 0.883 without, crop scales 1.05 / 1.1 / 1.2 / 1.5:
# 0.8946 / 0.8947 / 0.8935 / 0.8867 averaged; replacing instead of averaging 0.881,
# a mirrored second crop +0.0007 (not worth a second run).
CROP_SCALE = 1.1
CROP_MIN = 0.001  # of the frame: smaller blobs are not re-segmented
MAX_CROPS = 4


def crop_segments(image: np.ndarray, prob: np.ndarray, people: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The selfie model on a square crop of ``image`` round each blob of ``prob``
    (working size) that holds a person (``people``, a working-size boolean map):
    a list of (256x256 answer, 2x3 matrix from crop pixels to ``image`` pixels).

    Only confirmed people: a crop makes the model surer of whatever it looks at, so
    a false blob (a cat, a flower) re-segmented on its own fills its crop."""
    wh, ww = prob.shape
    h, w = image.shape[:2]
    fg = (prob > 0.3).astype(np.uint8)
    n, cc, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    held = set(np.unique(cc[people & (fg > 0)]).tolist()) - {0}
    order = sorted(held, key=lambda c: -stats[c, cv2.CC_STAT_AREA])[:MAX_CROPS]
    sx, sy = w / ww, h / wh
    src = image.astype(np.float32, copy=False)
    out = []
    for c in order:
        if stats[c, cv2.CC_STAT_AREA] < CROP_MIN * fg.size:
            break
        x, y, bw, bh = (float(v) for v in stats[c, :4])
        cx, cy = (x + bw / 2) * sx, (y + bh / 2) * sy
        side = max(8, int(round(CROP_SCALE * max(bw * sx, bh * sy))))
        p = _segment(_square_crop(src, cx, cy, side))
        k = side / SEG_SIZE
        out.append((p, np.array([[k, 0, round(cx - side / 2)], [0, k, round(cy - side / 2)]], np.float32)))
    return out


# A crop's answer fades in over this many of its 256 pixels from its edges, so where
# a crop's square ends inside the frame the matte has no seam (the average used to
# switch on at the square's edge, and the answer, warped bilinearly against a
# nearest-warped count, was also darkened along it).
CROP_RAMP = 12


def _crop_weight() -> np.ndarray:
    i = np.arange(SEG_SIZE, dtype=np.float32)
    r = np.clip((np.minimum(i, SEG_SIZE - 1 - i) + 0.5) / CROP_RAMP, 0, 1)
    return np.minimum.outer(r, r)


def blend_crops(prob: np.ndarray, crops, image_shape: tuple[int, int]) -> np.ndarray:
    """``prob`` (any grid over the image crop_segments saw, ``image_shape`` = its
    h, w) averaged half and half with the crop answers where they see it, fading to
    ``prob`` alone towards each crop's edge."""
    gh, gw = prob.shape
    scale = np.array([[gw / image_shape[1]], [gh / image_shape[0]]], np.float32)
    acc = np.zeros((gh, gw), np.float32)
    wsum = np.zeros((gh, gw), np.float32)
    weight = _crop_weight()
    for p, m in crops:
        g = (m * scale).astype(np.float32)
        acc += cv2.warpAffine(p * weight, g, (gw, gh), flags=cv2.INTER_LINEAR, borderValue=0)
        wsum += cv2.warpAffine(weight, g, (gw, gh), flags=cv2.INTER_LINEAR, borderValue=0)
    seen = wsum > 1e-4
    if not seen.any():
        return prob
    out = prob.astype(np.float32, copy=True)
    share = 0.5 * np.minimum(wsum[seen], 1.0)
    out[seen] = (1 - share) * prob[seen] + share * acc[seen] / wsum[seen]
    return out


def _square_crop(src: np.ndarray, cx: float, cy: float, side: int) -> np.ndarray:
    """side x side pixels centred on (cx, cy); outside the image is black (as MediaPipe pads)."""
    h, w = src.shape[:2]
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    out = np.zeros((side, side, 3), np.float32)
    xa, ya, xb, yb = max(0, x0), max(0, y0), min(w, x0 + side), min(h, y0 + side)
    if xb > xa and yb > ya:
        out[ya - y0:yb - y0, xa - x0:xb - x0] = src[ya:yb, xa:xb, :3]
    return out


def pose_presence(image: np.ndarray, box) -> float:
    """MediaPipe pose presence (0..1) for a body in ``box`` (x0, y0, x1, y1, image
    pixels): the mean over square crops centred on the box (``POSE_SCALES``).

    The selfie and skin/clothes/hair models fire on flowers, cacti and mountains
    (they label pixels, not bodies); the pose model must find a skeleton.  Measured
    on the blobs the selfie model finds with no face: cyclamen 0.16, notocactus 0.00,
    Denali 0.04; both Curies in one crop 0.94, kodim12's couple 0.91.  A blob of
    several people (a group on the grass) can score low: it sees one person."""
    x0, y0, x1, y1 = (float(v) for v in box)
    bw, bh = x1 - x0, y1 - y0
    best = _pose_presence_at(image, (x0, y0, x1, y1))
    if bw > GROUP_ASPECT * bh and bh > 0:
        # A wide blob is usually people side by side (a group on the grass): the
        # one-person model sees none of them in the whole, so squares of the blob's
        # height are asked too and the surest one counts.  HumanSeg 21 (a group of
        # six): whole blob 0.48 / 0.20, its squares 0.59 / 0.98.
        n = int(np.ceil(bw / bh))
        for i in range(n):
            xa = x0 + i * (bw - bh) / max(n - 1, 1)
            best = max(best, _pose_presence_at(image, (xa, y0, xa + bh, y1)))
    return best


GROUP_ASPECT = 1.2

# A faceless blob that passed is_body is asked once more (``region_presence``): the
# pose model on the square of its whole label region (the watershed's region, not the
# eroded core) without the group squares.  Measured at the 2048 px preview / HumanSeg's
# own size: the hats on a wall (kodim03) 0.005 there (0.97 on a square of their
# height, 1.48 votes in is_body); the faceless people that is_body keeps on HumanSeg
# 0.106 (a crowd walking away, 238), 0.19 (the second blob of the group on the
# grass, 21), the rest 0.48-1.0.
REGION_PRESENCE = 0.05


def region_presence(image: np.ndarray, box) -> float:
    """Pose presence on squares round ``box`` (image pixels) only, never on the group
    squares of a wide box (see REGION_PRESENCE)."""
    return _pose_presence_at(image, tuple(float(v) for v in box))


def _pose_presence_at(image: np.ndarray, box) -> float:
    sess = model_store.get_session(POSE)
    x0, y0, x1, y1 = box
    cx, cy, long_side = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0, 1.0)
    src = image.astype(np.float32, copy=False)
    scores = []
    for k in POSE_SCALES:
        side = max(2, int(round(k * long_side)))
        crop = _square_crop(src, cx, cy, side)
        crop = cv2.resize(crop, (POSE_SIZE, POSE_SIZE), interpolation=cv2.INTER_AREA if side > POSE_SIZE else cv2.INTER_LINEAR)
        outs = sess.run(None, {sess.get_inputs()[0].name: np.ascontiguousarray(crop[None], np.float32)})
        scores.append(float(np.asarray(outs[1]).reshape(-1)[0]))
    return float(np.mean(scores))


# --------------------------------------------------------------- body detector
BODY_DETECTOR = "pose_detection"
BODY_SIZE = 224
BODY_MIN_SCORE = 0.5  # MediaPipe's pose_detection.pbtxt
BODY_NMS_IOU = 0.3


@dataclass
class Body:
    """A BlazePose detection, image pixels.  ``face`` is the box the detector
    regresses (it finds a body by its head); ``hip`` and ``radius`` give the circle
    the whole body fits in (MediaPipe's alignment keypoints 0 and 1); ``box`` is
    that circle's square, clipped to nothing."""

    face: np.ndarray
    hip: np.ndarray
    radius: float
    score: float

    @property
    def box(self) -> np.ndarray:
        r = self.radius
        return np.array([self.hip[0] - r, self.hip[1] - r, self.hip[0] + r, self.hip[1] + r], np.float32)


def _body_anchors() -> np.ndarray:
    # pose_detection.pbtxt: 5 layers, strides 8,16,32,32,32 on 224 -> 2254 anchors.
    return ssd_anchors(BODY_SIZE, [8, 16, 32, 32, 32])


_BODY_ANCHORS: np.ndarray | None = None


def detect_bodies(image: np.ndarray, min_score: float = BODY_MIN_SCORE) -> list[Body]:
    """People found by MediaPipe's BlazePose detector on the whole frame,
    letterboxed to 224x224 as MediaPipe does (keep aspect, zero border, -1..1)."""
    global _BODY_ANCHORS

    if _BODY_ANCHORS is None:
        _BODY_ANCHORS = _body_anchors()
    h, w = image.shape[:2]
    side = float(max(h, w))
    x0, y0 = (w - side) / 2, (h - side) / 2
    k = BODY_SIZE / side
    m = np.array([[k, 0, -x0 * k], [0, k, -y0 * k]], np.float32)
    src = image.astype(np.float32, copy=False)
    if k < 0.5:  # area-filter first so the warp does not alias
        f = 2 * k
        src = cv2.resize(src, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
        m = np.array([[k / f, 0, -x0 * k], [0, k / f, -y0 * k]], np.float32)
    crop = cv2.warpAffine(src, m, (BODY_SIZE, BODY_SIZE), flags=cv2.INTER_LINEAR, borderValue=0)
    sess = model_store.get_session(BODY_DETECTOR)
    outs = sess.run(None, {sess.get_inputs()[0].name: np.ascontiguousarray((crop * 2.0 - 1.0)[None], np.float32)})
    reg = np.asarray(next(o for o in outs if o.shape[-1] == 12), np.float32).reshape(-1, 12)
    logits = np.clip(np.asarray(next(o for o in outs if o.shape[-1] == 1), np.float64).reshape(-1), -100, 100)
    prob = 1.0 / (1.0 + np.exp(-logits))
    keep = prob >= min_score
    if not keep.any():
        return []
    reg, prob, anc = reg[keep], prob[keep], _BODY_ANCHORS[keep]
    cx, cy = reg[:, 0] / BODY_SIZE + anc[:, 0], reg[:, 1] / BODY_SIZE + anc[:, 1]
    bw, bh = reg[:, 2] / BODY_SIZE, reg[:, 3] / BODY_SIZE
    boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], -1)
    kps = reg[:, 4:12].reshape(-1, 4, 2) / BODY_SIZE + anc[:, None, :]
    out = []
    for d in weighted_nms(boxes, kps, prob, BODY_NMS_IOU):
        # model-input 0..1 -> image pixels
        face = d.box * side + np.array([x0, y0, x0, y0], np.float32)
        kp = d.keypoints * side + np.array([x0, y0], np.float32)
        out.append(Body(face.astype(np.float32), kp[0].astype(np.float32),
                        float(np.hypot(*(kp[1] - kp[0]))), d.score))
    return out


BODY_CROP = 1.5


def body_score(image: np.ndarray, box) -> float:
    """The BlazePose detector's best person score on a square crop around ``box``
    (``BODY_CROP`` x its long side, black outside the image); 0 when it finds nothing."""
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(8, int(round(BODY_CROP * max(x1 - x0, y1 - y0))))
    crop = _square_crop(image.astype(np.float32, copy=False), (x0 + x1) / 2, (y0 + y1) / 2, side)
    return max((b.score for b in detect_bodies(crop, 0.05)), default=0.0)


def is_body(image: np.ndarray, box, pixels_agree: bool, whole: list[Body] = ()) -> bool:
    """Whether a faceless matte blob in ``box`` (image pixels) is a person.

    Two MediaPipe models vote: the pose landmark model's presence on the blob
    (pose_presence) and the BlazePose detector's score on a crop around it
    (body_score).  Measured at 1024 px on the faceless blobs of the 145 HumanSeg
    photos (people) and of the 60 sample photos without people (flowers, cats,
    hats, mountains):

    =============  ==========================  ================================
                   people (31 blobs)           not people (42 blobs)
    pose           0.97-1.0 for 24, low 0.0    up to 1.0 (tulips), 0.98 (birds)
    detector       0.64-0.98 for 26, low 0.27  up to 0.91 (hats), 0.65
    sum            >= 1.4 for 25               >= 1.4 only the hats (1.48)
    =============  ==========================  ================================

    (``whole``: detections on the whole frame, see below.)

    So the sum decides where the skin/clothes/hair model also sees a person
    (``pixels_agree``), and two sure votes decide without it (people in shade on
    grass get no skin/clothes: HumanSeg 21, pose 1.0, detector 0.82, pixels 0.16).
    """
    pose = pose_presence(image, box)
    det = body_score(image, box)
    # The detector on the whole frame (``whole``) sees some people better than on a
    # tight crop (a crowd walking away, HumanSeg 238: 0.66 whole, crop lower): a
    # detection whose head lies in the box counts too.
    x0, y0, x1, y1 = (float(v) for v in box)
    for b in whole:
        cx, cy = (b.face[0] + b.face[2]) / 2, (b.face[1] + b.face[3]) / 2
        if x0 <= cx <= x1 and y0 <= cy <= y1:
            det = max(det, b.score)
    # A crowd walking away fails the one-person pose model (HumanSeg 238: pose 0.11)
    # while the detector on its crop is sure (0.91): with the pixel model's vote that
    # is enough (the hats, 0.91, are the one non-person that high).
    return ((pixels_agree and (pose + det >= BODY_VOTES or det >= SURE_CROWD))
            or (pose >= SURE_POSE and det >= SURE_DETECTOR))


BODY_VOTES = 1.4
SURE_POSE = 0.8
SURE_DETECTOR = 0.6
SURE_CROWD = 0.9


def work_size(h: int, w: int) -> tuple[int, int]:
    s = WORK / max(h, w)
    return max(8, round(w * s)), max(8, round(h * s))


def split_people(image_work: np.ndarray, prob: np.ndarray, face_boxes: list[np.ndarray]):
    """Label map (0 = background, k = person k) and the boxes of faceless bodies.

    ``face_boxes`` are in working pixels; label k (1-based) belongs to face k-1, then
    the faceless bodies follow in the order returned.
    """
    h, w = prob.shape
    fg = prob > THRESHOLD
    markers = np.zeros((h, w), np.int32)
    n_faces = len(face_boxes)
    boxes = [np.asarray(b, np.float32) for b in face_boxes]
    for k, b in enumerate(boxes):
        x0, y0, x1, y1 = b
        fw, fh = x1 - x0, y1 - y0
        cx = (x0 + x1) / 2
        core = np.zeros((h, w), np.uint8)
        # Inner face box, then a column under the chin as wide as half the face.
        cv2.rectangle(core, (int(x0 + 0.2 * fw), int(y0 + 0.2 * fh)), (int(x1 - 0.2 * fw), int(y1 - 0.1 * fh)), 1, -1)
        cv2.rectangle(core, (int(cx - 0.25 * fw), int(y1)), (int(cx + 0.25 * fw), int(y1 + 1.2 * fh)), 1, -1)
        core = core.astype(bool)
        for j, o in enumerate(boxes):
            if j != k:
                ox0, oy0, ox1, oy1 = o
                pad = 0.15 * (ox1 - ox0)
                core[max(0, int(oy0 - pad)):int(oy1 + pad) + 1, max(0, int(ox0 - pad)):int(ox1 + pad) + 1] = False
        # The face box itself counts even where the matte is weak (a face is a person);
        # the torso column only where the matte agrees.
        face_core = np.zeros((h, w), bool)
        face_core[max(0, int(y0 + 0.2 * fh)):int(y1 - 0.1 * fh) + 1, max(0, int(x0 + 0.2 * fw)):int(x1 - 0.2 * fw) + 1] = True
        core &= fg | face_core
        markers[core & (markers == 0)] = k + 1
    # Faceless bodies: person blobs that hold no face marker (someone seen from the
    # back or in profile).  The matte is eroded first so that two people joined by
    # a thin bridge (touching hands, a table edge) count as two blobs.
    bodies = []
    r = max(2, round(0.012 * max(h, w)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    core_fg = cv2.erode(fg.astype(np.uint8), kernel)
    seeded = cv2.dilate((markers > 0).astype(np.uint8), kernel).astype(bool)
    n, cc, stats, _ = cv2.connectedComponentsWithStats(core_fg, connectivity=8)
    for c in range(1, n):
        if stats[c, cv2.CC_STAT_AREA] < MIN_BODY * h * w:
            continue
        blob = cc == c
        if (seeded & blob).any():
            continue
        x, y, bw, bh = stats[c, :4]
        # A body just under a face is that face's body (the erosion cut the neck).
        if any(x <= (b[0] + b[2]) / 2 <= x + bw and b[3] - 0.5 * (b[3] - b[1]) <= y <= b[3] + 3 * (b[3] - b[1])
               for b in boxes):
            continue
        k = n_faces + len(bodies) + 1
        markers[blob & (markers == 0)] = k
        bodies.append(np.array([x - r, y - r, x + bw + r, y + bh + r], np.float32))
    n_people = n_faces + len(bodies)
    if n_people == 0:
        return np.zeros((h, w), np.int32), bodies
    # No background marker: it would race the people into the matte wherever a dark
    # coat meets a dark wall.  People flood everything and the matte decides what is
    # a person afterwards; the background is painted as a pixel checkerboard (the
    # steepest possible gradient) so a marker floods through person pixels first and
    # does not run round through the background into someone else's body.
    img8 = cv2.cvtColor((np.clip(image_work, 0, 1) * 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    yy, xx = np.mgrid[0:h, 0:w]
    checker = (((yy + xx) % 2) * 255).astype(np.uint8)
    grown = cv2.dilate(fg.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    img8[~grown] = checker[~grown][:, None]
    ws = markers.copy()
    cv2.watershed(img8, ws)
    # Watershed lines (-1) go to the neighbouring label that is most common around them.
    lines = ws == -1
    if lines.any():
        fixed = cv2.dilate(np.where(lines, 0, ws).astype(np.float32), np.ones((3, 3), np.uint8))
        ws[lines] = fixed[lines].astype(np.int32)
    labels = np.where((ws >= 1) & (ws <= n_people), ws, 0).astype(np.int32)
    # Only person pixels (plus each face box) are people.
    keep = fg.copy()
    for b in boxes:
        x0, y0, x1, y1 = b.astype(int)
        keep[max(0, y0):y1 + 1, max(0, x0):x1 + 1] = True
    labels[~keep] = 0
    return labels, bodies


def memberships(labels: np.ndarray, n_people: int, sigma: float = 1.0) -> np.ndarray:
    """Soft per-person weights (n x h x w) that sum to 1 everywhere.

    Background pixels take the nearest person's label first (the refined matte at
    full resolution may reach a little past the working-size labels, and its edge
    must not be dimmed there); blurring the one-hot labels then makes the seam
    between two touching people a short ramp instead of a staircase.
    """
    h, w = labels.shape
    if n_people == 0:
        return np.zeros((0, h, w), np.float32)
    src = (labels == 0).astype(np.uint8)
    if src.any() and (~src.astype(bool)).any():
        _, idx = cv2.distanceTransformWithLabels(src, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
        ys, xs = np.nonzero(src == 0)
        full = labels[ys[idx - 1], xs[idx - 1]]
    else:
        full = labels
    out = np.stack([cv2.GaussianBlur((full == k + 1).astype(np.float32), (0, 0), sigma) for k in range(n_people)])
    return out / np.maximum(out.sum(0), 1e-6)[None]
