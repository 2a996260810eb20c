"""Develop use cases: the histogram of a version's rendered preview, RAW white balance, lens
corrections."""
from __future__ import annotations

from pathlib import Path

from maskroom.catalog import edits
from maskroom.catalog.schema import Image
from maskroom.engine.develop.histogram import Histogram, histogram
from maskroom.engine.develop.lens import LensError, find_profile, lens_key
from maskroom.engine.develop.raw_wb import WhiteBalanceError, pick_multipliers, wb_spec
from maskroom.engine.develop.render import render_preview_srgb
from maskroom.engine.develop.source import is_raw

__all__ = ["LensError", "WhiteBalanceError", "version_histogram", "white_balance_settings", "pick_white_balance",
           "lens_settings"]


def version_histogram(catalog, image_id: int, version_id: int | None = None) -> Histogram:
    """RGB + luminance histogram and clipping counts of the version's rendered preview
    (the master when ``version_id`` is None).  LookupError/EditError for a bad id."""
    with catalog.session() as s:
        if s.get(Image, image_id) is None:
            raise LookupError(f"no image with id {image_id}")
        vid = edits.get_version(s, image_id, version_id).id
    return histogram(render_preview_srgb(catalog, vid))


def white_balance_settings(value: str) -> dict:
    """``--wb`` text -> the recipe's ``raw`` white-balance settings, validated:
    a mode (camera, auto, daylight, cloudy, shade, tungsten, fluorescent, flash) or
    ``KELVIN[,TINT]`` (e.g. ``5200`` or ``5200,+10``).  WhiteBalanceError otherwise."""
    text = value.strip().lower()
    if text and (text[0].isdigit() or text[0] in "+-."):
        kelvin, _, tint = text.partition(",")
        try:
            settings = {"white_balance": "kelvin", "temperature": float(kelvin), "tint": float(tint or 0)}
        except ValueError:
            raise WhiteBalanceError(f"--wb {value!r}: expected KELVIN[,TINT], e.g. 5200,+10") from None
    elif text in ("kelvin", "custom"):
        raise WhiteBalanceError(f"--wb {value!r}: give the Kelvin value itself, or pick with --wb-pick")
    else:
        settings = {"white_balance": text}
    wb_spec(settings)
    return settings


def pick_white_balance(catalog, image_id: int, x: float, y: float) -> dict:
    """The ``raw`` settings that make the photo's point (x, y) neutral (RAW files only)."""
    with catalog.session() as s:
        image = s.get(Image, image_id)
        if image is None:
            raise LookupError(f"no image with id {image_id}")
        path = Path(image.path)
    if not is_raw(path):
        raise WhiteBalanceError(f"{path.name}: --wb-pick works on RAW files; use --set temperature/tint")
    return {"white_balance": "custom", "wb_multipliers": pick_multipliers(path, x, y)}


def lens_settings(catalog, image_id: int, value: str) -> tuple[dict, str]:
    """``--lens`` (auto, off, or a lensfun lens model) -> (the recipe's ``lens``
    settings, a line saying what was matched).  LensError when no profile matches."""
    with catalog.session() as s:
        image = s.get(Image, image_id)
        if image is None:
            raise LookupError(f"no image with id {image_id}")
        s.expunge(image)
    text = value.strip()
    if text.lower() == "off":
        return {"correct": "off"}, "Lens corrections off"
    settings = {"correct": "auto"} if text.lower() == "auto" else {"correct": "auto", "profile": text}
    key = lens_key({"lens": settings}, image)
    _camera, lens = find_profile(key.maker, key.camera, key.lens)
    return settings, f"Lens corrections: {lens.maker} {lens.model}".replace(f"{lens.maker} {lens.maker}", lens.maker)
