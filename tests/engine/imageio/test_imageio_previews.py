"""Thumbnails and previews made at import: sizes, orientation, cache rows, remade when lost."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage
from sqlalchemy import select

from maskroom.catalog.schema import Image, PreviewCacheEntry
from maskroom.engine.imageio.decode import decode_rgb
from maskroom.engine.imageio.previews import PREVIEW_SIZE, THUMB_SIZE, load_preview, preview_file, thumbnail_file
from maskroom.engine.importer import run_import

pytestmark = pytest.mark.catalog


@pytest.fixture
def big_and_rotated(tmp_path, samples_dir):
    """A 3000 px JPEG (so the preview really is 2048) and the orientation-6 sample."""
    folder = tmp_path / "in"
    folder.mkdir()
    photo = np.asarray(PILImage.open(samples_dir / "immich_tanners_ridge.jpg").convert("RGB"))
    big = cv2.resize(photo, (3000, 2002), interpolation=cv2.INTER_CUBIC)
    PILImage.fromarray(big).save(folder / "big.jpg", quality=90)
    (folder / "portrait.jpg").write_bytes((samples_dir / "immich_portrait-orientation-6.jpg").read_bytes())
    return folder


def test_derivative_sizes_rows_and_orientation(catalog, big_and_rotated):
    report = run_import(catalog, [big_and_rotated], jobs=1)
    assert len(report.imported) == 2, report.skipped
    with catalog.session() as s:
        big = s.scalar(select(Image).where(Image.filename == "big.jpg"))
        portrait = s.scalar(select(Image).where(Image.filename == "portrait.jpg"))
        prev = load_preview(catalog, big)
        assert prev.dtype == np.uint8 and prev.shape == (round(2002 * 2048 / 3000), PREVIEW_SIZE, 3)
        # The preview is the photo: compare with a full decode brought to the same size.
        full = decode_rgb(big.path)
        ref = cv2.resize(full, (prev.shape[1], prev.shape[0]), interpolation=cv2.INTER_AREA)
        assert np.abs(ref.astype(int) - prev.astype(int)).mean() < 5
        thumb = cv2.imread(str(thumbnail_file(catalog, big)))
        assert max(thumb.shape[:2]) == THUMB_SIZE
        # Orientation 6 applied: stored 700x840, previewed (and catalogued) as displayed, 840x700.
        p = load_preview(catalog, portrait)
        assert (p.shape[1], p.shape[0]) == (portrait.width, portrait.height) == (840, 700)
        rows = {(r.image_id, r.kind): r for r in s.scalars(select(PreviewCacheEntry))}
        assert (rows[(big.id, "preview")].width, rows[(big.id, "preview")].height) == (2048, 1367)
        assert (rows[(big.id, "thumb")].width, rows[(big.id, "thumb")].height) == (256, 171)
        assert (rows[(portrait.id, "thumb")].width, rows[(portrait.id, "thumb")].height) == (256, 213)
        for r in rows.values():
            assert (catalog.cache_dir / r.path).is_file() and r.key == s.get(Image, r.image_id).content_hash
        # Series features computed from the thumbnail at import.
        assert big.phash and big.features


def test_lost_preview_is_made_again(catalog, big_and_rotated):
    run_import(catalog, [big_and_rotated / "big.jpg"], jobs=1)
    with catalog.session() as s:
        img = s.scalar(select(Image))
        path = preview_file(catalog, img)
        first = load_preview(catalog, img)
        path.unlink()
        thumbnail_file(catalog, img).unlink()
        again = load_preview(catalog, img)
        assert path.is_file() and thumbnail_file(catalog, img).is_file()
        assert np.abs(first.astype(int) - again.astype(int)).mean() < 1
        path.write_bytes(b"garbage")  # a damaged cache file is replaced, not returned
        assert load_preview(catalog, img).shape == first.shape
