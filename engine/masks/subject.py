"""The "subject" and "background" mask kinds.

When the salient-object pack is installed (``maskroom models install salient_object``)
its matte is the subject.  Otherwise the subject is found the classical way, at a
~320 px working size:

* saliency = a blend of (a) the minimum barrier distance to the image border
  (Zhang et al. 2015: how high a "wall" of colour change separates a pixel from
  the border; the border is usually background), (b) colour distinctness from the
  border strips in Lab, (c) the spectral-residual saliency of Hou & Zhang 2007 and
  (d) a soft centre prior;
* a focus cue: when the photo has a sharp subject on a blurred background (depth of
  field, measured as the sharpest local Laplacian energy against the border's), the
  saliency is damped where the photo is out of focus;
* sky is never the subject: the sky models' probability damps the saliency;
* GrabCut, seeded by that saliency (sure background at the border and in the least
  salient pixels, probable foreground in the most salient ones), turns the blurry
  saliency into a region that follows colour edges; a result that floods the frame
  (most of the border or most of the frame) is asked again with a tighter seed;
* the largest region (plus any other region at least a third its size) is kept;
* when people dominate the frame (the people module is installed, finds people and
  its person matte covers enough of the frame) the subject is the people;
* the matte is refined at full resolution with ``refine_alpha``.

Weights and thresholds were chosen by mean IoU on the SOD pairs (docs/masks.md).
"background" is the complement of the subject.
"""
from __future__ import annotations

import cv2
import numpy as np

from maskroom.core.recipe import MaskComponent
from maskroom.engine.masks import packs, salient, sky
from maskroom.engine.masks.model_store import ModelError
from maskroom.engine.masks.people import SEGMENTER as PEOPLE_MODEL
from maskroom.engine.masks.people import VERSION as PEOPLE_VERSION
from maskroom.engine.masks.people import all_people_alpha
from maskroom.engine.masks.refine import refine_alpha
from maskroom.engine.masks.regions import fill_holes, largest_regions
from maskroom.engine.masks.registry import MaskInput, MaskResult, matte_result, register

PACK = "salient_object"  # its version keys the raster cache: installing the pack re-derives
# The subject is the people when they dominate (people_alpha): the people module's
# code version and its person model key the raster cache too.
VERSION = f"salient5+classic5+{PEOPLE_VERSION}"  # salient5: map averaged with the mirror image
WORK = 320
FOCUS_WORK = 640  # focus is judged at this long edge: a 2048 px photo's blur is gone at 320 px
PEOPLE_MIN_FRACTION = 0.06  # person matte covering this much of the frame = people dominate
MAX_FRACTION = 0.6  # a "subject" larger than this is usually GrabCut flooding the frame
MAX_BORDER = 0.4  # ... and so is one that covers this much of the frame's border
# Saliency blend: barrier distance, border colour distinctness, centre prior, spectral residual.
SALIENCY_WEIGHTS = (0.4, 0.2, 0.3, 0.1)
# Focus separation (log of the sharpest energy over the border's median) from which
# the focus cue starts to count, over which it reaches its full weight, and that weight.
FOCUS_FROM, FOCUS_SPAN, FOCUS_WEIGHT = 1.0, 1.5, 0.6


def _to_work(image: np.ndarray, long_edge: int | None = None) -> np.ndarray:
    h, w = image.shape[:2]
    s = (long_edge or WORK) / max(h, w)
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


def minimum_barrier(image: np.ndarray, passes: int = 2) -> np.ndarray:
    """Minimum barrier distance of each pixel to the image border (Zhang et al. 2015).

    A path's barrier is its highest minus its lowest value; the distance is the
    smallest barrier over all paths to the border, per channel, summed.  Computed by
    raster scans down, right, up and left (each pass vectorised along the other
    axis); two rounds settle all but the most winding paths.
    """
    h, w = image.shape[:2]
    img = image.astype(np.float32).reshape(h, w, -1)
    dist = np.full(img.shape, np.inf, np.float32)
    dist[0] = dist[-1] = dist[:, 0] = dist[:, -1] = 0.0
    hi, lo = img.copy(), img.copy()

    def relax(d, u, l, dn, un, ln, v):  # pixels in d/u/l, their neighbours in dn/un/ln
        nu, nl = np.maximum(un, v), np.minimum(ln, v)
        cand = nu - nl
        better = cand < d
        d[better], u[better], l[better] = cand[better], nu[better], nl[better]

    for _ in range(passes):
        for i in range(1, h):
            relax(dist[i], hi[i], lo[i], dist[i - 1], hi[i - 1], lo[i - 1], img[i])
        for j in range(1, w):
            relax(dist[:, j], hi[:, j], lo[:, j], dist[:, j - 1], hi[:, j - 1], lo[:, j - 1], img[:, j])
        for i in range(h - 2, -1, -1):
            relax(dist[i], hi[i], lo[i], dist[i + 1], hi[i + 1], lo[i + 1], img[i])
        for j in range(w - 2, -1, -1):
            relax(dist[:, j], hi[:, j], lo[:, j], dist[:, j + 1], hi[:, j + 1], lo[:, j + 1], img[:, j])
    return dist.sum(axis=2)


def focus(image: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, float]:
    """(in-focus map 0..1 at ``shape``, focus separation) of a photo at <= FOCUS_WORK px.

    Local Laplacian energy is high where the photo is sharp.  The separation is the
    log ratio of the sharpest energy (98th percentile) to the border's median: ~0.5
    for a photo sharp everywhere, 2-3 for a subject on a blurred background.
    """
    gray = cv2.cvtColor(image.astype(np.float32, copy=False), cv2.COLOR_RGB2GRAY)
    lap = np.abs(cv2.Laplacian(gray, cv2.CV_32F, ksize=3))
    energy = cv2.GaussianBlur(lap, (0, 0), 0.02 * max(gray.shape))
    h, w = energy.shape
    b = max(2, min(h, w) // 10)
    border = np.concatenate([energy[:b].ravel(), energy[-b:].ravel(), energy[:, :b].ravel(), energy[:, -b:].ravel()])
    # a flat photo (a grey card, a blank frame) has no energy at all: no log(0) warning
    separation = float(np.log(max(float(np.percentile(energy, 98)), 1e-6) / (np.median(border) + 1e-4)))
    small = cv2.resize(energy, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    return _normalise(np.log(small + 1e-4)), separation


def sky_probability(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray | None:
    """Sky probability at ``shape`` from the EGE-UNet sky model (None without it).

    Only EGE: it is 20x cheaper than U²-Netp (0.03 s against 0.7 s of CPU at 384 px)
    and, as a damper of subject saliency, scored within 0.002 IoU of the sky kind's
    fusion of both on SOD.  EGE also takes a plain flat-coloured thing for sky (a
    petal, a wall), so only regions that reach the top of the frame count: a sky
    that does not touch the top edge is rare, a subject that fills it is rarer.
    """
    try:
        p = np.clip(sky._run(sky.MODEL_EGE, sky.ege_input(sky.model_size(image))), 0, 1)
    except ModelError:
        return None
    n, labels = cv2.connectedComponents((p > 0.5).astype(np.uint8), connectivity=8)
    top = np.unique(labels[: max(1, p.shape[0] // 20)])
    p[(labels > 0) & ~np.isin(labels, top)] = 0.0
    return cv2.resize(p, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def saliency(image: np.ndarray, *, in_focus: tuple[np.ndarray, float] | None = None,
             sky: np.ndarray | None = None) -> np.ndarray:
    """Blended saliency in 0..1 at the image's (working) size.

    ``in_focus`` = ``focus()``'s answer and ``sky`` = the sky probability, both at the
    image's size, when the caller has them (the subject kind does; a crop does not).
    """
    h, w = image.shape[:2]
    lab = cv2.cvtColor(image.astype(np.float32), cv2.COLOR_RGB2LAB)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    centre = np.exp(-(((xx / w - 0.5) / 0.35) ** 2 + ((yy / h - 0.5) / 0.4) ** 2) / 2)
    # The barrier distance at half the working size (it is smooth; 4x cheaper), on
    # Lab scaled to comparable ranges.
    half = cv2.resize(lab, (max(8, w // 2), max(8, h // 2)), interpolation=cv2.INTER_AREA)
    half = cv2.GaussianBlur(half / np.array([100.0, 128.0, 128.0], np.float32), (0, 0), 0.8)
    barrier = cv2.resize(_normalise(minimum_barrier(half)), (w, h), interpolation=cv2.INTER_LINEAR)
    # Weights from a sweep on SOD pairs (docs/masks.md): the barrier distance is the
    # strongest single cue; the centre prior still matters; spectral residual adds
    # small, textured subjects.
    wb, wc, wp, ws = SALIENCY_WEIGHTS
    sal = wb * barrier + wc * border_contrast(lab) + wp * centre + ws * spectral_residual(image)
    sal = _normalise(cv2.GaussianBlur(sal, (0, 0), 1.0))
    if in_focus is not None:
        sharp, separation = in_focus
        weight = FOCUS_WEIGHT * float(np.clip((separation - FOCUS_FROM) / FOCUS_SPAN, 0, 1))
        if weight > 0:
            sal = _normalise(sal * (1 - weight * (1 - sharp)))
    if sky is not None:
        sal = sal * (1 - np.clip(sky, 0, 1))
    return sal.astype(np.float32)


def grabcut_from_saliency(image: np.ndarray, sal: np.ndarray, iterations: int = 6,
                          thr: float | None = None, converged: float = 0.005) -> np.ndarray:
    """Binary subject mask from a saliency map, snapped to colour edges by GrabCut.

    GrabCut runs one iteration at a time and stops when less than ``converged`` of the
    pixels changed side (SOD: same IoU as a fixed 3-6 iterations, usually 2-3 run).
    """
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
    try:
        return run_grabcut(img8, mask, iterations, converged)
    except cv2.error:
        return sal > thr


def run_grabcut(img8: np.ndarray, mask: np.ndarray, iterations: int, converged: float = 0.005) -> np.ndarray:
    """GrabCut from a seed mask (updated in place), one iteration at a time until fewer than
    ``converged`` of the pixels change side (at most ``iterations``); the foreground as bool.

    Raises cv2.error like cv2.grabCut (e.g. no background or no foreground seed).
    """
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)  # GrabCut seeds k-means from the global RNG: keep masks repeatable
    cv2.grabCut(img8, mask, None, bgd, fgd, 1, cv2.GC_INIT_WITH_MASK)
    fg = (mask & 1).astype(bool)  # GC_FGD = 1, GC_PR_FGD = 3
    for _ in range(iterations - 1):
        cv2.grabCut(img8, mask, None, bgd, fgd, 1, cv2.GC_EVAL)
        now = (mask & 1).astype(bool)
        changed = float((now != fg).mean())
        fg = now
        if changed < converged:
            break
    return fg


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
    """The all-people matte when people dominate the frame (None without the people models)."""
    try:
        res = all_people_alpha(inp)
    except ModelError:
        return None
    if res is None or not res.found:
        return None
    alpha = res.alpha
    if alpha.shape != inp.shape:
        alpha = cv2.resize(alpha, (inp.shape[1], inp.shape[0]), interpolation=cv2.INTER_LINEAR)
    if (alpha > 0.5).mean() < PEOPLE_MIN_FRACTION:
        return None
    return alpha.astype(np.float32)


def border_fraction(mask: np.ndarray) -> float:
    """How much of the frame's outermost pixels the mask covers."""
    return float(np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]]).mean())


def flooded(mask: np.ndarray) -> bool:
    return mask.mean() > MAX_FRACTION or border_fraction(mask) > MAX_BORDER


def subject_alpha(image: np.ndarray, *, refine: bool = True, cues: bool = True) -> np.ndarray:
    """Full-resolution matte of the most salient thing (classical pipeline).

    ``cues=False`` leaves out the focus and sky cues (colour saliency only).
    """
    mid = _to_work(image, FOCUS_WORK)
    work = _to_work(mid)
    shape = work.shape[:2]
    sky = sky_probability(mid, shape) if cues else None
    sal = saliency(work, in_focus=focus(mid, shape) if cues else None, sky=sky)
    # The seed threshold splits the non-sky pixels: with the sky at zero saliency,
    # Otsu would otherwise split "sky" from "everything else" (SOD: +0.003 IoU).
    ground = sal if sky is None or (sky < 0.5).mean() < 0.05 else sal[sky < 0.5]
    thr = max(0.25, min(0.7, _otsu(ground)))
    mask = keep_main_regions(grabcut_from_saliency(work, sal, thr=thr))
    if flooded(mask):
        # GrabCut flooded the frame (subject and background alike in colour): ask
        # again with only the most salient pixels as probable subject.
        retry = keep_main_regions(grabcut_from_saliency(work, sal, thr=float(np.percentile(sal, 80))))
        if retry.any() and (retry.mean() < mask.mean() or border_fraction(retry) < border_fraction(mask)):
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


def work_shape(shape: tuple[int, int], long_edge: int | None = None) -> tuple[int, int]:
    """(height, width) ``_to_work`` gives an image of ``shape`` (without resizing it)."""
    h, w = shape[:2]
    s = (long_edge or WORK) / max(h, w)
    return (h, w) if s >= 1 else (max(8, round(h * s)), max(8, round(w * s)))


def salient_subject_alpha(image: np.ndarray, *, refine: bool = True,
                          found: salient.Found | None = None) -> tuple[np.ndarray | None, float, float]:
    """(matte, peak, certainty) from the shipped U²-Netp salient model; matte None when its
    peak says there is no single subject (``salient.MIN_PEAK``) or the model is missing.
    ``found``: ``salient.confident_map``'s answer at the working size, when the caller has it."""
    found = found if found is not None else salient.confident_map(image, work_shape(image.shape))
    if found.map is None:
        return None, found.peak, 0.0
    h, w = image.shape[:2]
    region = salient.main_region(found.map, 0.05)
    sure = salient.certainty(found, region)
    coarse = salient.soften(region)
    if not refine or not coarse.any():
        return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR), found.peak, sure
    # Refined in the box round the outline only (the rest of the frame is sure either way).
    return refine_alpha(image, coarse, window=True), found.peak, sure


# The person model also answers on things that are no people (a ladybird on a leaf, a rock
# arch, a hut: SOD 35058, 220075, 372047 came out as "people" over 6 % of the frame).  The
# people are the subject only when the salient model sees them too: at least this share of
# their matte lies in its region (or it has no single subject to offer).  SOD subject
# (registry, int8 kept-shape model): people always trusted 0.6745, checked 0.6842.
PEOPLE_AGREE = 0.5


def people_confirmed(people: np.ndarray, found: tuple[np.ndarray | None, float]) -> bool:
    """Whether the salient map (``salient.confident_map`` at the working size) agrees that
    the people matte is what stands out."""
    sal = found[0]
    if sal is None:
        return True
    region = salient.main_region(sal, 0.05)
    p = cv2.resize(people, (sal.shape[1], sal.shape[0]), interpolation=cv2.INTER_AREA) > 0.5
    return not p.any() or int((p & region).sum()) >= PEOPLE_AGREE * int(p.sum())


def _subject_result(inp: MaskInput, comp: MaskComponent) -> MaskResult:
    refine = bool(comp.params.get("refine", True))
    method, alpha, confidence, reason = "classic", None, None, None
    use_salient = comp.params.get("salient", True)
    found = None  # the salient map, once computed
    if comp.params.get("people", True):
        alpha = people_alpha(inp)
        if alpha is not None and use_salient:
            found = salient.confident_map(inp.image, work_shape(inp.image.shape))
            if not people_confirmed(alpha, found):
                alpha = None
        if alpha is not None:
            method = "people"
    if alpha is None and comp.params.get("pack", True) and packs.usable(PACK):
        alpha, method = pack_subject_alpha(inp.image, refine=refine), "pack"
    if alpha is None and use_salient:
        alpha, peak, sure = salient_subject_alpha(inp.image, refine=refine, found=found)
        if alpha is None:
            confidence = round(peak, 2)
            reason = f"no single subject in this photo (salient model peak {peak:.2f}): a guess from colour and focus"
        else:
            method, confidence = "salient", round(sure, 2)
            if sure < salient.MIN_CERTAINTY:
                reason = (f"no single subject in this photo: the salient model is sure of only {sure:.0%} "
                          f"of the region it found (peak {peak:.2f}); check the mask")
    if alpha is None:
        alpha = subject_alpha(inp.image, refine=refine)
    return matte_result(alpha, model=f"subject-{method}", model_version=VERSION, method=method,
                        confidence=confidence, reason=reason, empty="no subject found in this photo")


@register("subject", model=(PACK, salient.MODEL, PEOPLE_MODEL), model_version=VERSION)
def subject(inp: MaskInput, comp: MaskComponent) -> MaskResult:
    return _subject_result(inp, comp)


@register("background", model=(PACK, salient.MODEL, PEOPLE_MODEL), model_version=VERSION)
def background(inp: MaskInput, comp: MaskComponent) -> MaskResult:
    res = _subject_result(inp, comp)
    res.alpha = 1.0 - res.alpha
    res.score = float((res.alpha > 0.5).mean())
    res.found = res.score > 0
    return res
