"""What the person matte took in that is not a body: a held toy, a hugged dog, a raft.

The selfie model mattes a person together with whatever touches them (issue 15,
pattern 5).  MediaPipe's pose landmark model, run on one person's crop, also gives a
segmentation of that one body (its third output), which follows the skeleton it
found: on the hard cases it leaves out the dog a woman hugs and the raft under five
rafters while it keeps the whole of each footballer.  Person pixels that lie beyond
every checked body's pose segmentation (grown by a margin) are "beyond the pose".

The pose model sees whole figures: on a head-and-shoulders close-up cut by the frame
its segmentation is a fragment of the face (kodim04, kodim15: 29-47 % of the matte
inside it).  Only people whose region ends above the bottom of the frame (the legs
or the lap in view) are checked; the others are left as the matte gives them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from maskroom.engine.masks import model_store
from maskroom.engine.masks.people.segmentation import POSE, POSE_PRESENCE, POSE_SIZE, Body, _square_crop

# MediaPipe's ROI scale round a body (the crop is this x the region's long side).
POSE_ROI = 1.25
# A region whose bottom lies within this fraction of the frame height of the bottom
# edge is cut by the frame: its pose segmentation is not trusted (see above).
FRAME_CUT = 0.02
# The pose segmentation is grown by this fraction of the person's region height before
# pixels count as beyond it: its edge sits a little inside the matte's (hair, loose
# sleeves); on the footballers and the couple on the beach 0.04 leaves under 5 % out.
POSE_MARGIN = 0.04
# Share of the checked people's matte in blobs kept (held_things) from which the mask says so.
HELD_WARN = 0.12
# People asked about, largest first: 10-30 ms of CPU each; a crowd (solvay's 26)
# would cost 0.5 s, and its bodies overlap too much for the check to say anything.
MAX_POSE_PEOPLE = 6
HELD_OPEN = 0.01  # of the working grid's long edge: the opening that parts slivers from blobs
HELD_BLOB = 0.05  # of the checked matte: smaller blobs beyond the pose are the crowd's slivers
HELD_CUT = 0.15  # of the checked matte: a blob with no face and no landmark from this size is cut


@dataclass
class PoseBody:
    label: int  # the person's label in the working label map
    presence: float
    seg: np.ndarray  # the pose segmentation (0..1) on the working grid
    joints: np.ndarray  # the visible pose landmarks (of 33), working pixels, n x 2
    # The segmentation along the limbs (limb_segmentation) at the model's own 256 px, and
    # the 2x3 matrix from those pixels to the pixels of the image pose_bodies saw: the
    # person kind warps it to full size.
    limbs: np.ndarray | None = None
    to_image: np.ndarray | None = None


def pose_segmentation(image: np.ndarray, cx: float, cy: float, side: float):
    """(presence, segmentation 0..1 on the crop, visible body landmarks in crop pixels,
    2x3 matrix crop pixels -> image pixels, the segmentation along the limbs) of the
    pose model on the square of ``side`` centred on (cx, cy)."""
    side = max(2, int(round(side)))
    crop = _square_crop(image.astype(np.float32, copy=False), cx, cy, side)
    crop = cv2.resize(crop, (POSE_SIZE, POSE_SIZE),
                      interpolation=cv2.INTER_AREA if side > POSE_SIZE else cv2.INTER_LINEAR)
    sess = model_store.get_session(POSE)
    outs = sess.run(None, {sess.get_inputs()[0].name: np.ascontiguousarray(crop[None], np.float32)})
    presence = float(np.asarray(outs[1]).reshape(-1)[0])
    logits = np.clip(np.asarray(outs[2], np.float32).reshape(POSE_SIZE, POSE_SIZE), -50, 50)
    seg = 1.0 / (1.0 + np.exp(-logits))
    lm = np.asarray(outs[0], np.float32).reshape(-1, 5)[:33]  # x, y, z, visibility, presence (logits)
    joints = lm[lm[:, 3] > 0, :2]  # visibility > 0.5
    k = side / POSE_SIZE
    m = np.array([[k, 0, round(cx - side / 2)], [0, k, round(cy - side / 2)]], np.float32)
    return presence, seg.astype(np.float32), joints, m, limb_segmentation(seg, lm)


# MediaPipe's pose landmarks joined along the arms (shoulder, elbow, wrist, the hand's
# three points) and the legs (hip, knee, ankle, heel, toe).
LIMB_BONES = ((11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (12, 14), (14, 16), (16, 18), (16, 20), (16, 22),
              (23, 25), (25, 27), (27, 29), (27, 31), (29, 31), (24, 26), (26, 28), (28, 30), (28, 32), (30, 32))
# How far from a bone the pose segmentation counts, of the pose crop's side (256 px):
# a limb with its sleeve or trouser leg is 5-8 % of the crop wide.
LIMB_REACH = 0.08


def limb_segmentation(seg: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The pose segmentation (crop pixels) near the bones of the visible limbs only.

    The selfie matte misses limbs (raised arms, a stride's legs, hands); the pose model
    segments along the skeleton it found there.  Elsewhere its edge is softer than the
    selfie matte's and spills onto what lies beside a head (a wall by craft-beer's hair),
    so it is not used there."""
    corridor = np.zeros(seg.shape, np.uint8)
    reach = max(1, int(round(LIMB_REACH * seg.shape[1])))
    for a, b in LIMB_BONES:
        if landmarks[a, 3] > 0 and landmarks[b, 3] > 0:  # both ends visible (logit > 0)
            pa, pb = landmarks[a, :2], landmarks[b, :2]
            if np.isfinite(pa).all() and np.isfinite(pb).all() and np.abs(np.r_[pa, pb]).max() < 1e4:
                cv2.line(corridor, tuple(int(round(v)) for v in pa), tuple(int(round(v)) for v in pb), 1, 2 * reach + 1)
    return seg * cv2.GaussianBlur(corridor.astype(np.float32), (0, 0), reach / 3)


def pose_bodies(image: np.ndarray, labels: np.ndarray, n_people: int, whole: list[Body] = ()) -> list[PoseBody]:
    """The pose segmentation of each person whose region the frame does not cut
    (see FRAME_CUT) and whose pose the model is present for, on the working grid
    of ``labels`` (``image`` is any size of the same frame; ``whole``: the body
    detector's answers on it)."""
    wh, ww = labels.shape
    h, w = image.shape[:2]
    sx, sy = ww / w, wh / h
    out = []
    # The largest regions first, at most MAX_POSE_PEOPLE (each costs a pose pass).
    sizes = np.bincount(labels.ravel(), minlength=n_people + 1)[1:n_people + 1]
    for lab in [int(i) + 1 for i in np.argsort(-sizes, kind="stable")[:MAX_POSE_PEOPLE]]:
        region = labels == lab
        if not region.any():
            continue
        ys, xs = np.nonzero(region)
        if ys.max() + 1 >= (1 - FRAME_CUT) * wh:
            continue
        x0, y0, x1, y1 = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32) / [sx, sy, sx, sy]
        cx, cy, side = (x0 + x1) / 2, (y0 + y1) / 2, POSE_ROI * max(x1 - x0, y1 - y0, 1.0)
        # A body the detector found on the whole frame with its head in this region
        # gives a tighter square: the circle the body fits in.  The region's own box
        # holds whatever the matte took in (the child and the teddy bear beside him:
        # the pose model then segments both; on the detector's circle only the child).
        heads = [b for b in whole if region[min(wh - 1, max(0, int((b.face[1] + b.face[3]) / 2 * sy))),
                                            min(ww - 1, max(0, int((b.face[0] + b.face[2]) / 2 * sx)))]]
        if heads:
            b = max(heads, key=lambda b: b.score)
            cx, cy, side = float(b.hip[0]), float(b.hip[1]), 2.0 * b.radius
        presence, seg, joints, m, limbs = pose_segmentation(image, cx, cy, side)
        if presence < POSE_PRESENCE:
            continue
        to_work = np.diag([sx, sy]) @ m
        on_work = cv2.warpAffine(seg, to_work.astype(np.float32), (ww, wh), flags=cv2.INTER_LINEAR, borderValue=0)
        pts = joints @ to_work[:, :2].T + to_work[:, 2] if len(joints) else np.zeros((0, 2), np.float32)
        out.append(PoseBody(lab, presence, on_work, pts.astype(np.float32), limbs, m))
    return out


def pose_on_frame(bodies: list[PoseBody], shape: tuple[int, int], scale: float,
                  member: np.ndarray | None = None) -> list[tuple[int, int, np.ndarray]]:
    """The bodies' pose segmentations along their limbs (``limbs``) on an h x w frame
    (``shape``) ``scale`` times the size of the image pose_bodies saw, warped from the
    model's own 256 px crops (the working-grid ``seg`` is too coarse for a mask's edge):
    (y0, x0, piece) per body with limbs in view, the piece covering only the box round
    its limbs (the 2048 px frame per body cost more than the rest of the person kind).

    ``member`` (people x working grid, segmentation.memberships): each body's answer
    counts only by its person's share of the pixel.  The pose crop of someone in a group
    holds their neighbours too, and the one-person model spreads its body over them
    (kodim14's rafters: the raft between two of them)."""
    h, w = shape
    out = []
    for b in bodies:
        if b.limbs is None or not (b.limbs > 1e-3).any():
            continue
        m = (b.to_image * scale).astype(np.float32)
        cx, cy, cw, ch = cv2.boundingRect((b.limbs > 1e-3).astype(np.uint8))
        x0, y0 = max(0, int(np.floor(m[0, 2] + m[0, 0] * cx))), max(0, int(np.floor(m[1, 2] + m[1, 1] * cy)))
        x1 = min(w, int(np.ceil(m[0, 2] + m[0, 0] * (cx + cw))) + 1)
        y1 = min(h, int(np.ceil(m[1, 2] + m[1, 1] * (cy + ch))) + 1)
        if x1 <= x0 or y1 <= y0:
            continue
        m[:, 2] -= (x0, y0)
        size = (x1 - x0, y1 - y0)
        piece = cv2.warpAffine(b.limbs, m, size, flags=cv2.INTER_LINEAR, borderValue=0)
        if member is not None:
            gh, gw = member.shape[1:]
            g = np.array([[w / gw, 0, -x0], [0, h / gh, -y0]], np.float32)
            piece *= cv2.warpAffine(member[b.label - 1], g, size, flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE)
        out.append((y0, x0, piece))
    return out


def beyond_pose(fg: np.ndarray, labels: np.ndarray, bodies: list[PoseBody]) -> tuple[np.ndarray, np.ndarray]:
    """(pixels of the checked people's matte ``fg`` beyond every pose body grown by
    POSE_MARGIN, the checked people's matte); both empty with none checked."""
    wh, ww = labels.shape
    if not bodies:
        empty = np.zeros((wh, ww), bool)
        return empty, empty
    checked = np.isin(labels, [b.label for b in bodies]) & fg
    body = np.zeros((wh, ww), np.uint8)
    for b in bodies:
        ys = np.nonzero(labels == b.label)[0]
        r = max(1, int(round(POSE_MARGIN * (ys.max() + 1 - ys.min()))))
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2)
        body |= cv2.dilate((b.seg > 0.5).astype(np.uint8), disc)
    return checked & (body == 0), checked


@dataclass
class Held:
    """What of the checked people's matte lies in blobs beyond their poses (working grid)."""

    cut: np.ndarray  # bool: left out of the person (see held_things)
    cut_share: float  # of the checked people's matte
    kept_share: float  # beyond the pose but kept: reported


def held_things(fg: np.ndarray, labels: np.ndarray, bodies: list[PoseBody], face_points: list,
                is_person: Callable[[np.ndarray], bool] | None = None) -> Held:
    """The blobs of the matte beyond the pose (``beyond_pose``) big enough to be a thing
    (HELD_BLOB of the checked matte, after an opening: a crowd's labels overlap and
    leave slivers of 1-2 % each), cut or kept.

    A blob is cut when it is a large part of the matte (HELD_CUT), holds no face
    (``face_points``, working pixels) and no visible pose landmark, and is no person
    itself (``is_person(blob)``: the body votes of segmentation.is_body on its box):
    the teddy bear beside the child (45 %), the dog the woman hugs (45 %, votes
    1.33 of 1.4).  HumanSeg's faceless people beside someone (206, 238, 245: votes
    1.56-1.95) were cut before that question (0.8986 -> 0.8904).  Otherwise it stays and is
    reported: the raft holds the rafters' knees and feet (4 landmarks; the pose model
    sees one rafter per crop, so the others' legs are "beyond"); the top of a woman's
    hair outside her pose segmentation is 6 % (craft-beer).  A blob with a face in it
    is someone the pose model missed (a rafter behind another): neither cut nor
    reported.  The colours do not tell the thing from the body
    (a brown dog beside brown hair; a yellow raft under yellow helmets and life vests:
    58-91 % of the blob's pixels fall in colour bins the body has), so they are not asked.

    The cut runs into the margin band (POSE_MARGIN) up to the pose segmentation
    itself where it meets a cut blob, so the boundary there follows the body."""
    wh, ww = fg.shape
    beyond, checked = beyond_pose(fg, labels, bodies)
    n_checked = int(checked.sum())
    cut = np.zeros((wh, ww), bool)
    if not n_checked or not beyond.any():
        return Held(cut, 0.0, 0.0)
    r = max(1, round(HELD_OPEN * max(wh, ww)))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2)
    core = cv2.morphologyEx(beyond.astype(np.uint8), cv2.MORPH_OPEN, disc)
    n, cc, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=8)
    joints = [p for b in bodies for p in b.joints]
    body = np.zeros((wh, ww), bool)
    for b in bodies:
        body |= b.seg > 0.5
    kept = 0
    for c in range(1, n):
        if stats[c, cv2.CC_STAT_AREA] < HELD_BLOB * n_checked:
            continue
        # The blob back to the beyond pixels the opening trimmed off its edge.
        blob = (cv2.dilate((cc == c).astype(np.uint8), disc) > 0) & beyond
        def holds(points) -> bool:
            return any(blob[min(wh - 1, max(0, int(y))), min(ww - 1, max(0, int(x)))] for x, y in points)

        if holds(face_points):  # someone the pose model missed: a person, neither cut nor reported
            continue
        if not holds(joints) and blob.sum() >= HELD_CUT * n_checked:
            if is_person is not None and is_person(blob):
                continue  # someone without a face beside them: a person, neither cut nor reported
            # POSE_MARGIN of the long edge reaches across any person's band.
            reach = max(1, int(round(POSE_MARGIN * max(wh, ww))))
            band = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2)
            grown = cv2.dilate(blob.astype(np.uint8), band)
            cut |= blob | ((grown > 0) & checked & ~body)
        else:
            kept += int(blob.sum())
    if cut.any():
        # Pinholes the opening left in a cut blob go with it (a gap between the
        # dog's legs kept alpha 0.6 inside the cut).
        closed = cv2.morphologyEx(cut.astype(np.uint8), cv2.MORPH_CLOSE, disc) > 0
        cut |= closed & checked & ~body
        # What a cut leaves stranded (the dog's hind paw, parted from the woman with
        # the dog) is no body either: pieces of the matte that no longer touch one.
        n, cc = cv2.connectedComponents((checked & ~cut).astype(np.uint8), connectivity=8)
        touching = np.unique(cc[body & (cc > 0)])
        stranded = (cc > 0) & ~np.isin(cc, touching)
        for x, y in list(face_points) + joints:
            c = cc[min(wh - 1, max(0, int(y))), min(ww - 1, max(0, int(x)))]
            stranded &= cc != c
        cut |= stranded
    return Held(cut, float(cut.sum()) / n_checked, kept / n_checked)
