"""Decoding any supported photo to an upright RGB array.

One entry point, ``decode_rgb``; it applies the EXIF orientation so everything
downstream works on the image as displayed.  ``max_side`` lets callers take the
fast paths: Pillow's JPEG ``draft`` (DCT-domain downscaling) and, for RAW files,
the embedded JPEG preview.  Problems surface as ``DecodeError``, whose text is one
line "PATH: reason" fit for a batch log.
"""
from __future__ import annotations

import io
import os
import stat
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from maskroom.core.config import DEFAULT_MAX_PIXELS, ENV_MAX_PIXELS, max_pixels
from maskroom.engine.imageio.formats import format_of, is_raw
from maskroom.core.errors import MaskroomError
from maskroom.core.paths import display_path

# Decompression bombs: images declaring more pixels than core.config.max_pixels()
# (MASKROOM_MAX_PIXELS) are refused from their header, before any pixel is decoded.
MAX_PIXELS = DEFAULT_MAX_PIXELS
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# _pil_open refuses over-limit images itself, naming the size and the setting; Pillow's
# own warning would only add a second, vaguer line to the same refusal.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

try:  # HEIC/HEIF through libheif; optional at run time, declared as a dependency
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover
    pillow_heif = None


class DecodeError(MaskroomError):
    def __init__(self, path: os.PathLike | str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{display_path(self.path)}: {reason}")

    def __reduce__(self):  # so it crosses process boundaries intact (import workers)
        return (type(self), (self.path, self.reason))


_KINDS = {stat.S_IFIFO: "a named pipe", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder"}


def check_readable(path: Path) -> None:
    """Cheap checks that give a clearer reason than a decoder would."""
    try:
        st = path.stat()
    except OSError as exc:
        raise DecodeError(path, f"cannot read file ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        # a named pipe or a device would block or stream forever once opened
        raise DecodeError(path, f"not a regular file ({_KINDS.get(stat.S_IFMT(st.st_mode), 'a special file')})")
    if st.st_size == 0:
        raise DecodeError(path, "empty file (0 bytes)")
    if not os.access(path, os.R_OK):
        raise DecodeError(path, "permission denied")


def _too_big(path: Path, w: int, h: int) -> DecodeError:
    return DecodeError(path, f"image too large: {w}x{h} is {w * h / 1e6:.0f} megapixels, over the "
                             f"limit of {max_pixels() / 1e6:.0f} megapixels (set {ENV_MAX_PIXELS} to allow more)")


def _pil_open(path: Path) -> Image.Image:
    limit = max_pixels()
    Image.MAX_IMAGE_PIXELS = limit  # Pillow's own check, on the same limit
    try:
        with warnings.catch_warnings():
            # Over the limit: refused just below, with the size in the message.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
            w, h = im.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DecodeError(path, f"image too large: declared size is over the limit of {limit / 1e6:.0f} megapixels "
                                f"(set {ENV_MAX_PIXELS} to allow more)") from None
    except PermissionError:
        raise DecodeError(path, "permission denied") from None
    except Exception as exc:
        raise DecodeError(path, f"not a readable image ({type(exc).__name__}: {exc})") from None
    if w <= 0 or h <= 0:
        im.close()
        raise DecodeError(path, f"absurd declared size {w}x{h}")
    if w * h > limit:
        im.close()
        raise _too_big(path, w, h)
    return im


def _to_array(path: Path, im: Image.Image, keep_16bit: bool) -> np.ndarray:
    try:
        if im.getexif().get(0x0112, 1) != 1:  # exif_transpose copies even upright images
            im = ImageOps.exif_transpose(im)
        if keep_16bit and im.mode in ("I;16", "I;16B", "I;16L", "I"):
            arr = np.asarray(im, dtype=np.uint16)
            return np.repeat(arr[..., None], 3, axis=2)
        if im.mode not in ("RGB",):
            im = im.convert("RGB")
        return np.asarray(im)
    except DecodeError:
        raise
    except Exception as exc:
        raise DecodeError(path, f"truncated or corrupt image data ({exc})") from None


def _tiff16(path: Path) -> np.ndarray | None:
    """16-bit RGB TIFFs: Pillow flattens them to 8 bits, OpenCV keeps all 16."""

    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED | cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
    if arr is None or arr.dtype != np.uint16:
        return None
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    arr = cv2.cvtColor(arr[..., :3], cv2.COLOR_BGR2RGB)
    return arr


def _tiff_bits(im: Image.Image) -> int:
    bits = getattr(im, "tag_v2", {}).get(258, 8)
    return max(bits) if isinstance(bits, (tuple, list)) else int(bits)


def decode_raster(path: Path, max_side: int | None = None, keep_16bit: bool = False) -> np.ndarray:
    im = _pil_open(path)
    if im.format == "JPEG" and im.mode in ("RGB", "L"):
        im.close()
        # libjpeg-turbo straight into numpy: Pillow would hold a 4-byte-per-pixel copy
        # beside the array (700 MB instead of 300 MB for a 100 MP photo).
        bgr = fast_jpeg_bgr(path, max_side or 1 << 30)
        if bgr is not None:
            return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=bgr if bgr.flags.c_contiguous else None)
        im = _pil_open(path)  # possibly truncated: Pillow reports what libjpeg would pad
    with im:
        # Pillow opens 16-bit RGB TIFFs as 8-bit "RGB": the header's BitsPerSample tells.
        if keep_16bit and format_of(path) == "tiff" and _tiff_bits(im) > 8:
            arr = _tiff16(path)
            if arr is not None:
                orientation = im.getexif().get(0x0112, 1)
                return apply_orientation(arr, orientation)
        if max_side and im.format == "JPEG":
            # DCT-domain scaling: decodes at 1/2, 1/4 or 1/8 size directly.  draft()
            # keeps both sides >= the box, so ask for the box of the long edge's target.
            w, h = im.size
            long_side = min(max_side, max(w, h))
            short_side = max(1, min(w, h) * long_side // max(w, h))  # floor: 1/8 stays allowed
            im.draft("RGB", (long_side, short_side) if w >= h else (short_side, long_side))
        try:
            im.load()
        except Exception as exc:
            raise DecodeError(path, f"truncated or corrupt image data ({exc})") from None
        if max_side and max(im.size) >= 2 * max_side:
            # PNG/TIFF/WebP have no reduced decode: shrink by box averaging at once, so
            # only the decoded file (not its float copies) ever exists at full size.
            try:
                im = im.reduce(max(im.size) // max_side)
            except (ValueError, NotImplementedError):  # a mode reduce() cannot do
                pass
        return _to_array(path, im, keep_16bit)


def apply_orientation(arr: np.ndarray, orientation: int) -> np.ndarray:
    """EXIF orientation (1..8) to an upright array."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1, :],
        5: lambda a: np.swapaxes(a, 0, 1),
        6: lambda a: np.swapaxes(a, 0, 1)[:, ::-1],
        7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1],
        8: lambda a: np.swapaxes(a, 0, 1)[::-1, :],
    }
    op = ops.get(int(orientation or 1))
    return np.ascontiguousarray(op(arr)) if op else arr


def _open_raw(path: Path):
    import rawpy  # lazy: LibRaw only for raw files (its import costs every command's start-up)

    try:
        return rawpy.imread(str(path))
    except Exception as exc:
        raise DecodeError(path, f"corrupt or unsupported RAW file ({type(exc).__name__}: {exc})") from None


def raw_embedded_preview(path: Path, min_side: int) -> np.ndarray | None:
    """The camera's own JPEG inside a RAW file, if it is large enough; upright."""
    import rawpy  # lazy: LibRaw only for raw files (its import costs every command's start-up)

    with _open_raw(path) as raw:
        try:
            thumb = raw.extract_thumb()
        except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
            return None
        except Exception:
            return None
        if thumb.format == rawpy.ThumbFormat.JPEG:
            try:
                with Image.open(io.BytesIO(thumb.data)) as im:
                    im.draft("RGB", (min_side, min_side))
                    arr = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
            except Exception:
                return None
        else:
            arr = np.asarray(thumb.data)
            if arr.ndim != 3:
                return None
        if max(arr.shape[:2]) < min_side:
            return None
        flip = raw.sizes.flip  # LibRaw's orientation of the sensor image
        raw_portrait = flip in (5, 6)
        if raw_portrait and arr.shape[0] < arr.shape[1]:  # embedded JPEG stored sideways
            arr = np.ascontiguousarray(np.rot90(arr, 1 if flip == 5 else -1))
        return arr


def decode_raw(path: Path, max_side: int | None = None, keep_16bit: bool = False) -> np.ndarray:
    """Demosaic with camera white balance; half size when a small result will do."""
    import rawpy  # lazy: LibRaw only for raw files (its import costs every command's start-up)

    if max_side:
        arr = raw_embedded_preview(path, min_side=min(max_side, 1024))
        if arr is not None:
            return arr
    with _open_raw(path) as raw:
        w, h = raw.sizes.width, raw.sizes.height
        if w * h > max_pixels():
            raise _too_big(path, w, h)
        half = bool(max_side) and max(w, h) // 2 >= max_side
        try:
            return raw.postprocess(
                use_camera_wb=True, half_size=half, output_bps=16 if keep_16bit else 8, user_flip=None
            )
        except rawpy.LibRawError as exc:
            raise DecodeError(path, f"corrupt RAW data ({exc})") from None


def decode_rgb(path: os.PathLike | str, *, max_side: int | None = None, keep_16bit: bool = False) -> np.ndarray:
    """Upright RGB (uint8, or uint16 for 16-bit sources when ``keep_16bit``).

    With ``max_side`` the result may be larger than asked (fast paths decode at a
    power-of-two fraction); callers resize the rest of the way.
    """
    path = Path(path)
    check_readable(path)
    fmt = format_of(path)
    if fmt is None:
        raise DecodeError(path, f"unsupported file type {path.suffix or '(no extension)'}")
    if is_raw(path):
        return decode_raw(path, max_side, keep_16bit)
    return decode_raster(path, max_side, keep_16bit)


def _ends_with_eoi(path: Path, size: int) -> bool:
    """A complete JPEG ends with an EOI marker (FFD9 cannot occur inside scan data).
    Files with long trailers (motion photos) fail this and take the careful path."""
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 4096))
        return b"\xff\xd9" in fh.read()


def fast_jpeg_bgr(path: os.PathLike | str, max_side: int) -> np.ndarray | None:
    """Upright BGR uint8 of a JPEG, decoded at 1/2, 1/4 or 1/8 straight into numpy by
    libjpeg-turbo (no Pillow->numpy copy), long edge still >= ``max_side``.

    None when the file is not a JPEG or might be truncated: libjpeg would pad a
    truncated file silently, so those go through ``decode_rgb``, which reports them.
    """
    path = Path(path)
    check_readable(path)
    if format_of(path) != "jpeg":
        return None
    im = _pil_open(path)  # header only: size, bomb check, orientation
    with im:
        if im.format != "JPEG":
            return None
        w, h = im.size
        orientation = im.getexif().get(0x0112, 1)
    if not _ends_with_eoi(path, path.stat().st_size):
        return None
    factor = next((f for f in (8, 4, 2) if max(w, h) // f >= max_side), 1)
    flag = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
            8: cv2.IMREAD_REDUCED_COLOR_8}[factor]
    bgr = cv2.imread(str(path), flag | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None:
        return None
    return apply_orientation(bgr, orientation)


def displayed_size(path: os.PathLike | str) -> tuple[int, int]:
    """(width, height) as displayed, read from the header only."""
    path = Path(path)
    check_readable(path)
    if is_raw(path):
        with _open_raw(path) as raw:
            w, h = raw.sizes.width, raw.sizes.height
            return (h, w) if raw.sizes.flip in (5, 6) else (w, h)
    with _pil_open(path) as im:
        w, h = im.size
        orientation = im.getexif().get(0x0112, 1)
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)
