"""Shared helpers for the mask tests: catalog rows for a picture file."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from maskroom.catalog.schema import Folder, Image


def add_image(catalog, path: Path) -> int:
    """Catalog an existing picture file directly (the import pipeline is not under test here)."""
    path = Path(path)
    with PILImage.open(path) as im:
        w, h = im.size
    data = path.read_bytes()
    with catalog.session() as s:
        folder = s.query(Folder).filter_by(path=str(path.parent)).first()
        if folder is None:
            folder = Folder(path=str(path.parent))
            s.add(folder)
            s.flush()
        img = Image(folder_id=folder.id, filename=path.name, path=str(path), file_size=len(data),
                    mtime=path.stat().st_mtime, content_hash=hashlib.sha256(data).hexdigest()[:32],
                    format=path.suffix.lstrip(".").lower(), width=w, height=h)
        s.add(img)
        s.flush()
        return img.id


def disc_picture(path: Path, size=(320, 240), centre=(0.5, 0.55), radius=0.22, seed=0) -> np.ndarray:
    """A red disc on a textured blue-grey background, saved as PNG; returns the true mask."""
    w, h = size
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    truth = (xx - centre[0] * w) ** 2 + (yy - centre[1] * h) ** 2 <= (radius * max(w, h)) ** 2
    img = np.empty((h, w, 3), np.float32)
    img[:] = [0.45, 0.5, 0.6]
    img += rng.normal(0, 0.03, img.shape).astype(np.float32)
    img[truth] = [0.85, 0.2, 0.15]
    img = np.clip(img + rng.normal(0, 0.02, img.shape).astype(np.float32), 0, 1)
    PILImage.fromarray((img * 255).astype(np.uint8)).save(path)
    return truth
