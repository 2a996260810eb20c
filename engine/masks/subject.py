"""The "subject" and "background" mask kinds.

No general salient-object model could be shipped (see models-upstream README), so the
subject is found the classical way, at a ~320 px working size:

* saliency = a blend of (a) colour distinctness from the image border, in Lab (the
  border is usually background: the "boundary prior"), (b) the spectral-residual
  saliency of Hou & Zhang 2007, (c) a soft centre prior;
* GrabCut, seeded by that saliency (sure background at the border and in the least
  salient pixels, probable foreground in the most salient ones), turns the blurry
  saliency into a region that follows colour edges;
* the largest region (plus any other region at least a third its size) is kept;
* when people dominate the frame (the people module is installed and its person
  matte covers enough of the frame near the centre) the subject is the people;
* the matte is refined at full resolution with ``refine_alpha``.

"background" is the complement of the subject.
"""
from __future__ import annotations

import cv2
import numpy as np

from maskroom.engine.masks import packs
from maskroom.engine.masks.refine import refine_alpha
from maskroom.engine.masks.regions import fill_holes, largest_regions
from maskroom.engine.masks.registry import MaskInput, MaskResult, register
from maskroom.engine.recipe import MaskComponent

VERSION = "classic3"
PACK = "salient_object"  # its version keys the raster cache: installing the pack re-derives
WORK = 320
PEOPLE_MIN_FRACTION = 0.06  # person matte covering this much of the frame = people dominate
MAX_FRACTION = 0.6  # a "subject" larger than this is usually GrabCut flooding the frame


def _to_work(image: np.ndarray, long_edge: int = WORK) -> np.ndarray:
    h, w = image.shape[:2]
    s = long_edge / max(h, w)
    if s >= 1:
        return image.astype(np.float32, copy=False)
    return cv2.resize(image.astype(np.float32, copy=False), (max(8, round(w * s)), max(8, round(h * s))),
                      interpolation=cv2.INTER_AREA)


def _normalise(x: np.ndarray) -> np.ndarray:
    lo, hi = np.percentile(x, 1), np.percentile(x, 99.5)
    return np.clip((x - lo) / max(hi - lo, 1e-6), 0, 1).astype(np.float32)


def spectral_residual(image: np.ndarray, size: int = 64) -> np.ndarray:
    """Spectral-residual saliency (Hou & Zhang 2007) at the image's size."""
    h, w = image.shape[:2]
    gray = cv2.cvtColor(image.astype(np.float32), cv2.COLOR_RGB2GRAY)
    small = cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA)
    f = np.fft.fft2(small)
    log_amp = np.log(np.abs(f) + 1e-8)
    phase = np.angle(f)
    residual = log_amp - cv2.blur(log_amp.astype(np.float32), (3, 3))
    sal = np.abs(np.fft.ifft2(np.exp(residual + 1j * phase))) ** 2
    sal = cv2.GaussianBlur(sal.astype(np.float32), (0, 0), 2.5)
    return _normalise(cv2.resize(sal, (w, h), interpolation=cv2.INTER_LINEAR))


def border_contrast(lab: np.ndarray, border: int | None = None) -> np.ndarray:
    """How far each pixel's colour is from the border colours (min over 4 sides)."""
    h, w = lab.shape[:2]
    b = border or max(2, min(h, w) // 20)
    smooth = cv2.GaussianBlur(lab, (0, 0), 1.5)
    dists = []
    for strip in (smooth[:b], smooth[-b:], smooth[:, :b], smooth[:, -b:]):
        pix = strip.reshape(-1, 3)
        mean = pix.mean(0)
        cov = np.cov(pix.T) + np.eye(3) * 25.0
        inv = np.linalg.inv(cov)
        d = smooth.reshape(-1, 3) - mean
        dists.append(np.sqrt(np.einsum("ij,jk,ik->i", d, inv, d)).reshape(h, w))
    # A subject differs from every side; one side alike is enough to call it background
    # (the sky side, the floor side).
    return _normalise(np.min(dists, axis=0) + 0.25 * np.mean(dists, axis=0))


def saliency(image: np.ndarray) -> np.ndarray:
    """Blended saliency in 0..1 at the image's (working) size."""
    h, w = image.shape[:2]
    lab = cv2.cvtColor(image.astype(np.float32), cv2.COLOR_RGB2LAB)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    centre = np.exp(-(((xx / w - 0.5) / 0.35) ** 2 + ((yy / h - 0.5) / 0.4) ** 2) / 2)
    # Weights from a sweep on SOD pairs (docs/masks.md): the centre prior matters as
    # much as colour distinctness; spectral residual adds small, textured subjects.
    sal = 0.4 * border_contrast(lab) + 0.2 * spectral_residual(image) + 0.4 * centre
    return _normalise(cv2.GaussianBlur(sal, (0, 0), 1.0))


def grabcut_from_saliency(image: np.ndarray, sal: np.ndarray, iterations: int = 3,
                          thr: float | None = None) -> np.ndarray:
    """Binary subject mask from a saliency map, snapped to colour edges by GrabCut."""
    h, w = sal.shape
    thr = max(0.25, min(0.7, _otsu(sal))) if thr is None else thr
    mask = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    mask[sal > thr] = cv2.GC_PR_FGD
    mask[sal > min(0.95, thr + 0.3)] = cv2.GC_FGD
    mask[sal < thr * 0.4] = cv2.GC_BGD
    b = max(1, min(h, w) // 40)
    edge = np.zeros((h, w), bool)
    edge[:b], edge[-b:], edge[:, :b], edge[:, -b:] = True, True, True, True
    mask[edge & (sal < thr)] = cv2.GC_BGD
    if not (mask == cv2.GC_FGD).any() and not (mask == cv2.GC_PR_FGD).any():
        return np.zeros((h, w), bool)
    img8 = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.setRNGSeed(0)  # GrabCut seeds k-means from the global RNG: keep masks repeatable
        cv2.grabCut(img8, mask, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        return sal > thr
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)


def _otsu(x: np.ndarray) -> float:
    v = (np.clip(x, 0, 1) * 255).astype(np.uint8)
    t, _ = cv2.threshold(v, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return float(t) / 255.0


def keep_main_regions(mask: np.ndarray, ratio: float = 0.33) -> np.ndarray:
    n = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)[0]
    if n <= 2:
        return mask
    # Fill holes: a subject is a solid thing (holes through it come back via refinement).
    return fill_holes(largest_regions(mask, ratio))


def people_alpha(inp: MaskInput) -> np.ndarray | None:
    """The people helper's all-people matte when installed and people dominate."""
    try:
        from maskroom.engine.masks.people import all_people_alpha
    except Exception:
        return None
    try:
        res = all_people_alpha(inp)
    except Exception:
        return None
    if res is None or not res.found:
        return None
    alpha = res.alpha
    if alpha.shape != inp.shape:
        alpha = cv2.resize(alpha, (inp.shape[1], inp.shape[0]), interpolation=cv2.INTER_LINEAR)
    if (alpha > 0.5).mean() < PEOPLE_MIN_FRACTION:
        return None
    return alpha.astype(np.float32)


def subject_alpha(image: np.ndarray, *, refine: bool = True) -> np.ndarray:
    """Full-resolution matte of the most salient thing (classical pipeline)."""
    work = _to_work(image)
    sal = saliency(work)
    mask = keep_main_regions(grabcut_from_saliency(work, sal))
    if mask.mean() > MAX_FRACTION:
        # GrabCut flooded the frame (subject and background alike in colour): ask
        # again with only the most salient pixels as probable subject.
        retry = keep_main_regions(grabcut_from_saliency(work, sal, thr=float(np.percentile(sal, 80))))
        if retry.any() and retry.mean() < mask.mean():
            mask = retry
    coarse = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.7)
    h, w = image.shape[:2]
    if not refine:
        return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)
    return refine_alpha(image, coarse)


def pack_subject_alpha(image: np.ndarray, *, refine: bool = True) -> np.ndarray:
    """The installed salient-object pack's matte (U²-Net family), cleaned and refined.

    The pack answers at its input size (320 px); its probability is the coarse matte:
    specks are dropped like the classical path's and the edge is refined on the photo.
    """
    prob = packs.SalientObjectPack().predict(_to_work(image))
    fg = largest_regions(prob > 0.5, 0.1)
    coarse = np.where(fg, prob, np.minimum(prob, 0.49)).astype(np.float32)
    h, w = image.shape[:2]
    if not fg.any():
        return np.zeros((h, w), np.float32)
    if not refine:
        return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)
    return refine_alpha(image, coarse)


def _subject_result(inp: MaskInput, comp: MaskComponent) -> MaskResult:
    refine = bool(comp.params.get("refine", True))
    method = "classic"
    alpha = None
    if comp.params.get("people", True):
        alpha = people_alpha(inp)
        if alpha is not None:
            method = "people"
    if alpha is None and comp.params.get("pack", True) and packs.usable(PACK):
        alpha, method = pack_subject_alpha(inp.image, refine=refine), "pack"
    if alpha is None:
        alpha = subject_alpha(inp.image, refine=refine)
    fraction = float((alpha > 0.5).mean())
    return MaskResult(alpha=alpha, found=fraction > 0, score=fraction, model=f"subject-{method}",
                      model_version=VERSION, info={"method": method})


@register("subject", model=PACK, model_version=VERSION)
def subject(inp: MaskInput, comp: MaskComponent) -> MaskResult:
    return _subject_result(inp, comp)


@register("background", model=PACK, model_version=VERSION)
def background(inp: MaskInput, comp: MaskComponent) -> MaskResult:
    res = _subject_result(inp, comp)
    res.alpha = 1.0 - res.alpha
    res.score = float((res.alpha > 0.5).mean())
    res.found = res.score > 0
    return res
