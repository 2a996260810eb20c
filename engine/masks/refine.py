"""Edge refinement shared by every AI mask kind.

Models answer at 256..512 px; the photo is 2048 px (preview) or 6000 px (export).
Plain bilinear upsampling of a low-resolution matte gives soft blobs that cut across
branches, hair and fur.  ``refine_alpha`` upsamples a coarse matte to the image and
lets the *photo* decide the edge:

1. bilinear upsample (the prior),
2. a colour guided filter (He, Sun & Tang 2013) computed on a subsampled grid ("fast
   guided filter": coefficients at ~1/4 scale, applied at full scale) so the matte
   takes the local linear colour model of the photo: an edge follows the colour
   edge, a fine branch against sky gets partial alpha instead of a blur,
3. optionally, closed-form alpha matting (pymatting) in the uncertain band at a
   reduced size, for hair and fur when time allows (export, subject/object),
4. outside the boundary band the prior's hard decision is kept, so interiors stay
   clean and the filter cannot leak colour similarity across the image.
"""
from __future__ import annotations

import cv2
import numpy as np

# A change to what refine_alpha returns changes every AI kind's rasters: bump the
# versions of sky (FUSION_VERSION), subject, objects and people with it.

# Guided-filter coefficients are computed at about this long edge; the cost then
# barely grows with the output size (a few full-size multiply-adds).
_COEF_LONG_EDGE = 640


def _box(x: np.ndarray, r: int) -> np.ndarray:
    return cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), normalize=True, borderType=cv2.BORDER_REFLECT)


def guided_filter_coefficients(guide: np.ndarray, src: np.ndarray, r: int, eps: float):
    """Colour guided filter: per-pixel a (HxWx3) and b (HxW) with q = a.I + b."""
    return _coefficients(guide_statistics(guide, r, eps), src, r)


def guide_statistics(guide: np.ndarray, r: int, eps: float) -> tuple:
    """The guide's own half of the guided filter (its local means and the inverse of its
    regularised local colour covariance): it does not depend on the matte, so a caller
    can compute it while the matte's model still runs (the sky kind does)."""
    guide = guide.astype(np.float32, copy=False)
    mean_i = _box(guide, r)
    # Covariance of the guide (symmetric 3x3 per pixel).
    idx = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))
    var = {}
    for i, j in idx:
        var[i, j] = _box(guide[..., i] * guide[..., j], r) - mean_i[..., i] * mean_i[..., j]
    s00, s01, s02 = var[0, 0] + eps, var[0, 1], var[0, 2]
    s11, s12, s22 = var[1, 1] + eps, var[1, 2], var[2, 2] + eps
    # Closed-form inverse of the symmetric 3x3 (adjugate / determinant): much faster
    # than np.linalg.inv on millions of tiny matrices.
    i00 = s11 * s22 - s12 * s12
    i01 = s02 * s12 - s01 * s22
    i02 = s01 * s12 - s02 * s11
    i11 = s00 * s22 - s02 * s02
    i12 = s01 * s02 - s00 * s12
    i22 = s00 * s11 - s01 * s01
    det = s00 * i00 + s01 * i01 + s02 * i02
    det = np.where(np.abs(det) < 1e-12, 1e-12, det)
    return guide, mean_i, (i00, i01, i02, i11, i12, i22), det


def _coefficients(stats: tuple, src: np.ndarray, r: int):
    guide, mean_i, (i00, i01, i02, i11, i12, i22), det = stats
    src = src.astype(np.float32, copy=False)
    mean_p = _box(src, r)
    mean_ip = _box(guide * src[..., None], r)
    cov_ip = mean_ip - mean_i * mean_p[..., None]
    c0, c1, c2 = cov_ip[..., 0], cov_ip[..., 1], cov_ip[..., 2]
    a = np.stack(
        [
            (i00 * c0 + i01 * c1 + i02 * c2) / det,
            (i01 * c0 + i11 * c1 + i12 * c2) / det,
            (i02 * c0 + i12 * c1 + i22 * c2) / det,
        ],
        axis=-1,
    ).astype(np.float32)
    b = mean_p - np.einsum("hwc,hwc->hw", a, mean_i)
    return _box(a, r), _box(b.astype(np.float32), r)


def guided_upsample(image: np.ndarray, matte: np.ndarray, *, radius: int, eps: float, coef_edge: int) -> np.ndarray:
    """``matte`` (any size) at ``image``'s size with its soft edge snapped to the photo.

    A colour guided filter whose coefficients are computed at <= ``coef_edge`` px
    (``radius`` in pixels of that grid) and applied at full resolution, q = a.I + b
    (the fast guided filter's idea): the edge follows the photo's detail instead of
    the model grid's blur.  Only where the bilinearly upsampled matte is soft (and a
    radius around it) is q used; elsewhere the matte stays as it was, so background
    texture (lettering behind a head) cannot leak into a sure area.
    """
    h, w = image.shape[:2]
    guide = image.astype(np.float32, copy=False)
    up = upsample(matte, (h, w))
    s = min(1.0, coef_edge / max(h, w))
    sw, sh = max(2, int(round(w * s))), max(2, int(round(h * s)))
    g = cv2.resize(guide, (sw, sh), interpolation=cv2.INTER_AREA) if s < 1 else guide
    m = cv2.resize(up, (sw, sh), interpolation=cv2.INTER_AREA) if s < 1 else up
    a, b = guided_filter_coefficients(g, m, radius, eps)
    # Where q counts: the soft part of the matte, grown by the radius and faded out
    # over it (a hard switch would draw the coefficient grid's stairs into the matte).
    soft = cv2.dilate(((m > 0.02) & (m < 0.98)).astype(np.float32), np.ones((2 * radius + 1,) * 2, np.uint8))
    soft = _box(soft, radius)
    if s < 1:
        a = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
        b = cv2.resize(b, (w, h), interpolation=cv2.INTER_LINEAR)
        soft = cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR)
    q = _apply_linear(a, b, guide)
    np.clip(q, 0.0, 1.0, out=q)
    return up + soft * (q - up)


def upsample(alpha: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    alpha = alpha.astype(np.float32, copy=False)
    if alpha.shape == (h, w):
        return alpha
    return cv2.resize(alpha, (w, h), interpolation=cv2.INTER_LINEAR)


def boundary_band(hard: np.ndarray, width: int) -> np.ndarray:
    """Pixels within ``width`` of the edge of a binary mask."""
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1, 2 * width + 1))
    m = hard.astype(np.uint8)
    return cv2.dilate(m, k) != cv2.erode(m, k)


def _local_colours(image: np.ndarray, known: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean colour of the ``known`` pixels around each pixel, and how many there were."""
    k = known.astype(np.float32)
    count = _box(k, r)
    mean = _box(image * k[..., None], r) / np.maximum(count, 1e-6)[..., None]
    return mean, count


def colour_projection(image: np.ndarray, fg: np.ndarray, bg: np.ndarray, radius: int, scale: float):
    """Alpha from the local foreground/background colours (a cheap colour-line matte).

    Each pixel is projected onto the segment between the mean colour of the nearby
    sure-foreground and sure-background pixels.  Returns the alpha estimate and a
    0..1 confidence (low where the two colours are alike or samples are missing).
    The local colours are smooth, so they are computed at ``scale`` and upsampled.
    """
    h, w = fg.shape
    if scale < 1.0:
        sw, sh = max(2, int(round(w * scale))), max(2, int(round(h * scale)))
        img_s = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA)
        fg_s = cv2.resize(fg.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_NEAREST)
        bg_s = cv2.resize(bg.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_NEAREST)
        r = max(1, int(round(radius * scale)))
    else:
        img_s, fg_s, bg_s, r = image, fg, bg, radius
    f_col, f_n = _local_colours(img_s, fg_s, r)
    b_col, b_n = _local_colours(img_s, bg_s, r)
    d = f_col - b_col
    d2 = np.einsum("hwc,hwc->hw", d, d)
    # Confidence: distinct colours (>= ~0.12 apart in sRGB) and samples on both sides.
    conf = np.clip(np.sqrt(d2) / 0.12, 0, 1) * np.clip(np.minimum(f_n, b_n) * 200, 0, 1)
    if scale < 1.0:
        b_col = cv2.resize(b_col, (w, h), interpolation=cv2.INTER_LINEAR)
        d = cv2.resize(d, (w, h), interpolation=cv2.INTER_LINEAR)
        d2 = cv2.resize(d2, (w, h), interpolation=cv2.INTER_LINEAR)
        conf = cv2.resize(conf, (w, h), interpolation=cv2.INTER_LINEAR)
    est = np.einsum("hwc,hwc->hw", image - b_col, d) / np.maximum(d2, 1e-6)
    return np.clip(est, 0.0, 1.0), conf


class RefineGuide:
    """The photo's side of ``refine_alpha``: the working-size copy of the photo and the
    guided filter's statistics of it, which do not depend on the matte.  Made apart
    from the matte so a kind can prepare it while its model runs."""

    def __init__(self, image: np.ndarray, *, work_edge: int | None = None, radius: int | None = None,
                 eps: float = 1e-3):
        h, w = image.shape[:2]
        long_edge = max(h, w)
        self.image = image.astype(np.float32, copy=False)
        radius = radius or max(2, int(round(long_edge / 400)))
        self.scale = s = min(1.0, (work_edge or _WORK_LONG_EDGE) / long_edge)
        if s < 1.0:
            sw, sh = max(2, int(round(w * s))), max(2, int(round(h * s)))
            self.work = cv2.resize(self.image, (sw, sh), interpolation=cv2.INTER_AREA)
        else:
            self.work = self.image
        self.radius_s = max(1, int(round(radius * s)))
        self.eps = eps
        self._stats: tuple | None = None

    def statistics(self) -> tuple:
        """``guide_statistics`` of the working-size photo (computed once, on first use)."""
        if self._stats is None:
            self._stats = guide_statistics(self.work, self.radius_s, self.eps)
        return self._stats


def refine_alpha(
    image: np.ndarray,
    coarse: np.ndarray,
    *,
    radius: int | None = None,
    eps: float = 1e-3,
    band: int | None = None,
    matting: bool = False,
    work_edge: int | None = None,
    uncertain: tuple[float, float] | None = None,
    window: bool = False,
    prepared: RefineGuide | None = None,
) -> np.ndarray:
    """A full-resolution matte for ``image`` from a coarse (any-size) ``coarse`` matte.

    ``radius`` and ``band`` are in full-resolution pixels (defaults scale with the
    image and with how coarse the matte is: a 384 px matte on a 2048 px photo is
    uncertain over ~5 photo pixels per matte pixel, so the band must cover that).
    ``eps`` trades edge sharpness (small) for smoothness (large).  Returns float32
    HxW in 0..1.

    Speed: every decision (band, local colours, projection, guided-filter
    coefficients) is made at a working size of at most ``work_edge`` (default
    ``_WORK_LONG_EDGE``); only
    the final linear colour model q = a.I + b is applied at full resolution, and
    only in the rows that hold the band.  The detail of a thin branch therefore
    still comes from the full-resolution photo (the fast guided filter's idea).

    ``window=True`` makes the band's decisions only in the working-size box round the
    band (plus the reach of the local colours and the filters) and applies q only in the
    full-size box round it: a subject's outline covers a part of the frame.  The same
    matte but for the local colours' coarser grid, whose phase moves with the window
    (at 2048 px: IoU@0.5 0.995-0.9998 against the whole-frame answer; at most 0.01
    apart where that grid is the working one); 2-4x cheaper on a subject's outline.
    Opt-in because it changes the rasters of the kinds that use it (their versions key them).
    ``prepared``: ``RefineGuide(image, ...)`` made beforehand (its ``work_edge``,
    ``radius`` and ``eps`` then apply); the same matte as without it.
    """
    h, w = image.shape[:2]
    long_edge = max(h, w)
    factor = long_edge / max(coarse.shape[:2])  # photo pixels per matte pixel
    band = band or max(3, int(round(max(long_edge / 150, 2.5 * factor))))
    if prepared is None:
        prepared = RefineGuide(image, work_edge=work_edge, radius=radius, eps=eps)
    elif prepared.image.shape != image.shape:
        raise ValueError(f"refine_alpha: guide prepared for {prepared.image.shape}, image is {image.shape}")
    guide, img_s, s, radius_s = prepared.image, prepared.work, prepared.scale, prepared.radius_s
    prior_s = upsample(coarse, img_s.shape[:2])
    hard_s = prior_s > 0.5
    if not hard_s.any() or hard_s.all():
        return np.full((h, w), float(hard_s.flat[0]), np.float32)
    band_s = max(2, int(round(band * s)))
    in_band_s = boundary_band(hard_s, band_s)
    if uncertain is not None:
        # Where the model hesitates (a crown of fine twigs, fronds against the sky: the
        # 384 px model grid sees a grey mix there) the photo decides too, not only near
        # the hard edge: otherwise the crown comes back as a solid hull.
        lo, hi = uncertain
        in_band_s |= (prior_s > lo) & (prior_s < hi)
    if window:
        return _refine_window(guide, img_s, prior_s, hard_s, in_band_s, band_s, radius_s, eps, matting)
    sure_fg = hard_s & ~in_band_s
    sure_bg = ~hard_s & ~in_band_s
    est, conf = colour_projection(img_s, sure_fg, sure_bg, 3 * band_s, min(1.0, _COEF_LONG_EDGE / max(img_s.shape[:2])))
    # Where colours separate, trust the photo; elsewhere keep the model's prior.
    mixed = conf * est + (1.0 - conf) * prior_s
    if matting:
        mixed = _matting_prior(img_s, mixed, hard_s, band_s)
    # A small guided filter removes pixel noise from the projection while keeping
    # the edge where the photo has it; its coefficients live at the working size.
    a, b = _coefficients(prepared.statistics(), mixed, radius_s)
    # The photo's answer q = a.I + b counts in the band, fading out over its outer
    # rim (~one working pixel) into the hard decision outside: where q is not quite 0
    # or 1 at the band's edge, a hard switch drew the working grid's stairs into the
    # matte (hair against lettered boards, a sleeve against rock).
    fade = cv2.GaussianBlur(in_band_s.astype(np.float32), (0, 0), 1.0)
    if s >= 1.0:
        out = hard_s.astype(np.float32)
        soft = np.clip(_apply_linear(a, b, guide), 0.0, 1.0)
        return out + fade * (soft - out)
    # Away from the band the working-size decision is the decision (the band is at
    # least two working pixels wide on each side of every edge): one nearest upsample
    # of it gives the full-size layout there.
    out = cv2.resize(hard_s.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(np.float32)
    # q at full resolution, only in the rows the band (and its fade) reaches: a sky
    # line or a subject outline spans a fraction of the frame's height.
    rows = np.flatnonzero((fade > 1e-3).any(axis=1))
    y0 = max(0, int(np.floor(rows[0] / s)) - 1)
    y1 = min(h, int(np.ceil((rows[-1] + 1) / s)) + 1)
    # Three- and two-channel images: OpenCV's resize is vectorised for up to four
    # channels and several times slower on the five of (a, b, fade) stacked.
    a_full = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)[y0:y1]
    b_fade = cv2.resize(np.dstack([b, fade]), (w, h), interpolation=cv2.INTER_LINEAR)[y0:y1]
    soft = _apply_linear(a_full, b_fade[..., 0], guide[y0:y1])
    np.clip(soft, 0.0, 1.0, out=soft)
    band = out[y0:y1]
    band += b_fade[..., 1] * (soft - band)
    return out


def _bbox(mask: np.ndarray, margin: int) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1) of a mask's True pixels grown by ``margin``, cut to the frame."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    h, w = mask.shape
    return (max(0, rows[0] - margin), min(h, rows[-1] + 1 + margin),
            max(0, cols[0] - margin), min(w, cols[-1] + 1 + margin))


def _refine_window(guide, img_s, prior_s, hard_s, in_band_s, band_s, radius_s, eps, matting) -> np.ndarray:
    """refine_alpha's band work (``window=True``) in the box round the band only."""
    h, w = guide.shape[:2]
    sh, sw = hard_s.shape
    # What a band pixel's answer depends on: the local colours (radius 3 band_s), the
    # guided filter's two box passes (2 radius_s) and the fade's blur (3 px).
    y0, y1, x0, x1 = _bbox(in_band_s, 3 * band_s + 2 * radius_s + 4)
    win = np.s_[y0:y1, x0:x1]
    img_w, prior_w, hard_w, band_w = img_s[win], prior_s[win], hard_s[win], in_band_s[win]
    est, conf = colour_projection(img_w, hard_w & ~band_w, ~hard_w & ~band_w, 3 * band_s,
                                  min(1.0, _COEF_LONG_EDGE / max(sh, sw)))
    mixed = conf * est + (1.0 - conf) * prior_w
    if matting:
        mixed = _matting_prior(img_w, mixed, hard_w, band_s)
    a, b = guided_filter_coefficients(img_w, mixed.astype(np.float32, copy=False), radius_s, eps)
    fade = cv2.GaussianBlur(band_w.astype(np.float32), (0, 0), 1.0)
    if (sh, sw) == (h, w):
        out = hard_s.astype(np.float32)
        soft = np.clip(_apply_linear(a, b, guide[win]), 0.0, 1.0)
        out[win] += fade * (soft - out[win])
        return out
    out = cv2.resize(hard_s.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(np.float32)
    # The full-size box the fade reaches, and the window's coefficients resampled onto it
    # exactly as a resize of the whole working grid would (pixel centres: x_s = (X + 0.5)
    # sw / w - 0.5).
    fy0, fy1, fx0, fx1 = _bbox(fade > 1e-3, 0)
    ky, kx = sh / h, sw / w
    Y0, Y1 = max(0, int(np.floor((fy0 + y0) / ky)) - 1), min(h, int(np.ceil((fy1 + y0) / ky)) + 1)
    X0, X1 = max(0, int(np.floor((fx0 + x0) / kx)) - 1), min(w, int(np.ceil((fx1 + x0) / kx)) + 1)
    m = np.array([[kx, 0, (X0 + 0.5) * kx - 0.5 - x0], [0, ky, (Y0 + 0.5) * ky - 0.5 - y0]], np.float64)
    size = (X1 - X0, Y1 - Y0)
    flags, border = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, cv2.BORDER_REPLICATE
    a_full = cv2.warpAffine(a, m, size, flags=flags, borderMode=border)
    b_fade = cv2.warpAffine(np.dstack([b, fade]), m, size, flags=flags, borderMode=border)
    soft = _apply_linear(a_full, b_fade[..., 0], guide[Y0:Y1, X0:X1])
    np.clip(soft, 0.0, 1.0, out=soft)
    box = out[Y0:Y1, X0:X1]
    box += b_fade[..., 1] * (soft - box)
    return out


def _apply_linear(a: np.ndarray, b: np.ndarray, guide: np.ndarray) -> np.ndarray:
    """q = a.I + b per pixel (a: HxWx3, b: HxW), in OpenCV's vectorised loops (numpy's
    per-plane multiply-adds on the interleaved channels cost ~3x as much at 2048 px)."""
    q = cv2.transform(cv2.multiply(a, guide), _SUM3)
    q += b
    return q


_SUM3 = np.ones((1, 3), np.float32)


# All of refinement's decisions are made at this long edge (see refine_alpha).
_WORK_LONG_EDGE = 768


# Closed-form matting is O(pixels in band) with a sparse solve: run it at this size.
_MATTING_LONG_EDGE = 480


def _matting_prior(image: np.ndarray, prior: np.ndarray, hard: np.ndarray, band: int) -> np.ndarray:
    """Closed-form matting in the uncertain band, at reduced size, as a better prior."""
    from pymatting import estimate_alpha_cf  # lazy: pymatting JIT-compiles with numba on import (seconds)

    h, w = prior.shape
    scale = min(1.0, _MATTING_LONG_EDGE / max(h, w))
    sw, sh = max(8, int(round(w * scale))), max(8, int(round(h * scale)))
    img_s = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA).astype(np.float64)
    hard_s = cv2.resize(hard.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_NEAREST).astype(bool)
    band_s = boundary_band(hard_s, max(2, int(round(band * scale))))
    trimap = np.where(hard_s, 1.0, 0.0)
    trimap[band_s] = 0.5
    if (trimap == 1.0).sum() < 4 or (trimap == 0.0).sum() < 4:
        return prior
    try:
        alpha_s = estimate_alpha_cf(img_s, trimap, laplacian_kwargs={"epsilon": 1e-6}, cg_kwargs={"maxiter": 300})
    except Exception:  # a degenerate trimap: keep the prior rather than fail the mask
        return prior
    alpha = upsample(alpha_s.astype(np.float32), (h, w))
    in_band = boundary_band(hard, band)
    out = prior.copy()
    out[in_band] = alpha[in_band]
    return out
