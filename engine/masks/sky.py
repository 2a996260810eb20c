"""The "sky" mask kind: two small sky models fused, then refined on the photo.

Why two models (see models/ and /work/shared/models-upstream/README.md): the
U²-Netp sky model is precise and rarely fires indoors but misses pale or hazy
skies; EGE-UNet catches hazy skies but takes bright walls and ceilings for sky.
Measured on the project's pairs (ADE20K sky incl. indoor negatives, CamVid), a
weighted mean leaning on U²-Netp beats either model, their max, their min and
hysteresis from one into the other (numbers in docs/masks.md).  Specks smaller
than a fraction of a percent of the frame are dropped (a sky is not a few pixels of
a bright lamp), then the matte is refined at full resolution on the photo so branch
and ridge edges follow the pixels rather than the 384 px model grid.
"""
from __future__ import annotations

import cv2
import numpy as np

from maskroom.engine.masks.refine import refine_alpha
from maskroom.engine.masks.registry import MaskInput, MaskResult, register
from maskroom.engine.recipe import MaskComponent

MODEL_U2 = "sky_u2netp"
MODEL_EGE = "sky_ege"
SIZE = 384
# Bump when the fusion or refinement changes: cached rasters are keyed by it.
FUSION_VERSION = "fuse3"
U2_WEIGHT = 0.6
THRESHOLD = 0.5
MIN_REGION = 0.0005  # of the frame: smaller sky specks are noise
MIN_FOUND = 0.001  # less sky than this in total: "no sky"

_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_STD = np.array([0.229, 0.224, 0.225], np.float32)


def _model_store():
    from maskroom.engine.masks import model_store

    return model_store


def _run(name: str, x: np.ndarray) -> np.ndarray:
    sess = _model_store().get_session(name)
    feed = {sess.get_inputs()[0].name: x[None].astype(np.float32)}
    out = sess.run(None, feed)[0]
    return np.asarray(out, np.float32).reshape(SIZE, SIZE)


def model_inputs(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two models' input tensors (CHW) from an sRGB float image of any size."""
    small = cv2.resize(image.astype(np.float32, copy=False), (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    u2 = ((small - _MEAN) / _STD).transpose(2, 0, 1)
    # EGE-UNet as its upstream test program feeds it: a fixed mean/std, then the
    # whole normalised tensor min-max rescaled to 0..255.
    ege = (small * 255.0 - 117.790845) / 64.18484
    lo, hi = float(ege.min()), float(ege.max())
    ege = (ege - lo) / max(hi - lo, 1e-6) * 255.0
    return np.ascontiguousarray(u2), np.ascontiguousarray(ege.transpose(2, 0, 1))


def sky_probabilities(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(U²-Netp, EGE) sky probability at 384x384."""
    u2_in, ege_in = model_inputs(image)
    return np.clip(_run(MODEL_U2, u2_in), 0, 1), np.clip(_run(MODEL_EGE, ege_in), 0, 1)


def fuse(p_u2: np.ndarray, p_ege: np.ndarray, small: np.ndarray | None = None) -> np.ndarray:
    """One sky probability from the two models' (same-size) outputs.

    ``small`` (the photo at the models' size) enables the colour veto: both models
    take plain out-of-focus backgrounds of close-ups for sky.  A region whose mean
    colour is nearly black (a dark backdrop; night skies are given up) or strongly
    magenta/green (flower and foliage bokeh) is dropped.
    """
    p = U2_WEIGHT * p_u2 + (1.0 - U2_WEIGHT) * p_ege
    hard = (p > THRESHOLD).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(hard, connectivity=8)
    if n > 1:
        drop = stats[:, cv2.CC_STAT_AREA] < MIN_REGION * hard.size
        if small is not None:
            drop |= _colour_veto(small, labels, n)
        # A region one model all but rules out is not sky: U²-Netp alone fires on
        # plain ceilings, EGE alone on bright walls (measured on ADE20K negatives).  Small
        # regions are spared: through a window the models often disagree on real sky.
        counts = np.maximum(np.bincount(labels.ravel(), minlength=n), 1)
        for prob in (p_u2, p_ege):
            mean = np.bincount(labels.ravel(), weights=prob.ravel(), minlength=n) / counts
            drop |= (mean < DISAGREE) & (counts > DISAGREE_MIN_AREA * labels.size)
        drop[0] = False
        if drop.any():
            p = np.where(drop[labels], np.minimum(p, THRESHOLD - 0.01), p)
    return p.astype(np.float32)


DISAGREE = 0.1  # a region's mean probability under the other model below this: dropped
DISAGREE_MIN_AREA = 0.01
DARK_SKY = 0.12  # mean sRGB of a region below this is not a (day) sky
TINT = 0.06  # green above both red and blue, or both red and blue above green, by this much


def _colour_veto(small: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    flat = labels.ravel()
    counts = np.maximum(np.bincount(flat, minlength=n), 1)
    mean = np.stack([np.bincount(flat, weights=small[..., c].ravel(), minlength=n) for c in range(3)], 1)
    mean /= counts[:, None]
    r, g, b = mean[:, 0], mean[:, 1], mean[:, 2]
    dark = mean.mean(1) < DARK_SKY
    green = g > np.maximum(r, b) + TINT
    magenta = np.minimum(r, b) > g + TINT
    return dark | green | magenta


def model_version() -> str:
    """Fusion version + both models' versions: the cache key of a sky raster."""
    parts = []
    for name in (MODEL_U2, MODEL_EGE):
        try:
            parts.append(str(_model_store().model_info(name).get("version", "?")))
        except Exception:  # no model store / manifest: derivation will say why
            parts.append("?")
    return "+".join([FUSION_VERSION, *parts])


def sky_alpha(image: np.ndarray, *, refine: bool = True, probs=None) -> tuple[np.ndarray, float]:
    """Full-resolution sky matte of an sRGB float image, and the sky fraction.

    ``probs`` = (U²-Netp, EGE) probabilities when the caller already has them.
    """
    small = cv2.resize(image.astype(np.float32, copy=False), (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    p = fuse(*(probs if probs is not None else sky_probabilities(image)), small=small)
    if (p > THRESHOLD).mean() < MIN_FOUND:
        return np.zeros(image.shape[:2], np.float32), 0.0
    if refine:
        alpha = refine_alpha(image, p)
    else:
        h, w = image.shape[:2]
        alpha = cv2.resize(p, (w, h), interpolation=cv2.INTER_LINEAR)
    return alpha, float((alpha > 0.5).mean())


@register("sky", model=MODEL_U2, model_version=FUSION_VERSION)
def sky(inp: MaskInput, comp: MaskComponent) -> MaskResult:
    alpha, fraction = sky_alpha(inp.image, refine=bool(comp.params.get("refine", True)))
    found = fraction > 0
    return MaskResult(
        alpha=alpha,
        found=found,
        score=fraction,
        model=f"{MODEL_U2}+{MODEL_EGE}",
        model_version=model_version(),
        info={"sky_fraction": fraction},
    )
