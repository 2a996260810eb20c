"""Lens corrections from the lensfun database (lensfunpy): distortion, vignetting and
lateral chromatic aberration (TCA), chosen by the photo's EXIF camera and lens.

Recipe setting ``settings["lens"]``: ``{"correct": "auto" | "off", "profile": "<lens
model>" (optional: overrides the EXIF lens), "distortion": true, "vignetting": true,
"tca": true}``.  Absent means off, so recipes saved before lens corrections existed
render as they did - unless the catalog's ``develop.lens_default`` is ``auto``: then a
recipe with no ``lens`` setting is corrected from its EXIF lens when lensfun has a
profile for it, and left alone when not (``with_lens_default``).  Corrections run on the decoded source, before every layer and
before masks are derived (a mask drawn on the corrected photo stays on it).

Vignetting is corrected in linear light (lensfun's colour modification), then
distortion and TCA in one remap per channel; the image keeps its size (lensfun's
automatic scale fills the frame, so no empty border shows).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from maskroom.catalog.settings import get_setting
from maskroom.core.errors import InvalidValue
from maskroom.core.values import register_setting

LENS_DEFAULT_SETTING = "develop.lens_default"

DEFAULT_DISTANCE_M = 10.0  # focus distance when EXIF has none: only vignetting uses it, weakly


class LensError(InvalidValue):
    """No profile for a lens, or lens settings that do not validate (one-line message)."""


@dataclass(frozen=True)
class LensKey:
    """What a correction depends on (hashable: part of the source cache key)."""
    maker: str
    camera: str
    lens: str
    focal: float
    aperture: float
    distortion: bool
    vignetting: bool
    tca: bool


def validate_lens_settings(lens: Any) -> dict[str, Any]:
    if lens is None:
        return {}
    if not isinstance(lens, dict):
        raise LensError(f"lens settings must be an object, not {lens!r}")
    unknown = set(lens) - {"correct", "profile", "distortion", "vignetting", "tca"}
    if unknown:
        raise LensError(f"unknown lens settings: {', '.join(sorted(unknown))}")
    if lens.get("correct", "off") not in ("auto", "off"):
        raise LensError(f"lens.correct must be auto or off, not {lens.get('correct')!r}")
    for k in ("distortion", "vignetting", "tca"):
        if not isinstance(lens.get(k, True), bool):
            raise LensError(f"lens.{k} must be true or false")
    if "profile" in lens and not isinstance(lens["profile"], str):
        raise LensError("lens.profile must be a lens model name")
    return lens


register_setting("lens", validate_lens_settings)  # recipes are checked at the door (core/values.py)


@lru_cache(maxsize=1)
def database():
    import lensfunpy  # heavy binding with its database: loaded on first use

    return lensfunpy.Database()


def find_profile(maker: str | None, camera: str | None, lens: str | None):
    """(lensfun camera, lensfun lens) for EXIF names; LensError naming what is missing."""
    db = database()
    cams = db.find_cameras(maker or None, camera or None) if (maker or camera) else []
    if not cams:
        name = " ".join(x for x in (maker, camera) if x) or "(none in EXIF)"
        raise LensError(f"no lensfun profile for the camera {name}")
    if not lens:
        raise LensError("no lens in the photo's EXIF: give lens.profile")
    lenses = db.find_lenses(cams[0], None, lens)
    if not lenses:
        raise LensError(f"no profile for this lens: {lens!r} (lensfun has none for it on {cams[0].model})")
    return cams[0], lenses[0]


@lru_cache(maxsize=256)
def has_profile(maker: str | None, camera: str | None, lens: str | None) -> bool:
    try:
        find_profile(maker, camera, lens)
    except LensError:
        return False
    return True


def default_mode(catalog) -> str:
    """The catalog's ``develop.lens_default`` (auto | off)."""
    with catalog.read_session() as s:
        return get_setting(s, LENS_DEFAULT_SETTING)


def with_lens_default(catalog, image, settings: dict[str, Any] | None) -> dict[str, Any] | None:
    """``settings`` as rendered: when they name no lens setting and the catalog's default
    is auto, automatic corrections - for a photo with a focal length and a lensfun
    profile; any other photo renders uncorrected rather than failing (the develop
    panel says why)."""
    if not default_applies(default_mode(catalog), settings, image.camera_make, image.camera_model, image.lens,
                           image.focal_length):
        return settings
    return {**(settings or {}), "lens": {"correct": "auto"}}


def default_applies(mode: str, settings: dict[str, Any] | None, maker: str | None, camera: str | None,
                    lens: str | None, focal: float | None) -> bool:
    """Whether the lens default (``mode``) corrects a photo with these EXIF names and
    focal length whose edit has ``settings``: no lens setting of its own, the default
    auto, a focal length, and a lensfun profile."""
    if (settings and "lens" in settings) or mode != "auto" or not focal:
        return False
    return has_profile(maker, camera, lens)


def lens_key(settings: dict[str, Any] | None, image) -> LensKey | None:
    """The correction to apply to ``image`` (a catalog Image row), or None (off)."""
    lens = validate_lens_settings((settings or {}).get("lens"))
    if lens.get("correct", "off") != "auto":
        return None
    if not image.focal_length:
        raise LensError("no focal length in the photo's EXIF: lens corrections need it")
    return LensKey(image.camera_make or "", image.camera_model or "", lens.get("profile") or image.lens or "",
                   float(image.focal_length), float(image.aperture or 8.0), lens.get("distortion", True),
                   lens.get("vignetting", True), lens.get("tca", True))


STRIP_PIXELS = 1 << 20  # pixels per strip of the remap: lensfun's coordinates for a strip, not the frame


def correct(img: np.ndarray, key: LensKey, *, inplace: bool = False) -> np.ndarray:
    """The lens-corrected image (linear float32 HxWx3, same size).

    A new array, unless ``inplace`` (a writable float32 image nobody else holds, such
    as a full-size decode): then ``img`` itself is corrected and returned.  The remap
    runs strip by strip from the three colour planes into ``img``'s own buffer, so a
    24 MP correction holds one image plus its planes instead of five images' worth
    of coordinates and temporaries.
    """
    import lensfunpy  # see database()

    cam, lens = find_profile(key.maker, key.camera, key.lens)
    h, w = img.shape[:2]
    flags = 0
    if key.distortion:
        flags |= lensfunpy.ModifyFlags.DISTORTION
    if key.tca:
        flags |= lensfunpy.ModifyFlags.TCA
    if key.vignetting:
        flags |= lensfunpy.ModifyFlags.VIGNETTING
    mod = lensfunpy.Modifier(lens, cam.crop_factor, w, h)
    mod.initialize(key.focal, key.aperture, DEFAULT_DISTANCE_M, pixel_format=np.float32, flags=flags)
    own = inplace and img.flags.writeable and img.dtype == np.float32 and img.flags.c_contiguous
    out = img if own else np.array(img, np.float32, order="C", copy=True)
    if key.vignetting:
        mod.apply_color_modification(out)
    if not (key.distortion or key.tca):
        return out
    # Each output row samples source rows near it, but not only its own: the planes
    # keep the whole source while the strips are written back over ``out``.
    # (numpy copies: cv2.split's Python binding copies its output planes once more)
    planes = [np.ascontiguousarray(out[..., c]) for c in range(3)]
    rows = max(1, STRIP_PIXELS // max(1, w))
    strip = [np.empty((rows, w), np.float32) for _ in range(3)]
    for y in range(0, h, rows):
        n = min(rows, h - y)
        coords = mod.apply_subpixel_geometry_distortion(0, y, w, n)  # (n, w, 3, 2): where each channel samples
        if coords is None:
            return out
        for c in range(3):
            cv2.remap(planes[c], coords[:, :, c, 0], coords[:, :, c, 1], cv2.INTER_LINEAR,
                      dst=strip[c][:n], borderMode=cv2.BORDER_REPLICATE)
        cv2.merge([s[:n] for s in strip], dst=out[y:y + n])
    return out
