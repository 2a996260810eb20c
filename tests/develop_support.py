"""Helpers for the develop tests: catalog rows for files without the importer."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from maskroom.catalog.schema import Folder, Image


def add_image(catalog, path: Path, content_hash: str | None = None, size: tuple[int, int] | None = None) -> int:
    """An images row for ``path`` (upright size from Pillow unless ``size`` is given, as
    for a RAW file Pillow cannot open); returns its id."""
    import hashlib

    from PIL import ImageOps

    path = Path(path)
    if size is None:
        with PILImage.open(path) as im:
            size = ImageOps.exif_transpose(im).size
    w, h = size
    digest = content_hash or hashlib.sha256(path.read_bytes()).hexdigest()[:32]
    with catalog.session() as s:
        folder = s.query(Folder).filter_by(path=str(path.parent)).first()
        if folder is None:
            folder = Folder(path=str(path.parent))
            s.add(folder)
            s.flush()
        row = Image(folder_id=folder.id, filename=path.name, path=str(path), file_size=path.stat().st_size,
                    mtime=path.stat().st_mtime, content_hash=digest, format=path.suffix.lstrip(".").lower(),
                    width=w, height=h)
        s.add(row)
        s.flush()
        return row.id


def write_synthetic(path: Path, w: int = 320, h: int = 200, seed: int = 0) -> Path:
    """A smooth colourful test photo (gradients + a few shapes) saved as PNG."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([xx / w, yy / h, 0.5 + 0.3 * np.sin(xx / 17.0)], axis=2)
    for _ in range(4):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(10, 40)
        img[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = rng.uniform(0.1, 0.9, 3)
    PILImage.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).save(path)
    return path
