"""Synthetic camera series for the series/sync/watch tests: one real sample photo
moved like a handheld camera moves (shift, small rotation, zoom) and exposed
differently (brackets).  Returns the exact transform of each frame so tests can
check where things should land."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from maskroom.services.demo import camera_move  # also imported from here by the sync tests

SAMPLES = Path(__file__).resolve().parent.parent / "maskroom" / "data" / "samples"


def load_sample(name: str = "mpl_grace_hopper.jpg") -> np.ndarray:
    bgr = cv2.imread(str(SAMPLES / name), cv2.IMREAD_COLOR)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def write_jpeg(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    return path


PORTRAIT_MOVES = [
    dict(),
    dict(dx=30, dy=-12),
    dict(dx=-24, dy=18, angle=2.5),
    dict(dx=12, dy=8, angle=-3.0, zoom=1.04),
    dict(dx=-8, dy=-20, ev=1.0),
    dict(dx=20, dy=10, ev=-1.0, angle=1.5),
]


def portrait_series(folder: Path, name: str = "mpl_grace_hopper.jpg", moves=PORTRAIT_MOVES):
    """Write the frames as JPEGs; returns [(path, M)]."""
    base = load_sample(name)
    out = []
    for i, mv in enumerate(moves):
        frame, M = camera_move(base, **mv)
        out.append((write_jpeg(Path(folder) / f"frame_{i:03d}.jpg", frame), M))
    return out
