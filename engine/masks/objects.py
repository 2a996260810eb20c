"""The "object" mask kind: a loose box or lasso refined to the object's edges.

params: ``box`` = [x0, y0, x1, y1] or ``lasso`` = [[x, y], ...], normalised 0..1 of the
displayed image.

* With the ``promptable`` model pack installed (a SAM-family encoder + decoder,
  ``maskroom models install promptable``), the prompt's bounding box goes to the
  pack; its matte is kept inside the prompt (a lasso is a hard limit, grown by a
  small margin so an edge drawn on the object does not cut it) and refined at the
  crop's full resolution.  ``params["pack"] = False`` forces the classical path.
* Otherwise, when the prompt is drawn round people (their person matte lies inside
  it and fills a good part of it), the people module's matte of them
  (``people_in_prompt``); ``params["people"] = False`` skips this.
* Otherwise the prompt seeds GrabCut on a crop around it at a ~320 px working size
  (outside the prompt = sure background, inside = probable foreground) and the
  result is refined at full resolution with ``refine_alpha``.
"""
from __future__ import annotations

import cv2
import numpy as np

from maskroom.core.errors import InvalidValue
from maskroom.core.recipe import MaskComponent
from maskroom.engine.masks import packs, salient
from maskroom.engine.masks.model_store import ModelError
from maskroom.engine.masks.people import SEGMENTER as PEOPLE_MODEL
from maskroom.engine.masks.people import VERSION as PEOPLE_VERSION
from maskroom.engine.masks.people import analyse
from maskroom.engine.masks.people.segmentation import person_probability
from maskroom.engine.masks.refine import refine_alpha
from maskroom.engine.masks.regions import fill_holes, largest_regions
from maskroom.engine.masks.registry import MaskInput, MaskResult, matte_result, register
from maskroom.engine.masks.subject import _otsu, run_grabcut, saliency

PACK = "promptable"
PACK_MODEL = "promptable.encoder"  # its version keys the raster cache: installing the pack re-derives
# A prompt round people takes the people module's matte (people_in_prompt): its code
# version and its person model key the raster cache too.
VERSION = f"salient4+grabcut4+{PEOPLE_VERSION}"  # salient4: every salient thing in the box, 160 px span, window
# GrabCut's working size (long edge of the crop round the prompt) and its stop: at
# most MAX_ITERATIONS, until fewer than CONVERGED of the pixels change side.  The
# edge itself comes from refine_alpha at full resolution.  Measured with a loose
# box (the truth's box + 5 % per side, scripts/eval_pairs.py --sets object):
# 512 px / 4 iterations SOD 0.6427 (0.88 s per pair), HumanSeg 0.7744 (0.56 s);
# 320 px / 4: SOD 0.6439 (0.39 s); 384 px / 4: 0.6465 (0.58 s);
# 320 px converged: SOD 0.6455 (0.38 s), HumanSeg 0.7761 (0.26 s).
WORK = 320
MAX_ITERATIONS, CONVERGED = 6, 0.005


class PromptError(InvalidValue):
    pass


def prompt_polygon(params: dict, w: int, h: int) -> np.ndarray:
    """The prompt as a pixel polygon (Nx2 int32)."""
    if params.get("box") is not None:
        box = [float(v) for v in params["box"]]
        if len(box) != 4:
            raise PromptError("object box needs 4 numbers x0,y0,x1,y1")
        x0, x1 = sorted((box[0], box[2]))
        y0, y1 = sorted((box[1], box[3]))
        pts = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    elif params.get("lasso") is not None:
        pts = [[float(p[0]), float(p[1])] for p in params["lasso"]]
        if len(pts) < 3:
            raise PromptError("object lasso needs at least 3 points")
    else:
        raise PromptError("object mask needs params 'box' [x0,y0,x1,y1] or 'lasso' [[x,y],...]")
    arr = np.clip(np.asarray(pts, np.float64), 0.0, 1.0) * [w - 1, h - 1]
    poly = np.round(arr).astype(np.int32)
    x, y, bw, bh = cv2.boundingRect(poly)
    if bw < 2 or bh < 2:
        raise PromptError("object prompt is too small")
    return poly


def _crop_box(poly: np.ndarray, w: int, h: int) -> tuple[int, int, int, int]:
    """The prompt's bounding box with a margin (so GrabCut sees background on every side)."""
    x, y, bw, bh = cv2.boundingRect(poly)
    m = int(0.15 * max(bw, bh)) + 4
    return max(0, x - m), max(0, y - m), min(w, x + bw + m), min(h, y + bh + m)


def pack_object_alpha(image: np.ndarray, params: dict, *, refine: bool = True) -> np.ndarray:
    """The promptable pack's matte for the prompt, limited to the prompt and refined."""
    h, w = image.shape[:2]
    poly = prompt_polygon(params, w, h)
    x, y, bw, bh = cv2.boundingRect(poly)
    box = [x / w, y / h, (x + bw) / w, (y + bh) / h]
    prob = packs.PromptablePack().predict(image, box=box)
    # The object lies inside the prompt: a lasso is drawn around it, a box too.
    # The limit is grown a little so a prompt edge drawn across the object does not
    # cut it with a hard line, then feathered by the refinement.
    limit = np.zeros((h, w), np.uint8)
    cv2.fillPoly(limit, [poly], 1)
    grow = max(1, int(round(0.02 * max(bw, bh))))
    limit = cv2.dilate(limit, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    prob = prob * limit
    fg = largest_regions(prob > 0.5, 0.2)
    cx0, cy0, cx1, cy1 = _crop_box(poly, w, h)
    out = np.zeros((h, w), np.float32)
    if not fg.any():
        return out
    coarse = np.where(fg, prob, np.minimum(prob, 0.49)).astype(np.float32)
    if not refine:
        return coarse
    out[cy0:cy1, cx0:cx1] = refine_alpha(image[cy0:cy1, cx0:cx1].astype(np.float32, copy=False),
                                         coarse[cy0:cy1, cx0:cx1])
    return out


# The salient model sees the prompt's box grown by this share of its size per side:
# enough surroundings to tell the thing from its background.  SOD, loose box, salient
# crop, no refinement, threshold 0.1: margin 0.1 0.7145, 0.3 0.6994.
SALIENT_MARGIN = 0.1


def salient_object_alpha(image: np.ndarray, params: dict, *, refine: bool = True) -> tuple[np.ndarray | None, float]:
    """(matte, peak) of the salient thing inside the prompt: U²-Netp on the crop round it.

    The matte is None when the model is missing or its peak says the crop holds no
    single thing (then GrabCut answers).  The object lies inside the prompt: the
    region is limited to the prompt grown by 2 % (an edge drawn across the object
    does not cut it) and refined at the crop's full resolution.
    """
    h, w = image.shape[:2]
    poly = prompt_polygon(params, w, h)
    x, y, bw, bh = cv2.boundingRect(poly)
    mx, my = int(SALIENT_MARGIN * bw), int(SALIENT_MARGIN * bh)
    x0, y0, x1, y1 = max(0, x - mx), max(0, y - my), min(w, x + bw + mx), min(h, y + bh + my)
    crop = image[y0:y1, x0:x1].astype(np.float32, copy=False)
    s = min(1.0, WORK / max(crop.shape[:2]))
    cw, ch = max(8, round(crop.shape[1] * s)), max(8, round(crop.shape[0] * s))
    found = salient.confident_map(crop, (ch, cw), mirror=False)  # why one pass: salient.MIRROR_SIZE
    sal, peak = found.map, found.peak
    if sal is None:
        return None, peak
    inside = np.zeros((ch, cw), np.uint8)
    cv2.fillPoly(inside, [np.round((poly - [x0, y0]) * [cw / crop.shape[1], ch / crop.shape[0]]).astype(np.int32)], 1)
    grow = max(1, int(round(0.02 * max(cw, ch))))
    limit = cv2.dilate(inside, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)) > 0
    fg = salient.main_region(sal, 0.2, limit)
    if not fg.any():
        return None, peak
    small = cv2.resize(crop, (cw, ch), interpolation=cv2.INTER_AREA) if s < 1 else crop
    fg = span_box(small, fg, inside, every=salient.main_region(sal, SPECK, limit))
    coarse = salient.soften(fg, limit)
    out = np.zeros((h, w), np.float32)
    if refine:
        out[y0:y1, x0:x1] = refine_alpha(crop, coarse, window=True)
    else:
        out[y0:y1, x0:x1] = cv2.resize(coarse, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    return out, peak


# A loose box is drawn round the whole thing, so the thing spans most of it.  When the
# salient region spans less than this share of the prompt's width or height, the model
# found a small thing inside (one gull of a flock, the cow under the tree, a boat in a
# harbour) rather than the one the box was drawn round: GrabCut then grows it over the
# prompt, the salient region as sure foreground, outside the prompt sure background.
# SOD, loose box (truth + 5 %), refined: without 0.7091, share 0.5 0.7450, 0.6 0.7489,
# 0.7 0.7415, 0.8 0.7360; GrabCut from the box alone (no salient seed) 0.6455.
MIN_SPAN = 0.6


# span_box's GrabCut works at this long edge: its max-flow grew ~13x for 4x the pixels on
# a low-contrast crop (a falcon on sandstone at 320 px: 0.39 CPU s per iteration, at 160 px
# 0.03), and the region it grows is only a seed the refinement snaps to the photo.
SPAN_WORK = 160


# A box drawn round several things (a bird and its chicks, a tree and an animal, three
# pyramids) holds several salient regions, and the main one alone does not span it: all
# of them but specks (regions under this share of the largest) are taken before GrabCut
# grows anything (it filled the background between them).  SOD, loose box, salient path:
# 0.7455 -> 0.7492 (4 photos change: 163014 0.35 -> 0.80, 260058 0.28 -> 0.39, 225017
# 0.67 -> 0.75, 295087 0.71 -> 0.63: a tree's crown is too weak to be a region).
SPECK = 0.02


def _spans(region: np.ndarray, bw: int, bh: int) -> bool:
    _, _, fw, fh = cv2.boundingRect(region.astype(np.uint8))
    return min(fw / bw, fh / bh) >= MIN_SPAN


def span_box(small: np.ndarray, fg: np.ndarray, inside: np.ndarray, every: np.ndarray | None = None) -> np.ndarray:
    """``fg`` (the salient region, working size) when it spans the prompt ``inside`` (same
    size); else ``every`` salient region in it (``fg`` included) when they span it together;
    else GrabCut's region seeded by them (MIN_SPAN), which always contains ``fg``."""
    _, _, bw, bh = cv2.boundingRect(inside)
    if _spans(fg, bw, bh):
        return fg
    if every is not None:
        fg = fg | every
        if _spans(fg, bw, bh):
            return fg
    h, w = fg.shape
    s = min(1.0, SPAN_WORK / max(h, w))
    size = (max(8, round(w * s)), max(8, round(h * s)))
    if s < 1:
        small = cv2.resize(small, size, interpolation=cv2.INTER_AREA)
        inside_s = cv2.resize(inside, size, interpolation=cv2.INTER_NEAREST)
        fg_s = cv2.resize(fg.astype(np.uint8), size, interpolation=cv2.INTER_AREA) > 0  # thin parts stay seeds
    else:
        inside_s, fg_s = inside, fg
    mask = np.where(inside_s > 0, cv2.GC_PR_FGD, cv2.GC_BGD).astype(np.uint8)
    mask[fg_s] = cv2.GC_FGD
    if (mask == cv2.GC_BGD).sum() < 16:  # the prompt is the whole crop: no background to learn
        return fg
    try:
        grown = run_grabcut((np.clip(small, 0, 1) * 255).astype(np.uint8), mask, MAX_ITERATIONS, CONVERGED)
    except cv2.error:
        return fg
    grown = fill_holes(np.pad(largest_regions(grown, 0.2), 1))[1:-1, 1:-1]
    if s < 1:
        grown = cv2.resize(grown.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) > 0.5
    return (grown & (inside > 0)) | fg


def object_alpha(image: np.ndarray, params: dict, *, refine: bool = True) -> np.ndarray:
    """The classical path: GrabCut seeded by the prompt on a crop around it."""
    h, w = image.shape[:2]
    poly = prompt_polygon(params, w, h)
    cx0, cy0, cx1, cy1 = _crop_box(poly, w, h)
    crop = image[cy0:cy1, cx0:cx1].astype(np.float32, copy=False)
    s = min(1.0, WORK / max(crop.shape[:2]))
    cw, ch = max(8, round(crop.shape[1] * s)), max(8, round(crop.shape[0] * s))
    small = cv2.resize(crop, (cw, ch), interpolation=cv2.INTER_AREA) if s < 1 else crop
    spoly = np.round((poly - [cx0, cy0]) * [cw / crop.shape[1], ch / crop.shape[0]]).astype(np.int32)
    inside = np.zeros((ch, cw), np.uint8)
    cv2.fillPoly(inside, [spoly], 1)
    mask = np.where(inside > 0, cv2.GC_PR_FGD, cv2.GC_BGD).astype(np.uint8)
    img8 = (np.clip(small, 0, 1) * 255).astype(np.uint8)
    if (mask == cv2.GC_BGD).sum() < 16:  # prompt covers the whole image: nothing to learn from
        fg = inside.astype(bool)
    else:
        try:
            fg = run_grabcut(img8, mask, MAX_ITERATIONS, CONVERGED)
        except cv2.error:
            fg = inside.astype(bool)
    if fg.sum() < 0.03 * inside.sum():
        # GrabCut gave the whole prompt to the background (object and surroundings
        # alike in colour): seed it with saliency inside the prompt instead.
        fg = _saliency_seeded(img8, small, inside)
    fg = largest_regions(fg, 0.2)
    coarse = np.zeros((h, w), np.float32)
    up = cv2.resize(fg.astype(np.float32), (cx1 - cx0, cy1 - cy0), interpolation=cv2.INTER_LINEAR)
    coarse[cy0:cy1, cx0:cx1] = up
    if not refine or not fg.any():
        return coarse
    # Refine only the crop (the object never leaves it), at the crop's full resolution.
    sub = refine_alpha(crop, fg.astype(np.float32))
    out = np.zeros((h, w), np.float32)
    out[cy0:cy1, cx0:cx1] = sub
    return out


def _saliency_seeded(img8: np.ndarray, small: np.ndarray, inside: np.ndarray) -> np.ndarray:
    sal = saliency(small)
    inner = sal[inside > 0]
    thr = _otsu(inner) if inner.size else 1.0
    mask = np.full(inside.shape, cv2.GC_BGD, np.uint8)
    mask[inside > 0] = cv2.GC_PR_BGD
    mask[(inside > 0) & (sal > thr)] = cv2.GC_PR_FGD
    if not (mask == cv2.GC_PR_FGD).any():
        return inside.astype(bool)
    try:
        fg = run_grabcut(img8, mask, 3, 0.0)
    except cv2.error:
        return (inside > 0) & (sal > thr)
    return fg if fg.any() else (inside > 0) & (sal > thr)


# A box or lasso drawn round a person: the people module's matte of everyone whose
# matte lies at least PEOPLE_INSIDE inside the (grown) prompt, if they fill at least
# PEOPLE_MIN_SHARE of it.  A box round a hat or a bag on someone leaves most of that
# person outside, so GrabCut still answers there.  Measured with the loose truth
# boxes (scripts/eval_pairs.py --sets object): GrabCut alone SOD 0.6455, HumanSeg
# 0.7761; people first SOD 0.6562, HumanSeg 0.9107 (share 0.3: 0.6549 / 0.9006,
# 0.4: 0.6520 / 0.8603).  What it loses: what the person rides, wears or carries
# when that is part of the object (SOD: a rider's horse 0.87 -> 0.63, a hat 0.88 ->
# 0.36); GrabCut seeded with the people as sure foreground to get those back floods
# the box instead (SOD 0.6470, HumanSeg 0.7922).
PEOPLE_INSIDE = 0.8
PEOPLE_MIN_SHARE = 0.15


PEOPLE_GLANCE = (0.25, 0.05)  # person probability, share of the prompt: below, no one to look for


def _may_hold_people(image: np.ndarray, poly: np.ndarray) -> bool:
    """The person model's quick look (its sliding squares on a small copy: no faces at
    several turns, no bodies, no pose): is some of the prompt person-like?  The full
    people analysis, most of an object box's time on a street photo, runs only then.
    Lenient on purpose (the analysis wants people on 15 % of the prompt, at 0.5)."""
    h, w = image.shape[:2]
    p = person_probability(image)
    ph, pw = p.shape
    inside = np.zeros((ph, pw), np.uint8)
    cv2.fillPoly(inside, [np.round(poly * (pw / w, ph / h)).astype(np.int32)], 1)
    inside = inside > 0
    return bool(inside.any()) and float((p[inside] > PEOPLE_GLANCE[0]).mean()) >= PEOPLE_GLANCE[1]


def people_in_prompt(inp: MaskInput, params: dict) -> np.ndarray | None:
    """The matte of the people the prompt is drawn round, or None."""
    h, w = inp.shape
    poly = prompt_polygon(params, w, h)
    try:
        if not _may_hold_people(inp.image, poly) or not (a := analyse(inp)).people:
            return None
    except ModelError:
        return None
    _, _, bw, bh = cv2.boundingRect(poly)
    limit = np.zeros((h, w), np.float32)
    cv2.fillPoly(limit, [poly], 1.0)
    grow = max(1, int(round(0.02 * max(bw, bh))))
    limit = cv2.GaussianBlur(cv2.dilate(limit, np.ones((2 * grow + 1,) * 2, np.uint8)), (0, 0), grow / 2)
    everyone = a.all_alpha()
    out = np.zeros((h, w), np.float32)
    for person in a.people:
        matte = everyone * a.membership(person)
        total = float(matte.sum())
        if total > 0 and float((matte * limit).sum()) >= PEOPLE_INSIDE * total:
            out = np.maximum(out, matte * limit)
    if (out > 0.5).sum() < PEOPLE_MIN_SHARE * float((limit > 0.5).sum()):
        return None
    return out


@register("object", model=(PACK_MODEL, salient.MODEL, PEOPLE_MODEL), model_version=VERSION)
def object_kind(inp: MaskInput, comp: MaskComponent) -> MaskResult:
    refine = bool(comp.params.get("refine", True))
    alpha, confidence, reason = None, None, None
    if comp.params.get("pack", True) and packs.usable(PACK):
        alpha, method = pack_object_alpha(inp.image, comp.params, refine=refine), "promptable"
    elif comp.params.get("people", True) and (people := people_in_prompt(inp, comp.params)) is not None:
        alpha, method = people, "people"
    elif comp.params.get("salient", True):
        alpha, peak = salient_object_alpha(inp.image, comp.params, refine=refine)
        confidence, method = round(peak, 2), "salient"
        if alpha is None:
            reason = f"no single thing in the box (salient model peak {peak:.2f}): a guess from colour"
    if alpha is None:
        alpha, method = object_alpha(inp.image, comp.params, refine=refine), "grabcut"
    return matte_result(alpha, model=f"object-{method}", model_version=VERSION, method=method,
                        confidence=confidence, reason=reason, empty="nothing found inside the box")
