"""The shipped salient-object model: U²-Netp (Qin et al. 2020) trained on DUTS-TR.

``saliency_map(rgb01)`` answers "what would a viewer call the thing in this picture"
as a 0..1 map at the model's input, min-max normalised per image as U²-Net's own
test code does.  The subject kind runs it on the whole frame, the object kind on
the crop round the prompt.  Pre-processing follows U²-Net's ``RescaleT(320)`` +
``ToTensorLab(flag=0)``: resize to 320x320, divide by the image's maximum, ImageNet
mean/std (models/CONVERSION.md, "salient_u2netp").  The int8 file takes any size
(multiples of 32); keeping the photo's shape (320 px long edge) was measured and is
not used: SOD subject 0.6707 -> 0.6859, but on the sample photos it flooded a
blurred orange background (mate_TwoWings 19 % -> 60 %), lost one of two parrots
(kodim23) and took a whole facade (kodim01): the model was trained on squeezed squares.

What runs is the int8 derivative ``salient_u2netp_int8`` (tools/models/quantize.py
--model salient), ~1.6x faster than the fp32 file with the same SOD IoU, twice: on the
picture and on its mirror image at 256 px, the two maps averaged (``averaged_map``).
"""
from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from maskroom.engine.masks import model_store
from maskroom.engine.masks.regions import fill_holes, largest_regions

MODEL = "salient_u2netp_int8"
MODEL_FP32 = "salient_u2netp"  # what the int8 file is derived from (the peer in bench/masks_bench.py)
SIZE = 320  # the model's input is SIZE x SIZE
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def input_size(h: int, w: int) -> tuple[int, int]:
    """(height, width) of the model's input for an h x w picture: U²-Net's 320x320 square,
    the photo squeezed as in training (see the module's note on keeping its shape)."""
    return SIZE, SIZE


def model_input(rgb01: np.ndarray) -> np.ndarray:
    """1x3xHxW float32 input of U²-Netp for an sRGB 0..1 image (``input_size``)."""
    ih, iw = input_size(*rgb01.shape[:2])
    x = cv2.resize(rgb01.astype(np.float32, copy=False), (iw, ih), interpolation=cv2.INTER_AREA)
    x = x / max(float(x.max()), 1e-6)
    return np.ascontiguousarray(((x - MEAN) / STD).transpose(2, 0, 1)[None])


def _run(x: np.ndarray, model: str) -> np.ndarray:
    """The fused side output d0 (sigmoid) for a model input, as an HxW map."""
    sess = model_store.get_session(model)
    out = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    return np.asarray(out, np.float32).reshape(x.shape[2:])


def raw_map(rgb01: np.ndarray, model: str = MODEL) -> np.ndarray:
    """One pass of the model: the fused side output d0 (sigmoid, at ``input_size``), before
    normalisation.

    Its absolute level says how sure the model is: a photo with no single subject
    (a beach, a texture) peaks well below 1 (``confidence``)."""
    return _run(model_input(rgb01), model)


# The map is the mean of the model's answers on the picture and on its mirror image (test-time
# augmentation): a scene's saliency does not change in a mirror, the model's misses do (a leg, a
# wing, a second animal seen on one side only).  The mirrored pass runs on a smaller square (the
# input resized; 0.64x the pixels): a second 320 px pass would double the model's time and put the
# subject and the object box over their 0.5 s at the 2048 px preview.  Cached SOD maps, full
# pipeline, subject / object from a loose box (even / odd photos): one pass 0.6812 / 0.7435 (0.676
# 0.687 / 0.735 0.752); mirror at 320 px 0.6985 / 0.7525; 288 px 0.6850 / 0.7519; 256 px 0.6943 /
# 0.7561 (0.680 0.709 / 0.749 0.764); 224 px 0.6934 / 0.7518, but at 224 px the model sees the
# wave round the hard-case surfer as the subject (the wave was taken, the surfer lost): below
# 256 px it leaves what it was trained on (320).  Cost at the 2048 px preview (bench/salient_bench.py,
# CPU s, load 7-9): subject 0.81 against 0.48 on one pass, object box 0.82 against 0.54.
# The object box keeps the single pass (``confident_map(mirror=False)``): with the mirror, SOD
# object 0.7435 -> 0.7600 but HumanSeg 0.9112 -> 0.9086 (pair 241, a group of people in front of
# a shop: the mirrored pass at 256 px lights the whole shop front faintly, above THRESHOLD once
# averaged; the region took it: 0.686 -> 0.309; weighting the plain pass 0.6 or 0.67 did not
# help), and the box's 0.357 s would go past 0.5 s.
MIRROR_SIZE = 256


def averaged_map(rgb01: np.ndarray, model: str = MODEL) -> np.ndarray:
    """``raw_map`` averaged with the model's answer on the mirror image at MIRROR_SIZE (see
    above), at ``input_size``: the subject's map (the object box keeps ``raw_map``)."""
    x = model_input(rgb01)
    raw = _run(x, model)
    small = cv2.resize(x[0].transpose(1, 2, 0), (MIRROR_SIZE, MIRROR_SIZE), interpolation=cv2.INTER_AREA)
    mirrored = _run(np.ascontiguousarray(small[:, ::-1].transpose(2, 0, 1)[None]), model)[:, ::-1]
    return 0.5 * (raw + cv2.resize(mirrored, (raw.shape[1], raw.shape[0]), interpolation=cv2.INTER_LINEAR))


def normalise(raw: np.ndarray) -> np.ndarray:
    """U²-Net's per-image min-max normalisation."""
    lo, hi = float(raw.min()), float(raw.max())
    return (raw - lo) / (hi - lo) if hi - lo > 1e-6 else np.zeros_like(raw)


def saliency_map(rgb01: np.ndarray, shape: tuple[int, int] | None = None, model: str = MODEL) -> np.ndarray:
    """Normalised saliency 0..1 at ``shape`` (default: the model's input size)."""
    sal = normalise(averaged_map(rgb01, model))
    if shape is not None and shape != sal.shape:
        sal = cv2.resize(sal, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return sal


# A map whose strongest answer stays below this has no single subject (a beach, a
# texture of fruit, a sunset): on the SOD pairs the 4 photos under 0.3 scored IoU
# 0.01-0.2 whatever the threshold (docs/masks.md, "Subject").
MIN_PEAK = 0.3
# The model's own probability that a pixel belongs to the salient thing passes this level
# on what it is sure of: a map is a probability (sigmoid), and 0.5 is where yes outweighs no.
SURE = 0.5
# A region the model is sure of on less than this share (``certainty``) is a guess, not a
# subject: the main region of a photo with no single subject is made of weak answers, of a
# photo with one mostly of sure ones.  Hard-case set (subject kind at 1024 px / full size):
# city skyline 0.09 / 0.00, ruins with trees and ground 0.08 / 0.13, palm trees on a beach
# 0.54 / 0.47 (the trunk only), Eiffel tower plus ground 0.61 / 0.58; every subject graded
# GOOD 0.74 or more.  0.6 lies in that gap with room for the palm's spread across sizes.
# SOD: 15 % of the photos fall below it, mean IoU 0.41 against 0.73 for the rest
# (docs/masks.md, "Subject and object: speed, no single subject ...").  A map peaking
# below SURE scores 0.
MIN_CERTAINTY = 0.6
# Where the normalised map says "thing": U²-Netp's maps are peaky, the object's
# extremities (legs, a roof, a tail) sit far below 0.5.  SOD subject mean IoU by
# threshold: 0.5 0.639, 0.3 0.663, 0.2 0.673, 0.1 0.683, 0.05 0.684.
THRESHOLD = 0.1
# The binary region is grown this many pixels at the ~320 px grid before the edge
# refinement pulls it back onto the photo's edges: refine_alpha alone erodes thin
# parts (a camel's legs); SOD with refinement: no growth 0.662, 3 px 0.667, 5 px 0.672.
GROW = 5


class Found(NamedTuple):
    """``confident_map``'s answer: the normalised map (None: model missing or no single
    subject), the raw peak, and where the raw map passes SURE on the normalised scale."""
    map: np.ndarray | None
    peak: float
    sure_level: float = 1.0


def confident_map(rgb01: np.ndarray, shape: tuple[int, int], *, mirror: bool = True) -> Found:
    """The normalised map at ``shape``, its raw peak and SURE level; the map is None when
    the model is missing or its peak says the picture holds no single subject (MIN_PEAK).
    ``mirror``: ``averaged_map`` (the subject), else the model's single pass (the object box)."""
    try:
        raw = averaged_map(rgb01) if mirror else raw_map(rgb01)
    except model_store.ModelError:
        return Found(None, 0.0)
    lo, peak = float(raw.min()), float(raw.max())
    if peak < MIN_PEAK:
        return Found(None, peak)
    sal = cv2.resize(normalise(raw), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return Found(sal, peak, (SURE - lo) / max(peak - lo, 1e-6))


def certainty(found: Found, region: np.ndarray) -> float:
    """Share of ``region`` (a binary mask at the map's size) where the model's own
    probability is over SURE: how much of what it returns it is sure of."""
    if found.map is None or not region.any():
        return 0.0
    return float((found.map[region] > found.sure_level).mean())


def main_region(sal: np.ndarray, keep_ratio: float, limit: np.ndarray | None = None) -> np.ndarray:
    """The salient region of a normalised map (at a ~320 px grid) as a binary mask: above
    THRESHOLD (inside ``limit`` when given), main regions kept (others at least ``keep_ratio``
    of the largest), holes filled.  All False when nothing is salient."""
    fg = sal > THRESHOLD
    if limit is not None:
        fg &= limit
    # Holes = background not connected to the frame's outside (a one-pixel border is
    # added first: fill_holes floods from the top-left pixel, which a close-up's subject
    # may cover; the Chelsea cat came out as 97 % of the frame).
    return fill_holes(np.pad(largest_regions(fg, keep_ratio), 1))[1:-1, 1:-1]


def soften(fg: np.ndarray, limit: np.ndarray | None = None) -> np.ndarray:
    """A binary region as the soft coarse matte ``refine_alpha`` snaps to the photo's edges:
    grown by GROW px (kept inside ``limit`` when given) and blurred a little."""
    if not fg.any():
        return np.zeros(fg.shape, np.float32)
    grown = cv2.dilate(fg.astype(np.uint8), np.ones((GROW, GROW), np.uint8)) > 0
    if limit is not None:
        grown &= limit
    return cv2.GaussianBlur(grown.astype(np.float32), (0, 0), 0.7)


def coarse_region(sal: np.ndarray, keep_ratio: float, limit: np.ndarray | None = None) -> np.ndarray:
    """``main_region`` as a soft coarse matte (``soften``)."""
    return soften(main_region(sal, keep_ratio, limit), limit)
