"""The person kind raises its matte to the pose model's segmentation along the limbs
where the selfie matte already sees something (engine/masks/people/analysis.py,
with_pose; the segmentation comes from the held check's pose pass: held.py,
limb_segmentation and pose_on_frame)."""
from __future__ import annotations

import numpy as np

from maskroom.engine.masks.people.analysis import POSE_GATE, with_pose
from maskroom.engine.masks.people.held import PoseBody, limb_segmentation, pose_on_frame


def _body(limbs: np.ndarray | None, to_image: np.ndarray | None) -> PoseBody:
    return PoseBody(1, 1.0, np.zeros((8, 8), np.float32), np.zeros((0, 2), np.float32), limbs, to_image)


def _paste(shape, pieces) -> np.ndarray:
    out = np.zeros(shape, np.float32)
    for y0, x0, p in pieces:
        out[y0:y0 + p.shape[0], x0:x0 + p.shape[1]] = np.maximum(out[y0:y0 + p.shape[0], x0:x0 + p.shape[1]], p)
    return out


def test_pose_segmentation_lands_where_its_crop_lies_on_the_frame():
    crop = np.zeros((256, 256), np.float32)
    crop[64:192, 96:160] = 1.0  # a limb in the middle of the pose crop
    # Crop pixels -> pixels of the image the pose model saw: half size, at (10, 20);
    # the frame asked for is twice that image's size.
    m = np.array([[0.5, 0, 10], [0, 0.5, 20]], np.float32)
    pieces = pose_on_frame([_body(crop, m), _body(None, None)], (400, 300), 2.0)
    assert len(pieces) == 1
    out = _paste((400, 300), pieces)
    # crop (x 96..160, y 64..192) -> image (58..90, 52..116) -> frame (116..180, 104..232)
    assert out[168, 148] > 0.99
    assert out[168, 100] < 0.01 and out[90, 148] < 0.01 and out[250, 148] < 0.01
    y0, x0, p = pieces[0]
    assert p.shape[0] * p.shape[1] < 0.2 * 400 * 300  # only the box round the limb is warped


def test_a_crop_off_the_frame_is_clipped_not_an_error():
    crop = np.ones((256, 256), np.float32)
    m = np.array([[1, 0, -200], [0, 1, 150]], np.float32)
    out = _paste((200, 100), pose_on_frame([_body(crop, m)], (200, 100), 1.0))
    assert out[:150].max() == 0 and out[160:, :50].min() > 0.99


def test_a_body_counts_only_on_its_own_persons_share():
    crop = np.ones((256, 256), np.float32)  # the pose model spread its body over the whole crop
    m = np.array([[1, 0, 0], [0, 1, 0]], np.float32)
    member = np.zeros((2, 64, 64), np.float32)
    member[0, :, :32], member[1, :, 32:] = 1.0, 1.0  # person 1 left, person 2 right
    out = _paste((256, 256), pose_on_frame([_body(crop, m)], (256, 256), 1.0, member))
    assert out[128, 40] > 0.99 and out[128, 220] < 0.01


def test_only_the_limbs_of_the_pose_segmentation_count():
    seg = np.ones((256, 256), np.float32)  # the pose model's whole body, head and torso too
    lm = np.zeros((33, 5), np.float32)
    lm[:, 3] = -5  # nothing visible ...
    lm[11, :2], lm[13, :2], lm[15, :2] = (100, 60), (100, 120), (100, 180)  # ... but a left arm
    lm[[11, 13, 15], 3] = 5
    limbs = limb_segmentation(seg, lm)
    assert limbs[120, 100] > 0.99  # on the elbow
    assert limbs[120, 200] < 0.01 and limbs[20, 30] < 0.01  # the rest of the body is not a limb
    lm[13, 3] = -5  # the elbow hidden: no bone is drawn through it
    assert limb_segmentation(seg, lm).max() == 0


def test_pose_raises_a_soft_limb_but_draws_no_body_the_matte_does_not_see():
    alpha = np.zeros((4, 4), np.float32)
    pose = np.zeros((4, 4), np.float32)
    alpha[0, 0], pose[0, 0] = 0.3, 0.9  # a raised arm the selfie model left soft
    alpha[1, 1], pose[1, 1] = POSE_GATE / 2, 0.9  # nothing of a person in the matte
    alpha[2, 2], pose[2, 2] = 0.8, 0.2  # the matte is surer than the pose: kept
    before = alpha.copy()
    out = with_pose(alpha, [(0, 0, pose)])
    assert out[0, 0] == np.float32(0.9)
    assert out[1, 1] == np.float32(POSE_GATE / 2)
    assert out[2, 2] == np.float32(0.8)
    assert out.dtype == np.float32 and (out >= alpha).all()
    assert (alpha == before).all()  # the analysis' cached matte is not changed
