"""Cleaning a binary mask: keep the main connected regions, fill holes."""
from __future__ import annotations

import cv2
import numpy as np


def largest_regions(mask: np.ndarray, ratio: float) -> np.ndarray:
    """Drop connected regions smaller than ``ratio`` × the largest one (specks, stray bits)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 2:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.zeros(n, bool)
    keep[1:] = areas >= ratio * areas.max()
    return keep[labels]


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Background not reachable from the top-left corner becomes foreground."""
    inv = (1 - mask.astype(np.uint8)).astype(np.uint8)
    ff = np.zeros((inv.shape[0] + 2, inv.shape[1] + 2), np.uint8)
    cv2.floodFill(inv, ff, (0, 0), 0)
    return mask.astype(bool) | inv.astype(bool)
