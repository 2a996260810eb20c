"""Frame alignment: where does a point of the source frame land on the target frame?

ORB features (on exposure-normalised, CLAHE'd greyscale so brackets match) with a
ratio test, then a RANSAC fit.  Handheld series move by shift + small rotation +
zoom, so a similarity (4 dof) is fitted first; a full homography is kept only when
it explains clearly more matches.  When features fail (flat frames, heavy blur) an
ECC fit (Euclidean) on a small image is the fallback; when that fails too the
identity is returned with quality 0 so the caller flags its results for review.

``Alignment.matrix`` maps *normalised* source coordinates (x, y in 0..1) to
normalised target coordinates; ``quality`` is 0..1 (inlier share x support).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

WORK_EDGE = 640  # long edge the features are found on
MIN_INLIERS = 12


@dataclass
class Alignment:
    matrix: np.ndarray  # 3x3 float64, normalised source -> normalised target
    quality: float
    method: str  # orb-similarity | orb-homography | ecc | identity
    src_size: tuple[int, int]  # (w, h) of the source frame (any scale: only the aspect is used)
    dst_size: tuple[int, int]
    inliers: int = 0

    def pixel_matrix(self) -> np.ndarray:
        """The same mapping in pixel units of src_size -> dst_size."""
        (ws, hs), (wt, ht) = self.src_size, self.dst_size
        return np.diag([wt, ht, 1.0]) @ self.matrix @ np.diag([1.0 / ws, 1.0 / hs, 1.0])

    def map_points(self, pts) -> np.ndarray:
        """Normalised (N, 2) source points -> normalised target points."""
        p = np.asarray(pts, np.float64).reshape(-1, 2)
        q = np.c_[p, np.ones(len(p))] @ self.matrix.T
        return q[:, :2] / q[:, 2:3]

    def local_linear(self, x: float = 0.5, y: float = 0.5) -> np.ndarray:
        """2x2 Jacobian of the pixel mapping at a normalised point (scale/rotation there)."""
        (ws, hs) = self.src_size
        H = self.pixel_matrix()
        px, py = x * ws, y * hs
        d = H[2, 0] * px + H[2, 1] * py + H[2, 2]
        u = H[0, 0] * px + H[0, 1] * py + H[0, 2]
        v = H[1, 0] * px + H[1, 1] * py + H[1, 2]
        return np.array([
            [(H[0, 0] * d - u * H[2, 0]) / d**2, (H[0, 1] * d - u * H[2, 1]) / d**2],
            [(H[1, 0] * d - v * H[2, 0]) / d**2, (H[1, 1] * d - v * H[2, 1]) / d**2],
        ])

    def length_scale(self, x: float = 0.5, y: float = 0.5) -> float:
        """Factor for lengths given as fractions of the long edge."""
        J = self.local_linear(x, y)
        px_scale = math.sqrt(abs(np.linalg.det(J)))
        return px_scale * max(self.src_size) / max(self.dst_size)

    def shift(self) -> float:
        """How far the frame centre moved, as a fraction of the diagonal (for flags)."""
        c = self.map_points([[0.5, 0.5]])[0]
        return float(np.hypot(c[0] - 0.5, c[1] - 0.5))

    @classmethod
    def identity(cls, src_size, dst_size, quality: float = 1.0, method: str = "identity") -> Alignment:
        return cls(np.eye(3), quality, method, tuple(src_size), tuple(dst_size))


def work_grey(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """Greyscale at WORK_EDGE, exposure-normalised; returns (grey uint8, scale from input)."""
    a = rgb
    if a.dtype != np.uint8:
        a = (np.clip(a, 0, 1) * 255 + 0.5).astype(np.uint8)
    g = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY) if a.ndim == 3 else a
    h, w = g.shape
    s = WORK_EDGE / max(h, w)
    if s < 1:
        g = cv2.resize(g, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    else:
        s = 1.0
    # Brackets: stretch to the same range, then local contrast so corners match.
    g = cv2.normalize(g, None, 0, 255, cv2.NORM_MINMAX)
    g = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(g)
    return g, s


def _normalise(H_px: np.ndarray, src_wh, dst_wh) -> np.ndarray:
    (ws, hs), (wt, ht) = src_wh, dst_wh
    M = np.diag([1.0 / wt, 1.0 / ht, 1.0]) @ H_px @ np.diag([ws, hs, 1.0])
    return M / M[2, 2]


_ORB = None


def _orb():
    global _ORB
    if _ORB is None:
        _ORB = cv2.ORB_create(nfeatures=1200, scaleFactor=1.2, nlevels=8, fastThreshold=10)
    return _ORB


def _feature_fit(gs: np.ndarray, gt: np.ndarray, src_features=None):
    orb = _orb()
    ks, ds = src_features if src_features is not None else orb.detectAndCompute(gs, None)
    kt, dt = orb.detectAndCompute(gt, None)
    if ds is None or dt is None or len(ks) < MIN_INLIERS or len(kt) < MIN_INLIERS:
        return None
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(ds, dt, k=2)
    good = [m for m, *rest in (p for p in pairs if len(p) >= 1) if not rest or m.distance < 0.8 * rest[0].distance]
    if len(good) < MIN_INLIERS:
        return None
    ps = np.float32([ks[m.queryIdx].pt for m in good])
    pt = np.float32([kt[m.trainIdx].pt for m in good])
    A, inl = cv2.estimateAffinePartial2D(ps, pt, method=cv2.RANSAC, ransacReprojThreshold=3.0,
                                         maxIters=4000, confidence=0.995)
    best = None
    if A is not None and inl is not None and int(inl.sum()) >= MIN_INLIERS:
        best = (np.vstack([A, [0, 0, 1]]), int(inl.sum()), "orb-similarity")
    Hm, inh = cv2.findHomography(ps, pt, cv2.RANSAC, 3.0, maxIters=4000, confidence=0.995)
    if Hm is not None and inh is not None and int(inh.sum()) >= MIN_INLIERS:
        # A homography has more freedom: take it only when it clearly explains more.
        if best is None or int(inh.sum()) > 1.25 * best[1] + 10:
            if abs(np.linalg.det(Hm[:2, :2])) > 0.2:
                best = (Hm, int(inh.sum()), "orb-homography")
    if best is None:
        return None
    H, n, method = best
    quality = (n / len(good)) * min(1.0, n / 60.0)
    return H, n, method, quality


def _ecc_fit(gs: np.ndarray, gt: np.ndarray):
    small = 256
    s = small / max(gs.shape)
    a = cv2.resize(gs, (max(8, round(gs.shape[1] * s)), max(8, round(gs.shape[0] * s)))).astype(np.float32) / 255
    b = cv2.resize(gt, (a.shape[1], a.shape[0])).astype(np.float32) / 255
    warp = np.eye(2, 3, dtype=np.float32)
    try:
        cc, warp = cv2.findTransformECC(b, a, warp, cv2.MOTION_EUCLIDEAN,
                                        (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-5), None, 5)
    except cv2.error:
        return None
    # ECC maps target coords -> source coords; invert, and bring back to the work scale.
    W = np.vstack([warp.astype(np.float64), [0, 0, 1]])
    W = np.linalg.inv(W)
    S = np.diag([gt.shape[1] / b.shape[1], gt.shape[0] / b.shape[0], 1.0])
    Ssrc = np.diag([a.shape[1] / gs.shape[1], a.shape[0] / gs.shape[0], 1.0])
    return S @ W @ Ssrc, float(max(0.0, cc)) * 0.6


class Aligner:
    """Aligns one source frame to many targets; the source's features are found once."""

    def __init__(self, src_rgb: np.ndarray):
        self.src_wh = (src_rgb.shape[1], src_rgb.shape[0])
        self.gs, _ = work_grey(src_rgb)
        self.features = _orb().detectAndCompute(self.gs, None)

    def __call__(self, dst_rgb: np.ndarray) -> Alignment:
        return _align(self.gs, self.src_wh, dst_rgb, self.features)


def align(src_rgb: np.ndarray, dst_rgb: np.ndarray) -> Alignment:
    """Estimate the mapping from ``src_rgb`` to ``dst_rgb`` (any sizes, RGB uint8 or float)."""
    gs, _ = work_grey(src_rgb)
    return _align(gs, (src_rgb.shape[1], src_rgb.shape[0]), dst_rgb, None)


def _align(gs: np.ndarray, src_wh, dst_rgb: np.ndarray, src_features) -> Alignment:
    dst_wh = (dst_rgb.shape[1], dst_rgb.shape[0])
    gt, _ = work_grey(dst_rgb)
    fit = _feature_fit(gs, gt, src_features)
    if fit is not None:
        H, n, method, quality = fit
        wh_s, wh_t = (gs.shape[1], gs.shape[0]), (gt.shape[1], gt.shape[0])
        return Alignment(_normalise(H, wh_s, wh_t), float(quality), method, src_wh, dst_wh, n)
    ecc = _ecc_fit(gs, gt)
    if ecc is not None:
        H, quality = ecc
        return Alignment(_normalise(H, (gs.shape[1], gs.shape[0]), (gt.shape[1], gt.shape[0])), quality,
                         "ecc", src_wh, dst_wh)
    return Alignment.identity(src_wh, dst_wh, quality=0.0)


def warp_alpha(alpha: np.ndarray, al: Alignment, dst_shape: tuple[int, int]) -> np.ndarray:
    """Move a source-frame alpha (any size) onto the target frame grid (h, w)."""
    h, w = dst_shape
    A = Alignment(al.matrix, al.quality, al.method, (alpha.shape[1], alpha.shape[0]), (w, h))
    return cv2.warpPerspective(alpha.astype(np.float32), A.pixel_matrix(), (w, h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
