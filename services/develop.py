"""Develop use cases: what the develop panel offers, rendering an edit (preview, file,
mask), originals for before/after, grid thumbnails, the histogram, RAW white balance
and lens corrections (``maskroom render|thumbs|histogram``, ``edit --wb/--lens`` and the
app's loupe, develop panel and grid)."""
from __future__ import annotations

import colorsys
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import select

from maskroom.catalog import Catalog, edits
from maskroom.catalog.schema import EditVersion, Image
from maskroom.core.errors import InvalidValue
from maskroom.core.progress import Progress
from maskroom.core.recipe import Recipe
from maskroom.engine import thumbnails
from maskroom.engine.develop import adjustments as adj
from maskroom.engine.develop import render
from maskroom.engine.develop.adjustments.base import CURVE_KEYS, DEFAULTS
from maskroom.engine.develop.adjustments.curves import eval_point_curve
from maskroom.engine.develop.histogram import Histogram, histogram
from maskroom.engine.develop.histogram import clipping_overlay as _clipping_overlay
from maskroom.engine.develop.adjustments.color import neutralising_white_balance
from maskroom.engine.develop.geometry import fill_scale, level_angle, source_point
from maskroom.catalog.settings import get_setting, set_setting
from maskroom.core.values import check_lens_default
from maskroom.engine.develop.lens import LENS_DEFAULT_SETTING, LensError, find_profile, lens_key
from maskroom.engine.develop.pipeline import ORDER
from maskroom.engine.develop.raw_wb import WhiteBalanceError, check_point, pick_multipliers, wb_spec
from maskroom.engine.develop.render import render_preview_srgb
from maskroom.engine.develop.source import is_raw, load_source
from maskroom.engine.export.writers import write_image
from maskroom.engine.imageio.previews import (
    derivative_path,
    load_preview,
    thumbnail_file,
)


log = logging.getLogger("maskroom.develop")


# -- what the panel offers ------------------------------------------------------------------
@dataclass(frozen=True)
class AdjustmentSpec:
    name: str
    label: str
    minimum: float
    maximum: float
    default: float = 0.0
    step: float = 1.0
    group: str = "Basic"
    tab: str = ""  # a sub-group inside a section (the mixer's Hue/Saturation/Luminance tabs...)


# Lightroom's order of the Develop panel's sections.
SECTIONS = ("Basic", "Tone Curve", "Colour Mixer", "Colour Grading", "Detail", "Effects")
_MODULE_SECTIONS = {"tone": "Basic", "color": "Basic", "detail": "Detail", "effects": "Effects"}
_KEY_SECTIONS = {"curve": "Tone Curve", "mixer": "Colour Mixer", "grade": "Colour Grading",
                 "vignette": "Effects", "grain": "Effects"}


def _key_spec(name: str, lo: float, hi: float, default: float) -> AdjustmentSpec:
    """A module key as a slider: ``mixer.blue.saturation`` -> section Colour Mixer, tab
    Saturation, label Blue; ``grade.shadows.hue`` -> Colour Grading, tab Shadows, label Hue."""
    parts = name.split(".")
    section = _KEY_SECTIONS.get(parts[0], "Basic")
    title = lambda t: t.replace("_", " ").capitalize()  # noqa: E731
    if parts[0] == "mixer" and parts[1] != "point":
        tab, label = title(parts[2]), title(parts[1])
    elif parts[0] == "mixer":
        tab, label = "Point colour", title(parts[2])
    elif parts[0] == "grade" and len(parts) == 3:
        tab, label = title(parts[1]), title(parts[2])
    elif parts[0] in ("vignette", "grain"):
        tab, label = "", f"{title(parts[0])} {parts[1].replace('_', ' ')}"
    else:
        tab, label = "", title(parts[-1])
    return AdjustmentSpec(name, label, float(lo), float(hi), float(default), 1.0, section, tab)


def adjustment_specs() -> list[AdjustmentSpec]:
    """Every slider the develop engine registers, with its range, in panel order.

    Modules (tone curve, mixer, grading, finishing) appear through their keys; curve
    keys (point lists) are edited by the curve widget, not a slider."""
    specs = []
    for name, a in adj.REGISTRY.items():
        if a.keys:
            continue
        group = _MODULE_SECTIONS.get(a.fn.__module__.rsplit(".", 1)[-1], "Effects")
        step = 0.05 if (a.hi - a.lo) <= 20 else 1.0
        specs.append(AdjustmentSpec(name, name.replace("_", " ").capitalize(), float(a.lo), float(a.hi),
                                    float(getattr(a, "neutral", 0.0)), step, group))
    for name, (lo, hi, _doc) in adj.PARAMETERS.items():
        if name in CURVE_KEYS:
            continue
        if name in DEFAULTS:
            specs.append(_key_spec(name, lo, hi, DEFAULTS[name]))
        else:
            group = "Basic" if name.startswith("color") else "Effects"
            specs.append(AdjustmentSpec(name, name.replace("_", " ").capitalize(), float(lo), float(hi),
                                        float(lo), 1.0, group))
    rank = {g: i for i, g in enumerate(SECTIONS)}
    order = {n: i for i, n in enumerate(ORDER)}
    # stable: pipeline order in Basic/Detail/Effects, registration order inside modules
    specs.sort(key=lambda sp: (rank.get(sp.group, 99), order.get(sp.name, len(order))))
    return specs


def histogram_of(rgb: np.ndarray) -> Histogram:
    """The histogram of a displayed sRGB uint8 image (engine/develop/histogram.py)."""
    return histogram(rgb)


def clipping_overlay(rgb: np.ndarray) -> np.ndarray:
    """The image with clipped shadows/highlights marked (the J key)."""
    return _clipping_overlay(rgb)


def curve_values(points, xs):
    """The engine's point curve (monotone cubic) at ``xs`` (what the curve widget draws)."""
    return eval_point_curve(points, xs)


# -- rendering ------------------------------------------------------------------------------
def _image(catalog: Catalog, image_id: int) -> Image:
    with catalog.session() as s:
        image = s.get(Image, image_id)
        if image is None:
            raise LookupError(f"no image with id {image_id}")
        s.expunge(image)
    return image


def render_preview(catalog: Catalog, version_id: int, long_edge: int | None = None,
                   recipe: Recipe | None = None) -> np.ndarray:
    """The version rendered to sRGB uint8 RGB; ``recipe`` renders an unsaved edit (a slider drag)."""
    if recipe is None:
        return render.render_preview_srgb(catalog, version_id, long_edge=long_edge)
    with catalog.session() as s:
        image = s.get(EditVersion, version_id).image
        s.expunge(image)
    result = render.render_recipe_for(catalog, image, recipe, version_id=version_id, scale="preview",
                                      long_edge=long_edge)
    rgb, _icc = render.to_output(result.linear, "srgb", 8)
    return rgb


OUTPUT_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff", ".tiff": "tiff"}


def render_to_file(catalog: Catalog, version_id: int, out: Path, *, long_edge: int | None = None,
                   colorspace: str = "srgb", bits: int = 8, mask_layer: str | None = None) -> None:
    """``maskroom render``: the edit (or one layer's mask, greyscale) written to OUT."""
    fmt = OUTPUT_FORMATS.get(Path(out).suffix.lower())
    if fmt is None:
        raise InvalidValue(f"{out}: unknown extension (use .png, .jpg or .tif)")
    if mask_layer:
        alpha = render.mask_alpha(catalog, version_id, mask_layer, scale="full", long_edge=long_edge)
        grey = (np.clip(alpha, 0, 1) * 255 + 0.5).astype(np.uint8)
        write_image(out, np.repeat(grey[..., None], 3, axis=2), fmt, bits=8, icc=None)
    else:
        result = render.render_version(catalog, version_id, scale="full", long_edge=long_edge)
        pixels, icc = render.to_output(result.linear, colorspace, int(bits))
        write_image(out, pixels, fmt, bits=int(bits), icc=icc, quality=92)


def original_preview(catalog: Catalog, image_id: int, long_edge: int | None = None) -> np.ndarray:
    """The unedited image (the importer's cached preview, sRGB uint8), for before/after."""
    rgb = load_preview(catalog, _image(catalog, image_id))
    h, w = rgb.shape[:2]
    if long_edge and max(h, w) > long_edge:
        s = long_edge / max(h, w)
        rgb = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return rgb


# -- thumbnails -------------------------------------------------------------------------------
def thumbnail_path(catalog: Catalog, image_id: int) -> Path:
    return Path(thumbnail_file(catalog, _image(catalog, image_id)))


def thumbnail_plans(catalog: Catalog, entries: Sequence[tuple[int, int | None]]) -> dict:
    """For grid cells (image id, copy version id or None): edited or not, and the key
    that changes with the cell's pixels (engine.thumbnails.plan_thumbnails)."""
    return thumbnails.plan_thumbnails(catalog, entries)


def edited_thumbnail(catalog: Catalog, image_id: int, version_id: int | None = None, plan=None, load: bool = True):
    """A cell's edited thumbnail (rendered and cached on first use), None when unedited;
    the same function as ``maskroom thumbs --edited``."""
    return thumbnails.edited_thumbnail(catalog, image_id, version_id, plan=plan, load=load)


def grid_cells(catalog: Catalog, image_ids: list[int]) -> list[tuple[int, int | None]]:
    """Each photo's cell and its virtual copies' cells, in the grid's order."""
    copies: dict[int, list[int]] = {}
    with catalog.session() as s:
        for i in range(0, len(image_ids), 500):
            for image_id, vid in s.execute(
                    select(EditVersion.image_id, EditVersion.id).where(
                        EditVersion.image_id.in_(image_ids[i:i + 500]), EditVersion.is_master.is_(False))
                    .order_by(EditVersion.id)):
                copies.setdefault(image_id, []).append(vid)
    return [cell for i in image_ids for cell in [(i, None), *((i, v) for v in copies.get(i, ()))]]


def make_thumbnails(catalog: Catalog, image_ids: list[int], progress: Progress, *, edited: bool = False,
                    derive_masks: bool = False, jobs: int = 1, cluster: str | None = None) -> Iterator[dict]:
    """``maskroom thumbs``: the imported thumbnails (or, ``edited``, the edited ones the
    grid shows for every version); one result dict per cell, errors included."""
    if edited:
        cells = grid_cells(catalog, image_ids)
        yield from thumbnails.render_edited_thumbnails(catalog, cells, derive_masks=derive_masks, progress=progress,
                                                       jobs=jobs, cluster=cluster)
        return
    progress.start(len(image_ids), "thumbnails")
    for image_id in image_ids:
        res = {"image_id": image_id, "version_id": None, "status": "error", "path": None}
        try:
            image = _image(catalog, image_id)
            had = derivative_path(catalog.cache_dir, "thumb", image.content_hash).exists()
            res["path"] = str(thumbnail_file(catalog, image))
            res["status"] = "cached" if had else "made"
        except Exception as exc:  # one unreadable original must not stop the batch
            res["error"] = str(exc)
        progress.advance(1, str(image_id))
        yield res


def prune_thumbnails(catalog: Catalog) -> int:
    """Delete the thumbnails of virtual copies that are gone."""
    return thumbnails.prune(catalog)


# -- histogram, white balance, lens corrections ----------------------------------------
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


def pick_white_balance(catalog, image_id: int, x: float, y: float, settings: dict | None = None) -> dict:
    """The ``raw`` settings that make the point (x, y) of the rendered frame neutral (RAW
    files only); ``settings``, the recipe's, place the point through its crop and
    straighten, as the eyedropper and ``--wb-pick`` are given it on the cropped photo."""
    check_point(x, y)
    with catalog.session() as s:
        image = s.get(Image, image_id)
        if image is None:
            raise LookupError(f"no image with id {image_id}")
        path, w, h = Path(image.path), image.width or 1, image.height or 1
    if not is_raw(path):
        raise WhiteBalanceError(f"{path.name}: --wb-pick works on RAW files; use --set temperature/tint")
    sx, sy = source_point(x, y, settings or {}, w, h)
    return {"white_balance": "custom", "wb_multipliers": pick_multipliers(path, sx, sy)}


PICK_RADIUS = 0.004  # of the long edge: the patch the eyedropper averages (5 px at 1600 px)


def neutral_temperature_tint(catalog, image_id: int, x: float, y: float, settings: dict | None = None) -> dict:
    """For a photo that is not RAW: the ``temperature`` and ``tint`` adjustments that make
    the point (x, y) of the rendered frame neutral (settings: the recipe's, for its crop,
    straighten and lens corrections).  White balance is the pipeline's first step, so the
    patch is judged on the source before any other adjustment."""
    check_point(x, y)
    settings = settings or {}
    image = _image(catalog, image_id)
    lin, _digest = load_source(catalog, image, "preview", None, settings)
    h, w = lin.shape[:2]
    sx, sy = source_point(x, y, settings, w, h)
    r = max(2, round(PICK_RADIUS * max(h, w)))
    cx, cy = min(w - 1, int(sx * w)), min(h - 1, int(sy * h))
    patch = lin[max(0, cy - r):cy + r + 1, max(0, cx - r):cx + r + 1].reshape(-1, 3)
    mean = patch.mean(axis=0)
    if float(patch.max()) >= 0.995:
        raise WhiteBalanceError(f"{image.filename}: the picked point is clipped; pick a lighter grey that is not white")
    if float(mean.min()) < 0.003:
        raise WhiteBalanceError(f"{image.filename}: the picked point is too dark to judge its colour")
    temperature, tint = neutralising_white_balance(mean)
    if max(abs(temperature), abs(tint)) >= 100.0:
        log.warning("%s: the picked colour is further off than temperature and tint reach; "
                    "brought as far as they go", image.filename)
    return {"temperature": round(temperature, 1), "tint": round(tint, 1)}


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


# -- the develop panel's RAW white balance, lens corrections and eyedroppers ----------------
WB_MODES = ("camera", "auto", "daylight", "cloudy", "shade", "tungsten", "fluorescent", "flash")


def is_raw_image(catalog: Catalog, image_id: int) -> bool:
    with catalog.session() as s:
        image = s.get(Image, image_id)
        return image is not None and is_raw(Path(image.path))


def lens_profile(catalog: Catalog, image_id: int) -> tuple[dict | None, str]:
    """(lens settings for automatic corrections, a line naming the profile) or
    (None, the reason there is none, e.g. "no profile for this lens: ...")."""
    try:
        return lens_settings(catalog, image_id, "auto")
    except (LensError, LookupError) as exc:
        return None, str(exc)


def lens_default(catalog: Catalog) -> str:
    """The user's lens-corrections default (auto | off) for edits that name none."""
    with catalog.session() as s:
        return get_setting(s, LENS_DEFAULT_SETTING)


def set_lens_default(catalog: Catalog, value: str) -> str:
    """Set it (checked at the door); renders from now on follow it."""
    value = check_lens_default(value)
    with catalog.session() as s:
        set_setting(s, LENS_DEFAULT_SETTING, value)
    return value


def lens_state(catalog: Catalog, image_id: int, settings: dict) -> tuple[bool, str]:
    """What the Lens Corrections section shows for a photo's recipe settings: (on, a line
    naming the profile, or why there is none, and whether the default decided it)."""
    lens = settings.get("lens")
    if lens is not None and lens.get("correct") != "auto":
        return False, "Off for this photo"
    profile, line = lens_profile(catalog, image_id)
    if lens is not None:
        return profile is not None, line
    if lens_default(catalog) != "auto":
        return False, "Off (the default for photos without a setting)"
    return (True, f"{line} (by default)") if profile is not None else (False, f"Default auto, but {line}")


def picked_hue(rgb: np.ndarray, x: float, y: float) -> float:
    """sRGB HSV hue (degrees) of the displayed image around (x, y): the point-colour picker."""
    h, w = rgb.shape[:2]
    cx, cy = min(w - 1, int(x * w)), min(h - 1, int(y * h))
    px = rgb[max(0, cy - 2):cy + 3, max(0, cx - 2):cx + 3].reshape(-1, 3).mean(axis=0) / 255.0
    return round(colorsys.rgb_to_hsv(*px)[0] * 360.0, 1) % 360.0


# -- the crop tool ------------------------------------------------------------------------
def straighten_zoom(w: float, h: float, degrees: float) -> float:
    """How much the engine enlarges a w x h frame turned by ``degrees`` so no empty corner
    shows: the crop tool draws the photo turned and zoomed exactly as the render will."""
    return fill_scale(w, h, degrees)


def auto_straighten(catalog: Catalog, image_id: int) -> float | None:
    """The straighten angle that levels the photo's horizon (or uprights), measured on
    its unedited preview; None when no straight line shows (engine/develop/geometry.py)."""
    return level_angle(original_preview(catalog, image_id, long_edge=1600))
