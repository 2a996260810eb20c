"""Per-image features for series detection, computed once at import.

``compute_features`` returns a 64-bit perceptual hash (DCT pHash, 16 hex chars) and a
compact float32 vector.  Both are made exposure-insensitive on purpose: a bracketed
set (+-2 EV) must still look "the same" to series detection, so the hash works on
the luminance after per-image normalisation and the vector holds normalised
chroma histograms plus a small edge-orientation layout instead of raw brightness.
"""
from __future__ import annotations

import cv2
import numpy as np

FEATURE_VERSION = 1
# Layout of the vector (float32): 2x8 chroma (a*, b*) histogram, 4x4 grid of
# normalised luminance, 4x4 grid of gradient energy.  48 floats, 192 bytes.
_CHROMA_BINS = 8
_GRID = 4
FEATURE_LEN = 2 * _CHROMA_BINS + 2 * _GRID * _GRID


def _as_rgb_uint8(rgb: np.ndarray) -> np.ndarray:
    a = np.asarray(rgb)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.shape[2] == 4:
        a = a[:, :, :3]
    if a.dtype != np.uint8:
        if np.issubdtype(a.dtype, np.floating) and float(np.nanmax(a, initial=0.0)) <= 1.0:
            a = a * 255.0
        a = np.clip(a, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a)


def _normalised_luma(rgb: np.ndarray) -> np.ndarray:
    """Luminance with mean/contrast removed: exposure steps change little."""
    y = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    # Log-ish curve so a +-1 EV change is close to an additive offset, then standardise.
    y = np.log1p(y)
    return (y - y.mean()) / (y.std() + 1e-6)


def phash64(rgb: np.ndarray) -> str:
    """DCT perceptual hash: 32x32 normalised luminance, top-left 8x8 DCT vs median."""
    y = _normalised_luma(_as_rgb_uint8(rgb))
    small = cv2.resize(y, (32, 32), interpolation=cv2.INTER_AREA)
    dct = cv2.dct(small.astype(np.float32))[:8, :8].flatten()
    med = np.median(dct[1:])  # skip DC: it is exposure
    bits = dct > med
    value = 0
    for b in bits:
        value = (value << 1) | int(b)
    return f"{value:016x}"


def feature_vector(rgb: np.ndarray) -> np.ndarray:
    rgb = _as_rgb_uint8(rgb)
    small = cv2.resize(rgb, (64, 64), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)
    parts = []
    for ch in (1, 2):
        h, _ = np.histogram(lab[:, :, ch], bins=_CHROMA_BINS, range=(64, 192))
        h = h.astype(np.float32)
        parts.append(h / (h.sum() + 1e-6))
    y = _normalised_luma(small)
    grid = cv2.resize(y, (_GRID, _GRID), interpolation=cv2.INTER_AREA)
    parts.append(grid.flatten() / 3.0)
    gx = cv2.Sobel(y, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(y, cv2.CV_32F, 0, 1)
    mag = cv2.resize(np.sqrt(gx * gx + gy * gy), (_GRID, _GRID), interpolation=cv2.INTER_AREA).flatten()
    parts.append(mag / (mag.sum() + 1e-6))
    return np.concatenate(parts).astype(np.float32)


def compute_features(rgb_uint8: np.ndarray) -> tuple[str, bytes]:
    """(phash as 16 hex chars, float32 feature vector as bytes) of an RGB image."""
    rgb = _as_rgb_uint8(rgb_uint8)
    return phash64(rgb), feature_vector(rgb).tobytes()


def hamming(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def decode_features(blob: bytes | None) -> np.ndarray | None:
    if not blob:
        return None
    v = np.frombuffer(blob, dtype=np.float32)
    return v if v.size == FEATURE_LEN else None


def similarity(phash_a: str | None, feat_a: bytes | None, phash_b: str | None, feat_b: bytes | None) -> float:
    """0..1 visual similarity from hash distance and feature distance (1 = same)."""
    scores = []
    if phash_a and phash_b:
        scores.append(1.0 - hamming(phash_a, phash_b) / 32.0)  # 32 bits apart = unrelated
    fa, fb = decode_features(feat_a), decode_features(feat_b)
    if fa is not None and fb is not None:
        scores.append(1.0 - min(1.0, float(np.abs(fa - fb).sum()) / 2.0))
    if not scores:
        return 1.0  # nothing to compare: leave it to time/camera
    return float(max(0.0, min(1.0, sum(scores) / len(scores))))
