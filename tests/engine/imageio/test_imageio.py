"""Decoding without a catalog: orientation, fast paths, 16-bit, RAW, and bad input."""
from __future__ import annotations

import os
import pickle
import shutil

import numpy as np
import pytest
from PIL import Image, ImageOps

from maskroom.engine.imageio.decode import (
    DecodeError,
    apply_orientation,
    decode_rgb,
    displayed_size,
    fast_jpeg_bgr,
)
from maskroom.engine.imageio.metadata import read_metadata
from synth_files import make_dng, make_heic, make_png_bomb, make_tiff16, truncate


def _asymmetric(h: int = 30, w: int = 50) -> np.ndarray:
    """An image whose every flip/rotation is distinguishable."""
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([xx * 5, yy * 8, np.full_like(xx, 90)], axis=2).astype(np.uint8)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_apply_orientation_matches_pillow_exif_transpose(orientation):
    arr = _asymmetric()
    im = Image.fromarray(arr)
    exif = im.getexif()
    exif[0x0112] = orientation
    im.info["exif"] = exif.tobytes()
    im._exif = exif  # exif_transpose reads getexif()
    expected = np.asarray(ImageOps.exif_transpose(im))
    assert np.array_equal(apply_orientation(arr, orientation), expected)


def test_decode_applies_exif_orientation_of_a_written_jpeg(tmp_path):
    arr = _asymmetric(60, 100)
    path = tmp_path / "rotated 8 ñ.jpg"  # spaces and non-ASCII in the name
    exif = Image.Exif()
    exif[0x0112] = 8
    Image.fromarray(arr).save(path, quality=100, exif=exif.tobytes())
    out = decode_rgb(path)
    assert out.dtype == np.uint8 and out.shape == (100, 60, 3)
    with Image.open(path) as im:
        stored = np.asarray(im.convert("RGB"))
    # Orientation 8 = stored pixels rotated 90 degrees counter-clockwise for display.
    assert np.array_equal(out, np.rot90(stored, 1))
    assert np.abs(out[..., :2].astype(int) - np.rot90(arr, 1)[..., :2].astype(int)).mean() < 4
    assert displayed_size(path) == (60, 100)


def test_shipped_orientation_6_sample_is_upright(samples_dir):
    path = samples_dir / "immich_portrait-orientation-6.jpg"
    with Image.open(path) as im:
        stored = im.size
    out = decode_rgb(path)
    assert out.shape[:2] == (stored[0], stored[1])  # width and height swap
    assert displayed_size(path) == (out.shape[1], out.shape[0])
    assert read_metadata(path).orientation == 6


def test_max_side_takes_the_dct_fast_path_but_never_goes_below(tmp_path, samples_dir):
    import cv2

    # A 2048 px JPEG made from a sample (the shipped ones are small).
    src = tmp_path / "big.jpg"
    photo = np.asarray(Image.open(samples_dir / "immich_el_torcal_rocks.jpg").convert("RGB"))
    Image.fromarray(cv2.resize(photo, (2048, 1364), interpolation=cv2.INTER_CUBIC)).save(src, quality=92)
    full = decode_rgb(src)
    assert full.shape == (1364, 2048, 3)
    small = decode_rgb(src, max_side=256)
    assert max(small.shape[:2]) >= 256
    assert max(small.shape[:2]) == 256  # decoded at 1/8 in the DCT domain, not full then resized
    # Same picture: the reduced decode matches a resize of the full one.
    ref = cv2.resize(full, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA)
    assert np.abs(ref.astype(int) - small.astype(int)).mean() < 6


def test_16bit_tiff_keeps_its_depth_when_asked(tmp_path):
    path = make_tiff16(tmp_path / "scan.tif")
    deep = decode_rgb(path, keep_16bit=True)
    assert deep.dtype == np.uint16 and deep.shape == (48, 64, 3)
    assert deep[0, -1, 1] > 60000 and deep[0, 0, 1] < 1000  # the ramp survives at full depth
    assert (deep[..., 0] == 1000).all()  # red constant (OpenCV wrote BGR, we return RGB)
    flat = decode_rgb(path)
    assert flat.dtype in (np.uint8, np.uint16) and flat.shape == (48, 64, 3)


def test_heic_and_webp_decode(tmp_path, samples_dir):
    heic = decode_rgb(make_heic(tmp_path / "phone.heic"))
    assert heic.shape == (48, 64, 3)
    assert np.abs(heic.reshape(-1, 3).mean(0) - (30, 120, 200)).max() < 8
    webp = decode_rgb(samples_dir / "immich_denali.webp")
    assert webp.ndim == 3 and webp.dtype == np.uint8


def test_dng_full_demosaic_and_small_decode(tmp_path):
    dng = make_dng(tmp_path / "IMG_0001.dng", w=256, h=192)
    full = decode_rgb(dng, keep_16bit=True)
    assert full.dtype == np.uint16 and full.shape == (192, 256, 3)
    # The synthetic ramp rises left to right: so must the demosaiced green.
    assert full[:, -20:, 1].mean() > full[:, :20, 1].mean()
    small = decode_rgb(dng, max_side=64)  # no embedded preview: half-size demosaic
    assert small.dtype == np.uint8 and small.shape == (96, 128, 3)
    assert displayed_size(dng) == (256, 192)


def _fifo(path):
    os.mkfifo(path)  # opening it would block until a writer came: it must never be opened
    return path


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda d, s: _write(d / "empty.jpg", b""), "empty file"),
        (lambda d, s: _write(d / "notes.jpg", b"shopping list\n"), "not a readable image"),
        (lambda d, s: truncate(s / "immich_el_torcal_rocks.jpg", d / "cut.jpg", 0.2), "truncated"),
        (lambda d, s: make_png_bomb(d / "bomb.png"), "megapixels"),
        (lambda d, s: _write(d / "bad.nef", b"\0" * 4096), "RAW"),
        (lambda d, s: _write(d / "doc.pdf", b"%PDF-1.4"), "unsupported file type"),
        (lambda d, s: _fifo(d / "pipe.jpg"), "not a regular file (a named pipe)"),
    ],
    ids=["empty", "text", "truncated", "bomb", "corrupt-raw", "unsupported", "named-pipe"],
)
def test_bad_input_raises_one_line_decode_error(tmp_path, samples_dir, make, reason):
    path = make(tmp_path, samples_dir)
    with pytest.raises(DecodeError) as info:
        decode_rgb(path, max_side=256)
    err = info.value
    assert reason in err.reason
    assert str(err) == f"{path}: {err.reason}" and "\n" not in str(err)
    again = pickle.loads(pickle.dumps(err))  # crosses the worker-process boundary intact
    assert (again.path, again.reason) == (err.path, err.reason)


def test_missing_file_is_a_decode_error(tmp_path):
    with pytest.raises(DecodeError, match="cannot read file"):
        decode_rgb(tmp_path / "gone.jpg")


def test_symlinked_photo_decodes_like_its_target(tmp_path, samples_dir):
    real = shutil.copy(samples_dir / "mpl_grace_hopper.jpg", tmp_path / "real.jpg")
    link = tmp_path / "link.jpg"
    link.symlink_to(real)
    assert np.array_equal(decode_rgb(link), decode_rgb(real))


def test_fast_jpeg_path_agrees_with_decode_rgb_and_leaves_truncated_files_to_it(tmp_path, samples_dir):
    import cv2

    src = samples_dir / "immich_portrait-orientation-6.jpg"
    bgr = fast_jpeg_bgr(src, max_side=200)  # 840 px long edge: decoded at 1/4
    ref = decode_rgb(src, max_side=200)
    assert bgr.shape == ref.shape == (175, 210, 3)  # upright (orientation 6 applied)
    assert np.abs(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(int) - ref.astype(int)).mean() < 3
    # libjpeg would pad a truncated file silently: the fast path declines it ...
    cut = truncate(samples_dir / "immich_prairie_falcon.jpg", tmp_path / "cut.jpg", 0.6)
    assert fast_jpeg_bgr(cut, max_side=200) is None
    # ... and decode_rgb reports it.
    with pytest.raises(DecodeError, match="truncated"):
        decode_rgb(cut, max_side=200)
    assert fast_jpeg_bgr(samples_dir / "immich_denali.webp", max_side=200) is None
